/**
 * Points for the hop-proof tests, each built from its definition: points of G, points with a
 * torsion component of order 2, 4 or 8, twist u-coordinates, and honest chunks of tags.
 */
import { randomBytes } from 'node:crypto';
import { BlindingKey, blind, hashToGroup } from '../src/index.js';
import { numberToBytesLE, P } from './bigint-field.js';
import { type EdPoint, L, le, modPow, Point, uOf } from './hop-proof-reference.js';

/** [n]B for a random n: a random point of G. */
export const randomPointOfG = (): EdPoint => Point.BASE.multiply((le(randomBytes(32)) % (L - 1n)) + 1n);

/** A torsion point of exactly the given order (2, 4 or 8): [L]R for curve points R until one fits. */
export function torsionPoint(order: 2 | 4 | 8): EdPoint {
  for (;;) {
    const y = le(randomBytes(32)) % P;
    let r: EdPoint;
    try {
      r = Point.fromBytes(numberToBytesLE(y));
    } catch {
      continue; // not on the curve
    }
    const t = r.multiplyUnsafe(L - 1n).add(r); // [L]R: noble takes scalars below L
    if (t.is0()) continue;
    let k = 1;
    while (!t.multiplyUnsafe(BigInt(k)).is0()) k *= 2;
    if (k === order) return t;
    if (k > order) return t.multiplyUnsafe(BigInt(k / order));
  }
}

/** Whether u is the u-coordinate of a point of curve25519 (else of its twist): u³ + Au² + u a square. */
export function onCurve25519(u: bigint): boolean {
  const rhs = (((u * u * u) % P) + ((486662n * u * u) % P) + u) % P;
  return rhs === 0n || modPow(rhs, (P - 1n) / 2n, P) === 1n;
}

/** A canonical u that lies on the twist. */
export function twistTag(): Uint8Array {
  for (;;) {
    const u = le(randomBytes(32)) % P;
    if (u > 1n && !onCurve25519(u)) return numberToBytesLE(u);
  }
}

/** u of a point with a torsion component: P + T for P in G and T of the given order. */
export const torsionTag = (order: 2 | 4 | 8): Uint8Array => uOf(randomPointOfG().add(torsionPoint(order)).toBytes());

/** A chunk of hashed indicators and the tags an honest hop with `key` outputs for it. */
export function honestChunk(
  key: BlindingKey,
  length: number,
  label = 'chunk',
): { inputs: Uint8Array[]; outputs: Uint8Array[] } {
  const inputs = Array.from({ length }, (_, i) => hashToGroup('email', `${label}-${i}@example.com`));
  return { inputs, outputs: inputs.map((u) => blind(key, u)) };
}

export const fixedKey = (byte: number): BlindingKey => BlindingKey.fromBytes(new Uint8Array(32).fill(byte));
