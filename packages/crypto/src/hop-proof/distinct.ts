/**
 * Tag equivalence for the distinctness check (spec/ciphersuite.md §10, protocol.md §5.3): two tags
 * are equivalent when X25519(c₀, a) = X25519(c₀, b) for the fixed public scalar
 * c₀ = SHA-256("OVERLAP-V1-DISTINCT" ‖ 0x00). For an honest clamped key k, X25519(k, a) =
 * X25519(k, b) exactly when a and b are equivalent (u and 1/u are), whatever k.
 *
 * Threat: blaming the wrong hop for a duplicate. A set's tags must be pairwise distinct at every
 * hop; an honest hop maps u and 1/u to one tag, so a duplicate that appears at hop t + 1 may come
 * from equivalent tags planted at hop t. The lowest hop at which two tags are equivalent is the
 * culprit.
 */
import { getBackend } from '../backend-select.js';
import { assertLength } from '../bytes.js';
import { POINT_LENGTH } from '../ciphersuite.js';
import { sha256 } from '../digest.js';
import { equalBytes } from '../equal-bytes.js';
import { CryptoError } from '../errors.js';
import { dst } from './coins.js';
import type { HopProofOptions } from './points.js';

let distinctScalar: Uint8Array | undefined;

/** c₀, the public X25519 scalar of the distinctness check (X25519 clamps it). */
export function distinctnessScalar(): Uint8Array {
  distinctScalar ??= sha256(dst('OVERLAP-V1-DISTINCT'));
  return Uint8Array.from(distinctScalar);
}

/** Whether X25519(c₀, a) = X25519(c₀, b); a low-order tag gives X25519's all-zero value. */
export function equivalentTags(a: Uint8Array, b: Uint8Array, options: HopProofOptions = {}): boolean {
  assertLength(a, POINT_LENGTH, 'tag');
  assertLength(b, POINT_LENGTH, 'tag');
  const backend = getBackend(options.backend);
  const scalar = distinctnessScalar();
  const image = (u: Uint8Array): Uint8Array => {
    try {
      return backend.x25519(scalar, u);
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'LOW_ORDER_POINT') return new Uint8Array(POINT_LENGTH);
      throw error;
    }
  };
  return equalBytes(image(a), image(b));
}
