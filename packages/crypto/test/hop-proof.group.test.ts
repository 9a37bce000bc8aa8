/**
 * spec/ciphersuite.md §10's points on both backends: the edwards25519 operations on G the backends
 * add (checked against plain arithmetic on @noble/curves points, and byte for byte against each
 * other), the lift of a tag, which tags lie in G, the law X25519(k, u) = u([s]P) that makes the
 * proofs possible, and the key commitments a relay must refuse (K = B, K = −B from the clamped key
 * 5L − 1, points outside G).
 */
import { randomBytes } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { BASE_POINT, liftMany, NEGATED_BASE_POINT } from '../src/hop-proof/points.js';
import {
  BlindingKey,
  blind,
  hashToGroup,
  keyCommitment,
  keyCommitmentProblem,
  LOW_ORDER_ENCODINGS,
  tagInGroup,
} from '../src/index.js';
import { portableBackend } from '../src/portable-backend.js';
import { BACKENDS, hex, nativeBackend, unhex } from './backends.js';
import { numberToBytesLE, P } from './bigint-field.js';
import { randomPointOfG, torsionPoint, torsionTag, twistTag } from './hop-proof-fixtures.js';
import { inverseTag, L, le, Point, refLift, refScalar, scalar, T2, uOf } from './hop-proof-reference.js';

const IDENTITY = Point.ZERO.toBytes();
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bytes64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const belowL = fc.bigInt({ min: 0n, max: L - 1n });
const keyBytes = bytes32.filter((b) => b.some((x) => x !== 0));

/** The reference check of a point of G: strict decoding, torsion-free, not the identity. */
function refIsPointOfG(encoding: Uint8Array): boolean {
  try {
    const point = Point.fromBytes(encoding, false);
    return (
      !point.is0() &&
      point
        .multiplyUnsafe(L - 1n)
        .add(point)
        .is0()
    );
  } catch {
    return false;
  }
}

/** Encodings that are not points of G, each for its own reason. */
function notInG(): [string, Uint8Array][] {
  const g = randomPointOfG();
  const nonCanonical = numberToBytesLE(P + 1n); // y = p + 1 ≥ p (y ≡ 1 would be the identity)
  const signedZeroX = unhex(`01${'00'.repeat(30)}80`); // the identity's y with the sign bit set
  return [
    ['the identity', IDENTITY],
    ['T₂ (order 2)', T2.toBytes()],
    ['an order-4 point', torsionPoint(4).toBytes()],
    ['an order-8 point', torsionPoint(8).toBytes()],
    ['P + T₂', g.add(T2).toBytes()],
    ['P + T₄', g.add(torsionPoint(4)).toBytes()],
    ['P + T₈', g.add(torsionPoint(8)).toBytes()],
    ['y ≥ p', nonCanonical],
    ['x = 0 with the sign bit set', signedZeroX],
    ['y not on the curve', refLift(twistTag(), 0)],
  ];
}

describe.each(BACKENDS)('edwards25519 on G, %s backend', (_name, backend) => {
  test('B and random points of G are points of G', () => {
    expect(backend.isPointOfG(BASE_POINT)).toBe(true);
    expect(backend.isPointOfG(NEGATED_BASE_POINT)).toBe(true);
    for (let i = 0; i < 5; i++) expect(backend.isPointOfG(randomPointOfG().toBytes())).toBe(true);
  });

  test.each(notInG())('%s is not a point of G', (_why, encoding) => {
    expect(refIsPointOfG(encoding)).toBe(false);
    expect(backend.isPointOfG(encoding)).toBe(false);
    // a multiple of the identity is the identity; of anything else outside G, nothing
    const product = backend.scalarMultNoClamp(scalar(5n), encoding);
    expect(product).toEqual(hex(encoding) === hex(IDENTITY) ? IDENTITY : undefined);
  });

  test.prop([bytes32], { numRuns: 200 })('any 32 bytes: the reference check decides', (encoding) => {
    expect(backend.isPointOfG(encoding)).toBe(refIsPointOfG(encoding));
  });

  test.prop([belowL, belowL], { numRuns: 30 })('[n]P and [n]B', (n, m) => {
    const point = Point.BASE.multiply(m === 0n ? 1n : m);
    const expected = n === 0n ? IDENTITY : point.multiply(n).toBytes();
    expect(hex(backend.scalarMultNoClamp(scalar(n), point.toBytes()) as Uint8Array)).toBe(hex(expected));
    expect(hex(backend.baseMultNoClamp(scalar(n)))).toBe(hex(n === 0n ? IDENTITY : Point.BASE.multiply(n).toBytes()));
  });

  test('a zero result is the identity: zero scalar, n = L, the identity as P (libsodium refuses them all)', () => {
    const g = randomPointOfG().toBytes();
    expect(hex(backend.scalarMultNoClamp(new Uint8Array(32), g) as Uint8Array)).toBe(hex(IDENTITY));
    expect(hex(backend.scalarMultNoClamp(numberToBytesLE(L), g) as Uint8Array)).toBe(hex(IDENTITY));
    expect(hex(backend.scalarMultNoClamp(scalar(7n), IDENTITY) as Uint8Array)).toBe(hex(IDENTITY));
    expect(hex(backend.baseMultNoClamp(new Uint8Array(32)))).toBe(hex(IDENTITY));
    expect(hex(backend.baseMultNoClamp(numberToBytesLE(L)))).toBe(hex(IDENTITY));
  });

  test('a clamped X25519 scalar c ≥ L is taken as it is: [c]B = [c mod L]B', () => {
    const c = unhex(`f8${'ab'.repeat(30)}4f`);
    expect(le(c) > L).toBe(true);
    expect(hex(backend.baseMultNoClamp(c))).toBe(hex(Point.BASE.multiply(le(c) % L).toBytes()));
  });

  test('Σ [n_i]P_i, the empty sum, and the first point outside G', () => {
    const points = [1, 2, 3].map(() => randomPointOfG());
    const ns = [5n, 0n, L - 1n];
    const expected = points.reduce((sum, p, i) => sum.add(p.multiplyUnsafe(ns[i] as bigint)), Point.ZERO);
    const sum = backend.multiScalarMult(
      ns.map(scalar),
      points.map((p) => p.toBytes()),
    );
    expect(sum).toEqual({ sum: expected.toBytes() });
    expect(backend.multiScalarMult([], [])).toEqual({ sum: IDENTITY });
    const bad = [points[0] as typeof T2, (points[1] as typeof T2).add(T2), T2].map((p) => p.toBytes());
    expect(backend.multiScalarMult(ns.map(scalar), bad)).toEqual({ notInGroup: 1 });
    expect(backend.multiScalarMult([scalar(1n)], [IDENTITY])).toEqual({ notInGroup: 0 });
  });

  test.prop([belowL, belowL], { numRuns: 20 })('P + Q', (a, b) => {
    const p = Point.BASE.multiplyUnsafe(a);
    const q = Point.BASE.multiplyUnsafe(b);
    expect(hex(backend.pointAdd(p.toBytes(), q.toBytes()))).toBe(hex(p.add(q).toBytes()));
  });

  test.prop([bytes64])('64 bytes mod L', (wide) => {
    expect(hex(backend.scalarReduce64(wide))).toBe(hex(scalar(le(wide))));
  });

  test.prop([belowL, belowL, belowL], { numRuns: 200 })('r − c·s mod L', (r, c, s) => {
    expect(hex(backend.scalarMulSub(scalar(r), scalar(c), scalar(s)))).toBe(hex(scalar(r - c * s)));
  });
});

describe('the two backends give identical bytes', () => {
  const ops = (b: typeof nativeBackend, n: Uint8Array, p: Uint8Array, q: Uint8Array, wide: Uint8Array) => ({
    isPointOfG: b.isPointOfG(p),
    mult: b.scalarMultNoClamp(n, p),
    base: b.baseMultNoClamp(n),
    sum: b.multiScalarMult([n, n], [p, q]),
    reduce: b.scalarReduce64(wide),
  });
  test.prop([bytes32, bytes64], { numRuns: 60 })('on random scalars, random strings and points of G', (n, wide) => {
    const g = randomPointOfG().toBytes();
    const strings = [randomBytes(32), g, randomPointOfG().add(T2).toBytes()];
    for (const p of strings) {
      expect(ops(nativeBackend, n, p, g, wide)).toEqual(ops(portableBackend, n, p, g, wide));
    }
  });
});

describe('the lift of a tag', () => {
  test.prop([fc.bigInt({ min: 0n, max: P - 2n }), fc.constantFrom(0, 1)], { numRuns: 100 })(
    'y = (u − 1)/(u + 1), the sign bit as given, and u comes back',
    (u, sign) => {
      const tag = numberToBytesLE(u);
      const lifted = liftMany([tag], () => sign)[0] as Uint8Array;
      expect(hex(lifted)).toBe(hex(refLift(tag, sign)));
      expect(hex(uOf(lifted))).toBe(hex(tag));
    },
  );

  test('no lift for u = p − 1 or a non-canonical tag', () => {
    const set255 = numberToBytesLE(5n);
    set255[31] = 0x80;
    expect(liftMany([numberToBytesLE(P - 1n), numberToBytesLE(P), numberToBytesLE(P + 3n), set255])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe.each(BACKENDS)('which tags lie in G, %s backend', (name) => {
  const options = { backend: name };

  test('hash_to_group outputs, and what an honest hop makes of them, do', () => {
    const key = BlindingKey.generate();
    for (let i = 0; i < 5; i++) {
      const u = hashToGroup('email', `member-${i}@example.com`);
      expect(tagInGroup(u, options)).toBe(true);
      expect(tagInGroup(blind(key, u), options)).toBe(true);
    }
  });

  test('twist points, points with a torsion component (1/u among them), low-order and non-canonical tags do not', () => {
    const u = hashToGroup('email', 'x@example.com');
    expect(tagInGroup(inverseTag(u), options)).toBe(false);
    for (const order of [2, 4, 8] as const) expect(tagInGroup(torsionTag(order), options)).toBe(false);
    for (let i = 0; i < 5; i++) expect(tagInGroup(twistTag(), options)).toBe(false);
    for (const low of LOW_ORDER_ENCODINGS) expect(tagInGroup(unhex(low), options)).toBe(false);
    expect(tagInGroup(numberToBytesLE(P + 5n), options)).toBe(false);
  });

  test.prop([keyBytes], { numRuns: name === 'portable' ? 10 : 50 })(
    'X25519(k, u) = u([s]P) for P the lift of u and s = clamp(k) mod L',
    (k) => {
      const key = BlindingKey.fromBytes(k);
      const u = hashToGroup('email', `law-${hex(k)}@example.com`, options);
      const sP = Point.fromBytes(refLift(u, 0)).multiply(refScalar(k)).toBytes();
      expect(hex(blind(key, u, options))).toBe(hex(uOf(sP)));
    },
  );
});

describe.each(BACKENDS)('key commitments, %s backend', (name) => {
  const options = { backend: name };

  test.prop([keyBytes], { numRuns: 20 })('K = enc([clamp(k) mod L]B), and it is acceptable', (k) => {
    const K = keyCommitment(BlindingKey.fromBytes(k), options);
    expect(hex(K)).toBe(hex(Point.BASE.multiply(refScalar(k)).toBytes()));
    expect(keyCommitmentProblem(K, options)).toBeUndefined();
  });

  test('the clamped key 5L − 1 commits to −B, acts as the identity on G up to sign, and is refused', () => {
    const k = numberToBytesLE(5n * L - 1n);
    const clamped = Uint8Array.from(k);
    clamped[0] = (clamped[0] as number) & 248;
    clamped[31] = ((clamped[31] as number) & 127) | 64;
    expect(hex(clamped)).toBe(hex(k)); // already clamped: bits 0–2 clear, 254 set, 255 clear
    const key = BlindingKey.fromBytes(k);
    const K = keyCommitment(key, options);
    expect(hex(K)).toBe(hex(NEGATED_BASE_POINT));
    expect(hex(K)).toBe(hex(Point.BASE.negate().toBytes()));
    const u = hashToGroup('email', 'victim@example.com', options);
    expect(hex(blind(key, u, options))).toBe(hex(u)); // an "identity" hop
    expect(keyCommitmentProblem(K, options)).toBe('negated_base_point');
  });

  test('K = B is refused, and so is anything not a point of G', () => {
    expect(hex(BASE_POINT)).toBe(hex(Point.BASE.toBytes()));
    expect(keyCommitmentProblem(BASE_POINT, options)).toBe('base_point');
    const honest = keyCommitment(BlindingKey.generate(), options);
    expect(keyCommitmentProblem(Point.fromBytes(honest).add(T2).toBytes(), options)).toBe('not_in_group');
    for (const [, encoding] of notInG()) expect(keyCommitmentProblem(encoding, options)).toBe('not_in_group');
    expect(keyCommitmentProblem(honest.subarray(0, 31), options)).toBe('not_in_group');
  });
});
