import { fc, test } from '@fast-check/vitest';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect } from 'vitest';
import { portableSha256 } from '../src/digest.js';
import { CryptoError, HASH_TO_GROUP_DST, sha256 } from '../src/index.js';
import '../src/node/install.js'; // sha256 is node:crypto's from here on

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const utf8 = (text: string) => new TextEncoder().encode(text);

// The Node.js platform's (node:crypto, what `sha256` is here) and the portable one (@noble/hashes).
const IMPLEMENTATIONS: [string, (parts: Uint8Array[]) => Uint8Array][] = [
  ['node:crypto', (parts) => sha256(...parts)],
  ['portable', portableSha256],
];

describe.each(IMPLEMENTATIONS)('sha256 (%s)', (_name, digestOf) => {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf" and the empty message).
  test.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('FIPS 180-4 vector %j', (message, digest) => {
    expect(hex(digestOf([utf8(message)]))).toBe(digest);
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 5 })])(
    'hashing parts equals hashing their concatenation (checked against @noble/hashes)',
    (parts) => {
      expect(hex(digestOf(parts))).toBe(hex(nobleSha256(new Uint8Array(Buffer.concat(parts)))));
    },
  );
});

describe('sha256', () => {
  test('rejects a part that is not bytes, naming which part', () => {
    expect(() => sha256(new Uint8Array(1), 'x' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'BAD_TYPE', message: expect.stringContaining('part 1') }),
    );
    expect(() => sha256('x' as unknown as Uint8Array)).toThrow(CryptoError);
  });
});

test('the hash_to_group DST is the one spec/ciphersuite.md §2 fixes', () => {
  expect(HASH_TO_GROUP_DST).toBe('OVERLAP-V1-CS01-with-curve25519_XMD:SHA-512_ELL2_NU_');
});
