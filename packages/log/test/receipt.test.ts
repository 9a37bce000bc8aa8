import { generateSigningKeyPair } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import {
  consistencyProof,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  inclusionProof,
  leafHash,
  parseCheckpoint,
  requireConsistent,
  rootFromLeafHashes,
  signNote,
  verifyReceipt,
} from '../src/index.js';

const ORIGIN = 'relay.forum.example/overlap';
const log = generateSigningKeyPair();
const signer = ed25519NoteSigner(ORIGIN, log.secretKey);
const verifiers = [ed25519NoteVerifier(ORIGIN, log.publicKey)];
const leaves = Array.from({ length: 13 }, (_, i) => new TextEncoder().encode(`envelope ${i}`));
const hashes = leaves.map(leafHash);
const checkpointAt = (size: number, signWith = signer) =>
  signNote(
    formatCheckpoint({ origin: ORIGIN, size, rootHash: rootFromLeafHashes(hashes.slice(0, size)), extensions: [] }),
    [signWith],
  );

describe('receipts', () => {
  test('every leaf has a receipt that verifies against the log key', () => {
    for (let i = 0; i < 13; i++) {
      const receipt = { index: i, proof: inclusionProof(hashes, i), checkpoint: checkpointAt(13) };
      expect(verifyReceipt(leaves[i] as Uint8Array, receipt, verifiers).size).toBe(13);
    }
  });

  test('a receipt for other bytes, another index, or a checkpoint signed by another key is refused', () => {
    const receipt = { index: 4, proof: inclusionProof(hashes, 4), checkpoint: checkpointAt(13) };
    expect(() => verifyReceipt(leaves[5] as Uint8Array, receipt, verifiers)).toThrow(
      expect.objectContaining({ code: 'BAD_CHECKPOINT' }),
    );
    expect(() => verifyReceipt(leaves[4] as Uint8Array, { ...receipt, index: 5 }, verifiers)).toThrow(
      expect.objectContaining({ code: 'BAD_CHECKPOINT' }),
    );
    const impostor = ed25519NoteSigner(ORIGIN, generateSigningKeyPair().secretKey);
    expect(() =>
      verifyReceipt(leaves[4] as Uint8Array, { ...receipt, checkpoint: checkpointAt(13, impostor) }, verifiers),
    ).toThrow(expect.objectContaining({ code: 'NOTE_NOT_VERIFIED' }));
  });

  test('a checkpoint signed by a log key of another name is refused', () => {
    const otherName = ed25519NoteSigner('other.example/log', log.secretKey);
    const receipt = { index: 0, proof: inclusionProof(hashes, 0), checkpoint: checkpointAt(13, otherName) };
    expect(() =>
      verifyReceipt(leaves[0] as Uint8Array, receipt, [ed25519NoteVerifier('other.example/log', log.publicKey)]),
    ).toThrow(expect.objectContaining({ code: 'BAD_CHECKPOINT' }));
  });

  test('a lab accepts a larger checkpoint only with a consistency proof from the last one it kept', () => {
    const c5 = parseCheckpoint(`${checkpointAt(5).split('\n\n')[0]}\n`);
    const c13 = parseCheckpoint(`${checkpointAt(13).split('\n\n')[0]}\n`);
    expect(requireConsistent(undefined, c5, [])).toBe(c5);
    expect(requireConsistent(c5, c13, consistencyProof(hashes, 5))).toBe(c13);
    // A rewritten history: same size 13, different last leaf.
    const rewritten = [...hashes.slice(0, 12), leafHash(new TextEncoder().encode('forged'))];
    const forged = parseCheckpoint(
      formatCheckpoint({ origin: ORIGIN, size: 13, rootHash: rootFromLeafHashes(rewritten), extensions: [] }),
    );
    expect(() => requireConsistent(c5, forged, consistencyProof(hashes, 5))).toThrow(
      expect.objectContaining({ code: 'BAD_CHECKPOINT' }),
    );
    const empty = parseCheckpoint(
      formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: rootFromLeafHashes([]), extensions: [] }),
    );
    expect(requireConsistent(empty, c5, [])).toBe(c5);
    expect(() => requireConsistent(c13, c5, [])).toThrow(
      expect.objectContaining({ code: 'BAD_CHECKPOINT', message: expect.stringContaining('back') }),
    );
    expect(() => requireConsistent(c5, { ...c13, origin: 'other.example/log' }, consistencyProof(hashes, 5))).toThrow(
      expect.objectContaining({ code: 'BAD_CHECKPOINT' }),
    );
  });
});
