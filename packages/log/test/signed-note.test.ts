import { fc, test } from '@fast-check/vitest';
import { generateSigningKeyPair, sha256, signingPublicKey } from '@overlap/crypto';
import { describe, expect } from 'vitest';
import {
  ed25519CosignatureVerifier,
  ed25519Cosigner,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  formatVerifierKey,
  LogError,
  noteKeyId,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  signNote,
  verifySignedNote,
} from '../src/index.js';

const log = generateSigningKeyPair();
const witness = generateSigningKeyPair();
const other = generateSigningKeyPair();
const LOG = 'relay.forum.example/overlap';
const WITNESS = 'witness.lab-a.example/w1';

const checkpointText = formatCheckpoint({
  origin: LOG,
  size: 20852163,
  rootHash: sha256(Uint8Array.of(1)),
  extensions: [],
});

describe('C2SP tlog-checkpoint', () => {
  test('formats the three lines and parses them back', () => {
    expect(checkpointText).toBe(`${LOG}\n20852163\n${Buffer.from(sha256(Uint8Array.of(1))).toString('base64')}\n`);
    expect(parseCheckpoint(checkpointText)).toEqual({
      origin: LOG,
      size: 20852163,
      rootHash: sha256(Uint8Array.of(1)),
      extensions: [],
    });
  });

  test.each([
    ['no final newline', `${LOG}\n1\n${'A'.repeat(43)}=`],
    ['two lines', `${LOG}\n1\n`],
    ['an empty origin', `\n1\n${Buffer.alloc(32).toString('base64')}\n`],
    ['a leading zero', `${LOG}\n01\n${Buffer.alloc(32).toString('base64')}\n`],
    ['a negative size', `${LOG}\n-1\n${Buffer.alloc(32).toString('base64')}\n`],
    ['a 31-byte root', `${LOG}\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['non-canonical base64', `${LOG}\n1\n${Buffer.alloc(32).toString('base64').replace('A=', 'B=')}\n`],
    ['an empty extension line', `${LOG}\n1\n${Buffer.alloc(32).toString('base64')}\n\n`],
  ])('rejects %s with BAD_CHECKPOINT', (_label, text) => {
    expect(() => parseCheckpoint(text)).toThrow(expect.objectContaining({ code: 'BAD_CHECKPOINT' }));
  });

  test.prop([fc.string({ maxLength: 200 })])('never throws anything but a typed error on arbitrary text', (text) => {
    try {
      parseCheckpoint(text);
    } catch (error) {
      expect(error).toBeInstanceOf(LogError);
    }
  });
});

describe('interoperability with the Go reference (golang.org/x/mod/sumdb/note)', () => {
  // The example key pair and signed note of the Go implementation's documentation and tests.
  const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const SEED = Uint8Array.from(Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1));
  const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const NOTE = `${TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

  test('our signer reproduces the published note byte for byte, and our verifier accepts it', () => {
    const signer = ed25519NoteSigner('PeterNeumann', SEED);
    expect(Buffer.from(signer.keyId).toString('hex')).toBe('c74f20a3');
    expect(signNote(TEXT, [signer])).toBe(NOTE);
    expect(verifySignedNote(NOTE, [parseVerifierKey(VKEY)]).verifiedBy).toEqual(['PeterNeumann']);
    expect(formatVerifierKey('PeterNeumann', signingPublicKey(SEED))).toBe(VKEY);
  });

  test.each([
    ['PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'a key ID that does not match'],
    ['PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'an upper-case key ID'],
    ['Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'a space in the name'],
    ['PeterNeumann+c74f20a3', 'no key'],
    ['PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', 'a key of the wrong length'],
  ])('refuses the verifier key %s (%s)', (vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });
});

describe('C2SP signed-note', () => {
  const logSigner = ed25519NoteSigner(LOG, log.secretKey);
  const logVerifier = ed25519NoteVerifier(LOG, log.publicKey);

  test('key IDs follow SHA-256(name || 0x0A || type || key)[:4]', () => {
    const expected = sha256(Uint8Array.from([...Buffer.from(`${LOG}\n`), 0x01, ...log.publicKey])).subarray(0, 4);
    expect(logSigner.keyId).toEqual(expected);
    expect(noteKeyId(LOG, 0x04, log.publicKey)).not.toEqual(expected);
  });

  test('a signed checkpoint verifies, and the parsed note has the signature line', () => {
    const note = signNote(checkpointText, [logSigner]);
    expect(note.startsWith(`${checkpointText}\n\u2014 ${LOG} `)).toBe(true);
    expect(verifySignedNote(note, [logVerifier])).toMatchObject({ text: checkpointText, verifiedBy: [LOG] });
    expect(parseSignedNote(note).signatures).toHaveLength(1);
  });

  test('unknown signers are ignored; a known key whose signature fails rejects the note', () => {
    const stranger = ed25519NoteSigner('stranger.example/k', other.secretKey);
    const note = signNote(checkpointText, [stranger, logSigner]);
    expect(verifySignedNote(note, [logVerifier]).verifiedBy).toEqual([LOG]);
    const forged = signNote(checkpointText, [{ ...ed25519NoteSigner(LOG, other.secretKey), keyId: logSigner.keyId }]);
    expect(() => verifySignedNote(forged, [logVerifier])).toThrow(
      expect.objectContaining({ code: 'NOTE_NOT_VERIFIED' }),
    );
    expect(() => verifySignedNote(signNote(checkpointText, [stranger]), [logVerifier])).toThrow(
      expect.objectContaining({ code: 'NOTE_NOT_VERIFIED', message: expect.stringContaining('no known key') }),
    );
  });

  test('a changed text fails', () => {
    const note = signNote(checkpointText, [logSigner]);
    const tampered = note.replace('20852163', '20852164');
    expect(() => verifySignedNote(tampered, [logVerifier])).toThrow(
      expect.objectContaining({ code: 'NOTE_NOT_VERIFIED' }),
    );
  });

  test('timestamped witness cosignatures (tlog-cosignature v1.0.1) verify, and required signers are enforced', () => {
    const cosigner = ed25519Cosigner(WITNESS, witness.secretKey, 1679315147);
    const note = signNote(checkpointText, [logSigner, cosigner]);
    const cosignatureVerifier = ed25519CosignatureVerifier(WITNESS, witness.publicKey);
    const result = verifySignedNote(note, [logVerifier, cosignatureVerifier], { require: [LOG, WITNESS] });
    expect(result.verifiedBy).toEqual([LOG, WITNESS]);
    expect(cosignatureVerifier.lastTimestamp).toBe(1679315147);
    // The cosignature's 8-byte timestamp is part of what is signed: changing it breaks the signature.
    const parsed = parseSignedNote(note);
    const cosig = parsed.signatures[1];
    expect(cosig?.signature.length).toBe(72);
    expect(() =>
      verifySignedNote(signNote(checkpointText, [logSigner]), [logVerifier], { require: [LOG, WITNESS] }),
    ).toThrow(expect.objectContaining({ code: 'NOTE_NOT_VERIFIED', message: expect.stringContaining(WITNESS) }));
    const shifted = ed25519Cosigner(WITNESS, witness.secretKey, 1679315148).sign(
      new TextEncoder().encode(checkpointText),
    );
    const swapped = Uint8Array.from(cosig?.signature ?? []);
    swapped.set(shifted.subarray(0, 8), 0);
    const bad = note.replace(
      Buffer.from([...(cosig?.keyId ?? []), ...(cosig?.signature ?? [])]).toString('base64'),
      Buffer.from([...(cosig?.keyId ?? []), ...swapped]).toString('base64'),
    );
    expect(() => verifySignedNote(bad, [logVerifier, ed25519CosignatureVerifier(WITNESS, witness.publicKey)])).toThrow(
      expect.objectContaining({ code: 'NOTE_NOT_VERIFIED' }),
    );
  });

  test.each([
    ['no blank line', `${checkpointText}\u2014 ${LOG} AAAAAAAA\n`],
    ['no signature lines', `${checkpointText}\n`],
    ['a missing final newline', `${checkpointText}\n\u2014 ${LOG} AAAAAAAA`],
    ['a hyphen instead of an em dash', `${checkpointText}\n- ${LOG} AAAAAAAA\n`],
    ['a name with a plus', `${checkpointText}\n\u2014 a+b AAAAAAAA\n`],
    ['a signature too short for a key ID', `${checkpointText}\n\u2014 ${LOG} AAAA\n`],
    ['non-canonical base64', `${checkpointText}\n\u2014 ${LOG} AAAAAAB=\n`],
    ['a control character', `x\u0001\n\n\u2014 ${LOG} AAAAAAAA\n`],
    ['a tab', `x\ty\n\n\u2014 ${LOG} AAAAAAAA\n`],
  ])('rejects a note with %s as BAD_NOTE', (_label, note) => {
    expect(() => parseSignedNote(note)).toThrow(expect.objectContaining({ code: 'BAD_NOTE' }));
  });

  test.prop([fc.string({ maxLength: 300 })])('fuzz: arbitrary text is a note or a typed error', (text) => {
    try {
      parseSignedNote(text);
      parseSignedNote(`${text}\n\n\u2014 ${LOG} AAAAAAAA\n`);
    } catch (error) {
      expect(error).toBeInstanceOf(LogError);
    }
  });

  test('a bad verifier key is refused up front', () => {
    expect(() => ed25519NoteVerifier(LOG, new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    expect(() => ed25519NoteSigner('has space', log.secretKey)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });
});
