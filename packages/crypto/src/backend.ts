/**
 * The narrow interface both implementations of the ciphersuite satisfy: a native one (libsodium
 * through sodium-native, node:crypto; in the Node.js entry, node/native-backend.ts) and a portable
 * one (@noble/curves, runs in a browser).
 * The same tests and vectors run against both, and property tests require byte-identical output.
 *
 * Backends take already-validated inputs (lengths checked by the callers in suite.ts and
 * identity.ts) and never keep key material beyond a call.
 */

export type BackendName = 'native' | 'portable';

/** Which backend a caller asks for: one by name, or `auto` (native where it is available). */
export type BackendPreference = BackendName | 'auto';

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'portable'];

export function isBackendPreference(value: unknown): value is BackendPreference {
  return (BACKEND_PREFERENCES as readonly unknown[]).includes(value);
}

export interface CryptoBackend {
  readonly name: BackendName;
  /**
   * RFC 9380 `encode_to_curve` for the suite curve25519_XMD:SHA-512_ELL2_NU_ with domain
   * separation tag `dst` (at most 255 bytes): the point's u-coordinate, 32 bytes little-endian.
   */
  encodeToCurve(message: Uint8Array, dst: Uint8Array): Uint8Array;
  /** `encodeToCurve` for many messages at once: what batch workers call. */
  encodeToCurveMany(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array[];
  /** RFC 7748 X25519(scalar, u). Throws `LOW_ORDER_POINT` when the result would be all-zero. */
  x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array;
  /** RFC 8032 Ed25519 public key of a 32-byte secret seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** RFC 8032 Ed25519 signature (64 bytes) of `message` by the seed's key. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * RFC 8032 cofactorless verification ([S]B = R + [k]A, S < L, canonical encodings). The caller
   * (identity.ts) applies Overlap's extra rules (small-order A and R rejected) first.
   */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
