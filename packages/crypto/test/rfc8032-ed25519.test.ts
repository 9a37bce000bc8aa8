import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect } from 'vitest';
import {
  assertPublicKey,
  CryptoError,
  generateSigningKeyPair,
  keyId,
  sign,
  signingPublicKey,
  verify,
} from '../src/index.js';
import { BACKENDS, hex, unhex } from './backends.js';

const rfc = JSON.parse(readFileSync(new URL('./vectors/rfc7748-rfc8032.json', import.meta.url), 'utf8')).ed25519 as {
  vectors: { secretKey: string; publicKey: string; message: string; signature: string }[];
};

interface WycheproofGroup {
  publicKey: { pk: string };
  tests: { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid'; flags: string[] }[];
}
const wycheproof = (
  JSON.parse(readFileSync(new URL('./vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as {
    testGroups: WycheproofGroup[];
  }
).testGroups.flatMap((g) => g.tests.map((t) => ({ ...t, pk: g.publicKey.pk })));

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const leToBig = (b: Uint8Array) => BigInt(`0x${hex(Uint8Array.from(b).reverse()) || '0'}`);
const bigToLe = (x: bigint) => unhex(x.toString(16).padStart(64, '0')).reverse();
const IDENTITY = unhex(`01${'00'.repeat(31)}`);

describe.each(BACKENDS)('Ed25519 on the %s backend', (name) => {
  const options = { backend: name };

  test.each(rfc.vectors.map((v, i) => [i + 1, v] as const))(
    'RFC 8032 §7.1 TEST %i: key, signature, verify',
    (_i, v) => {
      expect(hex(signingPublicKey(unhex(v.secretKey), options))).toBe(v.publicKey);
      expect(hex(sign(unhex(v.secretKey), unhex(v.message), options))).toBe(v.signature);
      expect(verify(unhex(v.publicKey), unhex(v.message), unhex(v.signature), options)).toBe(true);
    },
  );

  test(`Wycheproof: all ${wycheproof.length} vectors get the expected verdict`, () => {
    for (const t of wycheproof) {
      let verdict: boolean;
      try {
        verdict = verify(unhex(t.pk), unhex(t.msg), unhex(t.sig), options);
      } catch (error) {
        // Only a signature of the wrong length may be refused as malformed.
        expect((error as CryptoError).code, `tcId ${t.tcId}`).toBe('BAD_LENGTH');
        verdict = false;
      }
      expect(verdict, `tcId ${t.tcId} ${t.comment} ${t.flags.join(',')}`).toBe(t.result === 'valid');
    }
  });

  test('a non-canonical S (S + L) is rejected although [S]B is the same point', () => {
    const v = rfc.vectors[0] as (typeof rfc.vectors)[number];
    const sig = unhex(v.signature);
    const malleated = Uint8Array.from(sig);
    malleated.set(bigToLe(leToBig(sig.subarray(32)) + L), 32);
    expect(verify(unhex(v.publicKey), unhex(v.message), malleated, options)).toBe(false);
  });

  test('the all-identity forgery (A = R = identity, S = 0) is rejected: the small-order rule', () => {
    const forged = new Uint8Array(64);
    forged.set(IDENTITY, 0);
    expect(() => verify(IDENTITY, new Uint8Array([1, 2, 3]), forged, options)).toThrow(
      expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }),
    );
  });

  test('a signature whose R has small order is rejected', () => {
    const { secretKey, publicKey } = generateSigningKeyPair(options);
    const sig = sign(secretKey, new Uint8Array([9]), options);
    for (const r of [IDENTITY, unhex(`ec${'ff'.repeat(30)}7f`), unhex(`${'00'.repeat(31)}80`)]) {
      const bad = Uint8Array.from(sig);
      bad.set(r, 0);
      expect(verify(publicKey, new Uint8Array([9]), bad, options)).toBe(false);
    }
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat(63), fc.integer({ min: 1, max: 255 })], { numRuns: 25 })(
    'sign then verify holds, and any flipped signature byte breaks it',
    (message, at, delta) => {
      const { secretKey, publicKey } = generateSigningKeyPair(options);
      const sig = sign(secretKey, message, options);
      expect(verify(publicKey, message, sig, options)).toBe(true);
      const flipped = Uint8Array.from(sig);
      flipped[at] = ((flipped[at] as number) + delta) & 0xff;
      expect(verify(publicKey, message, flipped, options)).toBe(false);
    },
  );
});

describe('Ed25519 across backends and inputs', () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 })], { numRuns: 25 })(
    'both backends derive the same key and the same (deterministic) signature',
    (seed, message) => {
      expect(hex(signingPublicKey(seed, { backend: 'native' }))).toBe(
        hex(signingPublicKey(seed, { backend: 'portable' })),
      );
      expect(hex(sign(seed, message, { backend: 'native' }))).toBe(hex(sign(seed, message, { backend: 'portable' })));
    },
  );

  test.each([
    ['a 31-byte key', new Uint8Array(31), new Uint8Array(64), 'BAD_LENGTH'],
    ['a 63-byte signature', unhex(rfc.vectors[0]?.publicKey as string), new Uint8Array(63), 'BAD_LENGTH'],
    ['a key with y >= p', unhex(`ee${'ff'.repeat(30)}7f`), new Uint8Array(64), 'BAD_PUBLIC_KEY'],
    ['a small-order key', unhex(`${'00'.repeat(31)}80`), new Uint8Array(64), 'BAD_PUBLIC_KEY'],
  ])('verify throws for %s', (_label, publicKey, signature, code) => {
    expect(() => verify(publicKey, new Uint8Array(0), signature)).toThrow(expect.objectContaining({ code }));
  });

  test('assertPublicKey also refuses an encoding that is not on the curve', () => {
    // y = 2 has no x on edwards25519 (2^2 - 1 over 1 + d·4 is not a square).
    expect(() => assertPublicKey(unhex(`02${'00'.repeat(31)}`))).toThrow(
      expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }),
    );
    expect(() => assertPublicKey(unhex(rfc.vectors[0]?.publicKey as string))).not.toThrow();
  });

  test('key id: 32 lowercase hex characters, stable, and different for different keys', () => {
    const pk = unhex(rfc.vectors[0]?.publicKey as string);
    expect(keyId(pk)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyId(pk)).toBe(keyId(Uint8Array.from(pk)));
    expect(keyId(pk)).not.toBe(keyId(unhex(rfc.vectors[1]?.publicKey as string)));
    expect(() => keyId(IDENTITY)).toThrow(CryptoError);
  });
});

describe('keys and signatures with a small-order component', () => {
  // A' = aB + T8 with T8 of order 8. An honest-looking signature (R = rB, S = r + k·a) satisfies
  // the cofactored equation always, the cofactorless one only when 8 divides k.
  const { Point } = ed25519;
  const ORDER = Point.Fn.ORDER;
  const T8 = Point.fromHex(ED25519_TORSION_SUBGROUP[1] as string);
  const a = 0x1234567890abcdefn;
  const mixedKey = Point.BASE.multiply(a).add(T8);
  const A = mixedKey.toBytes();

  const forge = (message: Uint8Array, r: bigint) => {
    const R = Point.BASE.multiply(r).toBytes();
    const k = bytesToNumberLE(sha512(Uint8Array.from([...R, ...A, ...message]))) % ORDER;
    const S = (r + k * a) % ORDER;
    return { signature: Uint8Array.from([...R, ...bigToLe(S)]), cofactorlessHolds: k % 8n === 0n };
  };

  test('both backends give the cofactorless verdict, so they never disagree', () => {
    let accepted = 0;
    for (let i = 1; i <= 24; i++) {
      const message = Uint8Array.of(i);
      const { signature, cofactorlessHolds } = forge(message, BigInt(1000 + i));
      const native = verify(A, message, signature, { backend: 'native' });
      const portable = verify(A, message, signature, { backend: 'portable' });
      expect(portable, `message ${i}`).toBe(native);
      expect(native, `message ${i}`).toBe(cofactorlessHolds);
      if (native) accepted++;
    }
    expect(accepted).toBeLessThan(24); // the cofactored rule would have accepted all of them
  });

  test('enrollment (assertPublicKey) refuses such a key', () => {
    expect(() => assertPublicKey(A)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }));
  });

  test('keys that passed are remembered, refused ones never: the same key is refused every time', () => {
    const honest = Point.BASE.multiply(a).toBytes();
    assertPublicKey(honest);
    assertPublicKey(Uint8Array.from(honest));
    for (let i = 0; i < 3; i++) {
      expect(() => assertPublicKey(A)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }));
      expect(() => keyId(A)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }));
    }
  });
});
