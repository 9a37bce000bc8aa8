/**
 * An independent reading of spec/ciphersuite.md §10 for the tests: plain big-integer arithmetic,
 * node:crypto's SHA-512 and SHA-256, @noble/curves points used directly (not through a backend).
 * The package's code is checked against it; it also builds what an attacker would (a proof for
 * cofactor-cleared points) and the cofactored verifier that the spec forbids.
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hex, unhex } from './backends.js';
import { numberToBytesLE, P } from './bigint-field.js';

export const Point = ed25519.Point;
export type EdPoint = InstanceType<typeof Point>;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

export const le = (bytes: Uint8Array): bigint => BigInt(`0x${hex(Uint8Array.from(bytes).reverse()) || '0'}`);
export const scalar = (n: bigint): Uint8Array => numberToBytesLE(((n % L) + L) % L);
const dst = (name: string) => Buffer.from(`${name}\0`, 'ascii');

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}
export const inv = (x: bigint): bigint => modPow(x, P - 2n, P);

export function sha512(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}
const hL = (...parts: Uint8Array[]): bigint => le(sha512(...parts)) % L;
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The encoding with y = (u − 1)/(u + 1) and the given sign bit. */
export function refLift(u: Uint8Array, sign: number): Uint8Array {
  const x = le(u);
  const y = ((x - 1n + P) * inv(x + 1n)) % P;
  const out = numberToBytesLE(y);
  if (sign) out[31] = (out[31] as number) | 0x80;
  return out;
}

/** u = (1 + y)/(1 − y) of an encoding (RFC 7748 §4.1), as 32 bytes. */
export function uOf(encoding: Uint8Array): Uint8Array {
  const y = le(encoding) & ((1n << 255n) - 1n);
  return numberToBytesLE(((1n + y) * inv((1n - y + P) % P)) % P);
}

/** The field inverse of a tag: u of P + T₂ when u is u of P. */
export const inverseTag = (u: Uint8Array): Uint8Array => numberToBytesLE(inv(le(u)));

/** c = clamp(k) as an integer, and s = c mod L. */
export function refScalar(key: Uint8Array): bigint {
  const c = Uint8Array.from(key);
  c[0] = (c[0] as number) & 248;
  c[31] = ((c[31] as number) & 127) | 64;
  return le(c) % L;
}

export const T2 = Point.fromAffine({ x: 0n, y: P - 1n });

export interface RefStatement {
  K: Uint8Array;
  sessionId: Uint8Array;
  digest: Uint8Array;
  positions: readonly number[];
  inputs: readonly Uint8Array[];
}

/** The seed, the composites and the two sums, on the points as given or cofactor-cleared ([8]·). */
function sums(statement: RefStatement, outputs: readonly Uint8Array[], signs: Uint8Array, cofactored: boolean) {
  const seed = sha512(dst('OVERLAP-V1-DLEQ-SEED'), statement.sessionId, statement.digest, statement.K);
  let M = Point.ZERO;
  let Z = Point.ZERO;
  statement.positions.forEach((j, i) => {
    const p = refLift(statement.inputs[i] as Uint8Array, 0);
    const q = refLift(outputs[i] as Uint8Array, ((signs[i >> 3] as number) >> (i & 7)) & 1);
    const d = hL(dst('OVERLAP-V1-DLEQ-COMPOSITE'), seed, u32be(j), p, q);
    const pp = Point.fromBytes(p);
    const qq = Point.fromBytes(q);
    M = M.add((cofactored ? pp.multiplyUnsafe(8n) : pp).multiplyUnsafe(d));
    Z = Z.add((cofactored ? qq.multiplyUnsafe(8n) : qq).multiplyUnsafe(d));
  });
  return { seed, M: M.toBytes(), Z: Z.toBytes(), MPoint: M };
}

function challengeOf(seed: Uint8Array, K: Uint8Array, M: Uint8Array, Z: Uint8Array, t2: Uint8Array, t3: Uint8Array) {
  return hL(dst('OVERLAP-V1-DLEQ-CHALLENGE'), seed, K, M, Z, t2, t3);
}

/**
 * A proof of `outputs` (with `signs`) from s by the spec's formulas; with `cofactored`, of the
 * cofactor-cleared points instead (what a cheater sends a cofactored verifier).
 */
export function refProve(
  s: bigint,
  statement: RefStatement,
  outputs: readonly Uint8Array[],
  signs: Uint8Array,
  a: Uint8Array,
  cofactored = false,
): Uint8Array {
  const { seed, M, Z, MPoint } = sums(statement, outputs, signs, cofactored);
  const r = hL(dst('OVERLAP-V1-DLEQ-NONCE'), scalar(s), seed, M, Z, a);
  const t2 = Point.BASE.multiplyUnsafe(r).toBytes();
  const t3 = MPoint.multiplyUnsafe(r).toBytes();
  const c = challengeOf(seed, statement.K, M, Z, t2, t3);
  return Uint8Array.from([...scalar(c), ...scalar(r - c * s)]);
}

/** The honest outputs and signs: Q_i = [s]P_i. */
export function refOutputs(s: bigint, inputs: readonly Uint8Array[]): { outputs: Uint8Array[]; signs: Uint8Array } {
  const signs = new Uint8Array(Math.ceil(inputs.length / 8));
  const outputs = inputs.map((u, i) => {
    const q = Point.fromBytes(refLift(u, 0)).multiply(s).toBytes();
    signs[i >> 3] = (signs[i >> 3] as number) | (((q[31] as number) >> 7) << (i & 7));
    return uOf(q);
  });
  return { outputs, signs };
}

/**
 * A verifier with the one mistake the spec warns against: points are only decoded (any curve
 * point, no check of G) and the equations are checked on [8]·P_i and [8]·Q_i.
 */
export function cofactoredVerify(
  statement: RefStatement,
  outputs: readonly Uint8Array[],
  proof: { signs: Uint8Array; proof: Uint8Array },
): boolean {
  try {
    const { seed, M, Z, MPoint } = sums(statement, outputs, proof.signs, true);
    const c = le(proof.proof.subarray(0, 32));
    const z = le(proof.proof.subarray(32));
    const K = Point.fromBytes(statement.K);
    const t2 = Point.BASE.multiplyUnsafe(z).add(K.multiplyUnsafe(c)).toBytes();
    const t3 = MPoint.multiplyUnsafe(z).add(Point.fromBytes(Z).multiplyUnsafe(c)).toBytes();
    return challengeOf(seed, statement.K, M, Z, t2, t3) === c;
  } catch {
    return false;
  }
}

/** The spec's positions, written again from the text. */
export function refPositions(sigma: Uint8Array, digest: Uint8Array, length: number, mode: 'spot' | 'full'): number[] {
  if (mode === 'full') return [...Array(length).keys()];
  const S = Math.min(length, 135);
  const out: number[] = [];
  const limit = 2 ** 32 - (2 ** 32 % length);
  for (let i = 0; out.length < S; i++) {
    const block = Buffer.from(sha512(dst('OVERLAP-V1-POSITIONS'), sigma, digest, u32be(i)));
    for (let w = 0; w < 16 && out.length < S; w++) {
      const word = block.readUInt32BE(4 * w);
      if (word < limit && !out.includes(word % length)) out.push(word % length);
    }
  }
  return out;
}

export const refCoin = (sessionId: Uint8Array, keyId: string, coin: Uint8Array) =>
  sha256(dst('OVERLAP-V1-COIN'), sessionId, Buffer.from(keyId, 'ascii'), coin);
export const refSigma = (sessionId: Uint8Array, coins: Uint8Array[]) =>
  sha512(dst('OVERLAP-V1-SIGMA'), sessionId, ...coins);
export const distinctnessScalarRef = (): Uint8Array => sha256(dst('OVERLAP-V1-DISTINCT'));

export { hex, unhex };
