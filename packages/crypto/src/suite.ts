/**
 * Ciphersuite OVERLAP-V1, one item at a time (spec/ciphersuite.md):
 *   hash_to_group(kind, value) = u-coordinate of RFC 9380 encode_to_curve for
 *     curve25519_XMD:SHA-512_ELL2_NU_ with DST HASH_TO_GROUP_DST, of UTF-8(kind) || 0x00 || UTF-8(value);
 *   blind(k, u) = X25519(k, u) (RFC 7748), rejecting the all-zero result of a low-order u.
 * For sets, use the batch functions (batch.ts): same results, all cores, bounded memory.
 */
import type { CryptoBackend } from './backend.js';
import { type BackendPreference, getBackend } from './backend-select.js';
import type { BlindingKey } from './blinding-key.js';
import { assertLength } from './bytes.js';
import { HASH_TO_GROUP_DST_BYTES, POINT_LENGTH } from './ciphersuite.js';
import { hashToGroupMessage } from './hash-input.js';

export interface SuiteOptions {
  /** Which implementation to use; default: OVERLAP_CRYPTO_BACKEND or `auto`. */
  backend?: BackendPreference;
}

/** hash_to_group(kind, value): a 32-byte u-coordinate (little-endian). */
export function hashToGroup(kind: string, value: string, options: SuiteOptions = {}): Uint8Array {
  const message = hashToGroupMessage(kind, value);
  return getBackend(options.backend).encodeToCurve(message, HASH_TO_GROUP_DST_BYTES);
}

/** blind(k, u) = X25519(k, u); throws `LOW_ORDER_POINT` for a low-order u. */
export function blind(key: BlindingKey, u: Uint8Array, options: SuiteOptions = {}): Uint8Array {
  return blindWith(getBackend(options.backend), key.exposeSecret(), u);
}

/** blind(k, hash_to_group(kind, value)): what a lab does to each of its own indicators. */
export function hashAndBlind(key: BlindingKey, kind: string, value: string, options: SuiteOptions = {}): Uint8Array {
  const backend = getBackend(options.backend);
  const u = backend.encodeToCurve(hashToGroupMessage(kind, value), HASH_TO_GROUP_DST_BYTES);
  return blindWith(backend, key.exposeSecret(), u);
}

export function blindWith(backend: CryptoBackend, scalar: Uint8Array, u: Uint8Array): Uint8Array {
  assertLength(u, POINT_LENGTH, 'point');
  return backend.x25519(scalar, u);
}
