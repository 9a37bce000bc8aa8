/**
 * Arithmetic in GF(2^255 - 19) that the native hash path needs around libsodium:
 * - RFC 9380 hash_to_field for m = 1, L = 48: a 48-byte big-endian string reduced mod p;
 * - the birational map from edwards25519 to curve25519, u = (1 + y) / (1 - y) (RFC 7748 §4.1),
 *   for many points at once with Montgomery's batch-inversion trick (one inversion per batch).
 *
 * Only public values pass through here (hashes of indicators before blinding), so BigInt's
 * variable-time arithmetic leaks nothing secret.
 */

export const P = 2n ** 255n - 19n;
const MASK64 = 0xffffffffffffffffn;
const Y_MASK = (1n << 255n) - 1n;

/** Big-endian bytes (any length that is a multiple of 8) reduced mod p, as 32 little-endian bytes. */
export function reduceBigEndianModP(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let x = 0n;
  for (let offset = 0; offset < bytes.length; offset += 8) x = (x << 64n) | view.getBigUint64(offset, false);
  return numberToBytesLE(x % P);
}

/** 32 little-endian bytes as a number (all 256 bits). */
export function bytesToNumberLE(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 32);
  return (
    view.getBigUint64(0, true) |
    (view.getBigUint64(8, true) << 64n) |
    (view.getBigUint64(16, true) << 128n) |
    (view.getBigUint64(24, true) << 192n)
  );
}

/** A number below 2^256 as 32 little-endian bytes. */
export function numberToBytesLE(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, x & MASK64, true);
  view.setBigUint64(8, (x >> 64n) & MASK64, true);
  view.setBigUint64(16, (x >> 128n) & MASK64, true);
  view.setBigUint64(24, (x >> 192n) & MASK64, true);
  return out;
}

/** x^(p-2) mod p: the inverse of x, and 0 for 0 (RFC 9380's inv0). */
export function invert(x: bigint): bigint {
  let result = 1n;
  let base = x % P;
  let exponent = P - 2n;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exponent >>= 1n;
  }
  return result;
}

/**
 * Montgomery u-coordinates of canonically encoded edwards25519 points (RFC 8032 encoding: y in
 * the low 255 bits, the sign of x in the top bit, which u does not depend on). The identity
 * (y = 1) maps to u = 0, as inv0 gives.
 */
export function edwardsToMontgomeryU(encodedPoints: readonly Uint8Array[]): Uint8Array[] {
  const n = encodedPoints.length;
  const numerators = new Array<bigint>(n);
  const denominators = new Array<bigint>(n);
  const prefixProducts = new Array<bigint>(n);
  let product = 1n;
  for (let i = 0; i < n; i++) {
    const y = bytesToNumberLE(encodedPoints[i] as Uint8Array) & Y_MASK;
    const denominator = (1n - y + P) % P;
    // The identity (y = 1) has u = 0; a denominator of 1 keeps the batch product invertible.
    numerators[i] = denominator === 0n ? 0n : (1n + y) % P;
    denominators[i] = denominator === 0n ? 1n : denominator;
    prefixProducts[i] = product;
    product = (product * (denominators[i] as bigint)) % P;
  }
  // inverseOfPrefix = 1 / (d_0 * ... * d_i) walking down from i = n - 1.
  let inverseOfPrefix = invert(product);
  const out = new Array<Uint8Array>(n);
  for (let i = n - 1; i >= 0; i--) {
    const inverse = (inverseOfPrefix * (prefixProducts[i] as bigint)) % P;
    inverseOfPrefix = (inverseOfPrefix * (denominators[i] as bigint)) % P;
    out[i] = numberToBytesLE(((numerators[i] as bigint) * inverse) % P);
  }
  return out;
}
