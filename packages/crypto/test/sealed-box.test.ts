import { createRequire } from 'node:module';
import { fc, test } from '@fast-check/vitest';
import nacl from 'tweetnacl';
import { describe, expect } from 'vitest';
import { generateSealingKeyPair, openSealed, SEALED_BOX_OVERHEAD, seal, sealingPublicKey } from '../src/index.js';

// libsodium itself (crypto_box_seal) is the second implementation these are checked against.
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_box_seal(c: Uint8Array, m: Uint8Array, pk: Uint8Array): void;
  crypto_box_seal_open(m: Uint8Array, c: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
};

describe('sealed boxes', () => {
  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 30 })('seal then open returns the message', (message) => {
    const recipient = generateSealingKeyPair();
    const sealed = seal(message, recipient.publicKey);
    expect(sealed.length).toBe(message.length + SEALED_BOX_OVERHEAD);
    expect(openSealed(sealed, recipient)).toEqual(message);
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 30 })(
    'libsodium opens ours and we open libsodium’s',
    (message) => {
      const recipient = generateSealingKeyPair();
      const ours = seal(message, recipient.publicKey);
      const opened = new Uint8Array(message.length);
      expect(sodium.crypto_box_seal_open(opened, ours, recipient.publicKey, recipient.secretKey)).toBe(true);
      expect(opened).toEqual(message);

      const theirs = new Uint8Array(message.length + SEALED_BOX_OVERHEAD);
      sodium.crypto_box_seal(theirs, message, recipient.publicKey);
      expect(openSealed(theirs, recipient)).toEqual(message);
    },
  );

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 })], {
    numRuns: 30,
  })('any altered byte makes it fail to open, with SEALED_BOX_OPEN_FAILED', (message, at, delta) => {
    const recipient = generateSealingKeyPair();
    const sealed = seal(message, recipient.publicKey);
    const i = at % sealed.length;
    sealed[i] = ((sealed[i] as number) + delta) & 0xff;
    expect(() => openSealed(sealed, recipient)).toThrow(expect.objectContaining({ code: 'SEALED_BOX_OPEN_FAILED' }));
  });

  test('another recipient cannot open it; a truncated box is refused', () => {
    const recipient = generateSealingKeyPair();
    const other = generateSealingKeyPair();
    const sealed = seal(new Uint8Array([1, 2, 3]), recipient.publicKey);
    expect(() => openSealed(sealed, other)).toThrow(expect.objectContaining({ code: 'SEALED_BOX_OPEN_FAILED' }));
    expect(() => openSealed(sealed.subarray(0, SEALED_BOX_OVERHEAD - 1), recipient)).toThrow(
      expect.objectContaining({ code: 'SEALED_BOX_OPEN_FAILED' }),
    );
  });

  test('a box whose ephemeral key has low order is refused, as libsodium refuses it', () => {
    const recipient = generateSealingKeyPair();
    const sealed = seal(new Uint8Array([1, 2, 3]), recipient.publicKey);
    sealed.set(new Uint8Array(32), 0); // epk = 0, a low-order point
    expect(() => openSealed(sealed, recipient)).toThrow(expect.objectContaining({ code: 'SEALED_BOX_OPEN_FAILED' }));
    const opened = new Uint8Array(3);
    expect(sodium.crypto_box_seal_open(opened, sealed, recipient.publicKey, recipient.secretKey)).toBe(false);
  });

  test('the public key is X25519(sk, 9): RFC 7748 §6.1, and tweetnacl’s crypto_scalarmult_base', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const rfc7748 = [
      [
        '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
        '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
      ],
      [
        '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
        'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
      ],
    ];
    for (const [sk, pk] of rfc7748) expect(hex(sealingPublicKey(Buffer.from(sk as string, 'hex')))).toBe(pk);
    for (let i = 0; i < 20; i++) {
      const pair = generateSealingKeyPair();
      expect(hex(pair.publicKey)).toBe(hex(nacl.box.keyPair.fromSecretKey(pair.secretKey).publicKey));
    }
  });

  test('the public key derives from the secret key', () => {
    const pair = generateSealingKeyPair();
    expect(sealingPublicKey(pair.secretKey)).toEqual(pair.publicKey);
    expect(() => sealingPublicKey(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });
});
