/**
 * The points and keys of the hop proofs (spec/ciphersuite.md §10): the lift of a tag to
 * edwards25519, whether a tag lies in G, the session scalar s = clamp(k) mod L, and the key
 * commitment K = enc([s]B) with the checks a relay makes before accepting one.
 *
 * Threat: a hop that did not apply its key. Tags are X25519 u-coordinates; on G, X25519 with the
 * clamped key c is multiplication by s, so a hop is proven on the lifts of its tags, and only on
 * G: a twist point or a point with a torsion component (u of P + T₂ is 1/u) never lies in G. K = B
 * (s = 1) and K = −B (c ≡ −1 mod L, e.g. c = 5L − 1) are keys that map every tag of G to itself
 * and are refused.
 *
 * Only public values (tags) go through the big-integer field arithmetic here; the key's scalar
 * goes through the backend.
 */
import { invert } from '@noble/curves/abstract/modular.js';
import type { CryptoBackend } from '../backend.js';
import { type BackendPreference, getBackend } from '../backend-select.js';
import type { BlindingKey } from '../blinding-key.js';
import { assertBytes, assertLength, wipe } from '../bytes.js';
import { POINT_LENGTH } from '../ciphersuite.js';
import { bytesToNumberLE, numberToBytesLE, P } from '../field25519.js';
import { fromHex } from '../hex.js';
import { isCanonicalEncoding } from '../low-order.js';

export interface HopProofOptions {
  /** Which implementation to use; default: OVERLAP_CRYPTO_BACKEND or `auto`. */
  backend?: BackendPreference;
}

/** enc(B), the edwards25519 base point (RFC 8032 §5.1). */
export const BASE_POINT: Uint8Array = fromHex('5866666666666666666666666666666666666666666666666666666666666666');
/** enc(−B): B with the sign bit of x set. */
export const NEGATED_BASE_POINT: Uint8Array = fromHex(
  '58666666666666666666666666666666666666666666666666666666666666e6',
);

/**
 * `lift(u_i, b_i)` for many tags at once (one field inversion for all): the encoding with
 * y = (u − 1)·(u + 1)^−1 mod p and sign bit b_i, or undefined for a tag that has no lift (not
 * canonical, or u = p − 1). Whether the lift is a point of G is the backend's check.
 */
export function liftMany(
  tags: readonly Uint8Array[],
  signBit: (index: number) => number = () => 0,
): (Uint8Array | undefined)[] {
  const n = tags.length;
  const numerators = new Array<bigint>(n);
  const denominators = new Array<bigint>(n);
  const prefixProducts = new Array<bigint>(n);
  let product = 1n;
  for (let i = 0; i < n; i++) {
    const tag = tags[i] as Uint8Array;
    // the tag comes from a peer: only a canonical u < p − 1 has a lift
    const u = isCanonicalEncoding(tag) ? bytesToNumberLE(tag) : P - 1n;
    const denominator = (u + 1n) % P;
    numerators[i] = denominator === 0n ? -1n : (u - 1n + P) % P;
    denominators[i] = denominator === 0n ? 1n : denominator;
    prefixProducts[i] = product;
    product = (product * (denominators[i] as bigint)) % P;
  }
  // extended Euclid (variable-time: tags are public), ~5x faster than Fermat for one tag
  let inverseOfPrefix = invert(product, P);
  const out = new Array<Uint8Array | undefined>(n);
  for (let i = n - 1; i >= 0; i--) {
    const inverse = (inverseOfPrefix * (prefixProducts[i] as bigint)) % P;
    inverseOfPrefix = (inverseOfPrefix * (denominators[i] as bigint)) % P;
    const numerator = numerators[i] as bigint;
    if (numerator < 0n) {
      out[i] = undefined;
      continue;
    }
    const y = numberToBytesLE((numerator * inverse) % P);
    if (signBit(i) === 1) y[31] = (y[31] as number) | 0x80;
    out[i] = y;
  }
  return out;
}

/** `lift(u, b)`: see liftMany. */
export function lift(u: Uint8Array, signBit: 0 | 1 = 0): Uint8Array | undefined {
  assertLength(u, POINT_LENGTH, 'tag');
  return liftMany([u], () => signBit)[0];
}

/** Whether the tag lies in G: its canonical lift, lift(u, 0), is a point of G. */
export function tagInGroup(u: Uint8Array, options: HopProofOptions = {}): boolean {
  const lifted = lift(u, 0);
  return lifted !== undefined && getBackend(options.backend).isPointOfG(lifted);
}

/** s = c mod L for the clamped key c (as X25519 clamps it), 32 bytes; the caller wipes it. */
export function sessionScalar(backend: CryptoBackend, key: BlindingKey): Uint8Array {
  const wide = new Uint8Array(64);
  wide.set(key.exposeSecret(), 0);
  wide[0] = (wide[0] as number) & 248;
  wide[31] = ((wide[31] as number) & 127) | 64;
  try {
    return backend.scalarReduce64(wide);
  } finally {
    wipe(wide);
  }
}

/** The key commitment K = enc([s]B) of a lab's session key (its `join`'s `key`). */
export function keyCommitment(key: BlindingKey, options: HopProofOptions = {}): Uint8Array {
  const backend = getBackend(options.backend);
  const s = sessionScalar(backend, key);
  try {
    return backend.baseMultNoClamp(s);
  } finally {
    wipe(s);
  }
}

export type KeyCommitmentProblem = 'not_in_group' | 'base_point' | 'negated_base_point';

/**
 * Why a relay must refuse the key commitment K, or undefined if it is acceptable on its own (that
 * it differs from every other lab's K in the session is the caller's check).
 */
export function keyCommitmentProblem(K: Uint8Array, options: HopProofOptions = {}): KeyCommitmentProblem | undefined {
  assertBytes(K, 'key commitment');
  // K comes from a lab's join: a wrong length is no point at all
  if (K.length !== POINT_LENGTH || !getBackend(options.backend).isPointOfG(K)) return 'not_in_group';
  if (sameBytes(K, BASE_POINT)) return 'base_point';
  if (sameBytes(K, NEGATED_BASE_POINT)) return 'negated_base_point';
  return undefined;
}

/** Equality of public encodings (no secret here, so no constant-time need). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
