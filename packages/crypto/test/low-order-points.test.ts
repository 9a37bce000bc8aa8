/**
 * Every u whose X25519 result is all-zero for a clamped scalar: the points of order 1, 2, 4 and 8
 * on curve25519 and its twist (RFC 7748 §6.1; libsodium's has_small_order blocklist), in every
 * 32-byte encoding: reduced or not (u and u + p where u + p < 2^255), with bit 255 clear or set
 * (RFC 7748 masks it).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  BlindingKey,
  blind,
  CryptoError,
  findUnsafeTag,
  isCanonicalEncoding,
  isLowOrderEncoding,
  LOW_ORDER_ENCODINGS,
} from '../src/index.js';
import { BACKENDS, hex, nativeBackend, unhex } from './backends.js';
import { numberToBytesLE, P } from './bigint-field.js';

// The two order-8 u-coordinates, as decimal (RFC 7748 §6.1 discussion, noble) and as the byte
// strings of libsodium's blocklist: two independent sources that must agree.
const ORDER_8 = [
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
];
const LIBSODIUM_ORDER_8 = [
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
];

const lowOrderValues = [0n, 1n, P - 1n, ...ORDER_8, P, P + 1n];
const lowOrderEncodings = lowOrderValues.flatMap((u) => {
  const clear = numberToBytesLE(u);
  const set = Uint8Array.from(clear);
  set[31] = (set[31] as number) | 0x80;
  return [clear, set];
});

test('the order-8 points from both sources agree', () => {
  expect(ORDER_8.map((u) => hex(numberToBytesLE(u)))).toEqual(LIBSODIUM_ORDER_8);
});

test('there are 14 encodings, all distinct', () => {
  expect(new Set(lowOrderEncodings.map(hex)).size).toBe(14);
});

describe.each(BACKENDS)('low-order inputs on the %s backend', (name, backend) => {
  test.each(lowOrderEncodings.map((u) => [hex(u)]))('u = %s is LOW_ORDER_POINT', (uHex) => {
    const key = BlindingKey.generate();
    const call = () => blind(key, unhex(uHex), { backend: name });
    expect(call).toThrow(CryptoError);
    expect(call).toThrow(expect.objectContaining({ code: 'LOW_ORDER_POINT' }));
  });

  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...lowOrderEncodings)], { numRuns: 20 })(
    'rejected for any scalar',
    (scalar, u) => {
      expect(() => backend.x25519(scalar, u)).toThrow(expect.objectContaining({ code: 'LOW_ORDER_POINT' }));
    },
  );

  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })], {
    numRuns: name === 'portable' ? 20 : 200,
  })('random points are not rejected (they are not low-order with overwhelming probability)', (scalar, u) => {
    const isLowOrder = lowOrderEncodings.some((e) => hex(e) === hex(u));
    if (!isLowOrder) expect(backend.x25519(scalar, u)).toHaveLength(32);
  });
});

describe('the byte-level checks a keyless relay uses', () => {
  test('LOW_ORDER_ENCODINGS is exactly the 14 encodings X25519 rejects', () => {
    expect([...LOW_ORDER_ENCODINGS].sort()).toEqual(lowOrderEncodings.map(hex).sort());
    for (const u of lowOrderEncodings) expect(isLowOrderEncoding(u)).toBe(true);
    expect(isLowOrderEncoding(unhex('09'.padEnd(64, '0')))).toBe(false);
  });

  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })], {
    numRuns: 100,
  })('every X25519 output is canonical; a set top bit or a value >= p is not', (scalar, u) => {
    fc.pre(!lowOrderEncodings.some((e) => hex(e) === hex(u)));
    expect(isCanonicalEncoding(nativeBackend.x25519(scalar, u))).toBe(true);
    const high = Uint8Array.from(u);
    high[31] = (high[31] as number) | 0x80;
    expect(isCanonicalEncoding(high)).toBe(false);
  });

  test('p and p + 18 are not canonical; p - 1 is', () => {
    expect(isCanonicalEncoding(numberToBytesLE(P))).toBe(false);
    expect(isCanonicalEncoding(numberToBytesLE(P + 18n))).toBe(false);
    expect(isCanonicalEncoding(numberToBytesLE(P - 1n))).toBe(true);
  });
});

describe('findUnsafeTag over concatenated tags', () => {
  const oneByOne = (packed: Uint8Array) => {
    for (let i = 0; i * 32 < packed.length; i++) {
      const tag = packed.subarray(i * 32, i * 32 + 32);
      if (isLowOrderEncoding(tag)) return { index: i, reason: 'low_order' };
      if (!isCanonicalEncoding(tag)) return { index: i, reason: 'non_canonical' };
    }
    return undefined;
  };
  const special = [
    ...LOW_ORDER_ENCODINGS.map((hex) => unhex(hex)),
    unhex(`${'ff'.repeat(31)}7f`),
    unhex(`${'ec'}${'ff'.repeat(30)}7f`),
  ];
  test.prop([
    fc.array(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...special)), { maxLength: 12 }),
  ])('agrees with isLowOrderEncoding and isCanonicalEncoding tag by tag', (tags) => {
    const packed = new Uint8Array(tags.length * 32);
    tags.forEach((tag, i) => {
      packed.set(tag, i * 32);
    });
    expect(findUnsafeTag(packed)).toEqual(oneByOne(packed));
  });
});
