/**
 * The portable backend's edwards25519 operations on G for the hop proofs (spec/ciphersuite.md §10),
 * on @noble/curves: strict RFC 8032 decoding (y < p, no sign bit with x = 0), `isTorsionFree()` and
 * `!is0()` for a point of G, `multiply` for secret scalars, Pippenger's method for the public sums.
 *
 * Threat: a point with a torsion component (P + T₂) or a twist point taken for a point of G. The
 * answers are byte for byte the native backend's (native-group.ts), including the edge cases
 * libsodium refuses (a zero scalar, the identity). JavaScript big integers are not constant-time
 * (spec §10): the native backend is the one for secrets in production.
 */
import { pippenger } from '@noble/curves/abstract/curve.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import type { CryptoBackend } from './backend.js';
import { CryptoError } from './errors.js';

const Point = ed25519.Point;
type EdPoint = InstanceType<typeof Point>;
const ORDER = Point.Fn.ORDER;
const LOW_255_BITS = (1n << 255n) - 1n;

type GroupOps = Pick<
  CryptoBackend,
  | 'isPointOfG'
  | 'scalarMultNoClamp'
  | 'baseMultNoClamp'
  | 'multiScalarMult'
  | 'pointAdd'
  | 'scalarReduce64'
  | 'scalarMulSub'
>;

function decode(encoding: Uint8Array): EdPoint | undefined {
  try {
    return Point.fromBytes(encoding, false);
  } catch {
    return undefined; // y ≥ p, not on the curve, or the sign bit set with x = 0
  }
}

function decodePointOfG(encoding: Uint8Array): EdPoint | undefined {
  const point = decode(encoding);
  return point === undefined || point.is0() || !point.isTorsionFree() ? undefined : point;
}

/** A no-clamp scalar as libsodium reads it (bit 255 cleared), reduced mod L. */
function scalarOf(bytes: Uint8Array): bigint {
  return (bytesToNumberLE(bytes) & LOW_255_BITS) % ORDER;
}

const scalarBytes = (n: bigint): Uint8Array => numberToBytesLE(n, 32);

export const portableGroup: GroupOps = {
  isPointOfG: (encoding) => decodePointOfG(encoding) !== undefined,
  scalarMultNoClamp(scalar, encoding) {
    const point = decode(encoding);
    if (point === undefined || (!point.is0() && !point.isTorsionFree())) return undefined;
    const n = scalarOf(scalar);
    return n === 0n || point.is0() ? Point.ZERO.toBytes() : point.multiply(n).toBytes();
  },
  baseMultNoClamp(scalar) {
    const n = scalarOf(scalar);
    return n === 0n ? Point.ZERO.toBytes() : Point.BASE.multiply(n).toBytes();
  },
  multiScalarMult(scalars, encodings, options = {}) {
    const points: EdPoint[] = [];
    for (let i = 0; i < encodings.length; i++) {
      const encoding = encodings[i] as Uint8Array;
      const point = options.pointsChecked ? decode(encoding) : decodePointOfG(encoding);
      if (point === undefined || point.is0()) return { notInGroup: i };
      points.push(point);
    }
    return { sum: pippenger(Point, points, scalars.map(scalarOf)).toBytes() };
  },
  pointAdd(p, q) {
    const a = decode(p);
    const b = decode(q);
    if (a === undefined || b === undefined) {
      throw new CryptoError('BAD_INPUT', 'an edwards25519 addition was given a string that is not a point');
    }
    return a.add(b).toBytes();
  },
  scalarReduce64: (bytes) => scalarBytes(bytesToNumberLE(bytes) % ORDER),
  scalarMulSub(r, c, s) {
    const value = (bytesToNumberLE(r) - bytesToNumberLE(c) * bytesToNumberLE(s)) % ORDER;
    return scalarBytes(value < 0n ? value + ORDER : value);
  },
};
