/**
 * spec/vectors/log.json: the transparency log's formats on fixed data, so another implementation
 * can check its tree hashing, proofs, checkpoints, signed notes and cosignatures against this one.
 * Keys are SHA-256 of fixed labels (test keys, never real ones); test/spec-vectors.test.ts checks
 * the file regenerates byte for byte and re-verifies every entry.
 */
import { sha256, signingPublicKey, toHex } from '@overlap/crypto';
import {
  consistencyProof,
  ed25519Cosigner,
  ed25519NoteSigner,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatVerifierKey,
  inclusionProof,
  leafHash,
  rootFromLeafHashes,
  signNote,
} from '@overlap/log';

const utf8 = (text: string) => new TextEncoder().encode(text);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The eight leaves of the RFC 6962 / transparency-dev reference tree (hex). */
const REFERENCE_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];

export function buildLogVectors(): string {
  const leaves = REFERENCE_LEAVES.map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));
  const hashes = leaves.map(leafHash);
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8];
  const logSeed = sha256(utf8('OVERLAP-V1 test vector: log key'));
  const witnessSeed = sha256(utf8('OVERLAP-V1 test vector: witness key'));
  const origin = 'relay.forum.example/overlap-test';
  const witness = 'witness.lab.example/test';
  const checkpointText = formatCheckpoint({ origin, size: 8, rootHash: rootFromLeafHashes(hashes), extensions: [] });
  const logSigned = signNote(checkpointText, [ed25519NoteSigner(origin, logSeed)]);
  const cosigned = signNote(checkpointText, [ed25519Cosigner(witness, witnessSeed, 1798761600)]);
  const vectors = {
    description:
      'Transparency log vectors (spec/log.md): RFC 9162 tree hashes and proofs over the 8 reference leaves, and a C2SP checkpoint signed as a signed-note with an Ed25519 log key and a tlog-cosignature v1 witness cosignature, and a tlog-witness add-checkpoint request with its answer. Hashes in proofs and roots are base64, leaves hex; keys are SHA-256 of fixed labels (test keys).',
    leaves: REFERENCE_LEAVES,
    leaf_hashes: hashes.map(b64),
    roots: sizes.map((size) => ({ size, root: b64(rootFromLeafHashes(hashes.slice(0, size))) })),
    inclusion: sizes.flatMap((size) =>
      Array.from({ length: size }, (_, index) => ({
        size,
        index,
        proof: inclusionProof(hashes.slice(0, size), index).map(b64),
      })),
    ),
    consistency: sizes.flatMap((size2) =>
      sizes
        .filter((size1) => size1 <= size2)
        .map((size1) => ({ size1, size2, proof: consistencyProof(hashes.slice(0, size2), size1).map(b64) })),
    ),
    checkpoint: {
      log_seed: toHex(logSeed),
      log_verifier_key: formatVerifierKey(origin, signingPublicKey(logSeed)),
      witness_seed: toHex(witnessSeed),
      witness_verifier_key: formatVerifierKey(witness, signingPublicKey(witnessSeed), 0x04),
      cosignature_timestamp: 1798761600,
      text: checkpointText,
      signed_note: signNote(checkpointText, [
        ed25519NoteSigner(origin, logSeed),
        ed25519Cosigner(witness, witnessSeed, 1798761600),
      ]),
    },
    witness: {
      description:
        'A C2SP tlog-witness add-checkpoint (spec/log.md §7) from a witness that last cosigned the tree of size 5, for the checkpoint above signed by the log alone, and the 200 answer of the witness above at the cosignature timestamp.',
      add_checkpoint_request: formatAddCheckpointRequest({
        oldSize: 5,
        proof: consistencyProof(hashes, 5),
        checkpoint: logSigned,
      }),
      add_checkpoint_response: cosigned.slice(checkpointText.length + 1),
    },
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
