/**
 * The narrow interface both implementations of the ciphersuite satisfy: a native one (libsodium
 * through sodium-native, node:crypto; in the Node.js entry, node/native-backend.ts) and a portable
 * one (@noble/curves, runs in a browser).
 * The same tests and vectors run against both, and property tests require byte-identical output.
 *
 * Backends take already-validated inputs (lengths checked by the callers in suite.ts,
 * identity.ts and hop-proof/) and never keep key material beyond a call.
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

  // edwards25519 on G = <B>, the subgroup of prime order L, for the hop proofs (spec/ciphersuite.md
  // §10). Points are RFC 8032 §5.1.2 encodings (32 bytes); scalars 32 bytes little-endian. Every
  // check is made on G itself, never with a cofactored equation.
  /**
   * Whether `encoding` is a point of G: canonical (y < p), decodes to a curve point, is not the
   * identity, and [L]P is the identity (libsodium's crypto_core_ed25519_is_valid_point).
   */
  isPointOfG(encoding: Uint8Array): boolean;
  /**
   * [n]P, where n is the scalar with bit 255 cleared (no clamping), for P a point of G or the
   * identity; undefined when P is neither. A zero result (n ≡ 0 mod L, or P the identity) is the
   * identity's encoding. Constant-time in n on the native backend.
   */
  scalarMultNoClamp(scalar: Uint8Array, point: Uint8Array): Uint8Array | undefined;
  /** [n]B, n with bit 255 cleared (a clamped X25519 scalar as it is); the identity when n ≡ 0 mod L. */
  baseMultNoClamp(scalar: Uint8Array): Uint8Array;
  /**
   * Σ [n_i]P_i (the identity for no terms) when every P_i is a point of G, else the index of the
   * first that is not. Scalars are public here: the time may depend on them. With `pointsChecked`
   * the caller vouches that every P_i is a point of G (a prover that has just checked them), and
   * the check is not made again.
   */
  multiScalarMult(
    scalars: readonly Uint8Array[],
    points: readonly Uint8Array[],
    options?: { pointsChecked?: boolean },
  ): { sum: Uint8Array } | { notInGroup: number };
  /** P + Q for P and Q points of G or the identity. */
  pointAdd(p: Uint8Array, q: Uint8Array): Uint8Array;
  /** A 64-byte little-endian integer mod L (constant-time on the native backend). */
  scalarReduce64(bytes: Uint8Array): Uint8Array;
  /**
   * r − c·s mod L, for scalars below L. c is public (a challenge): the time may depend on it; on
   * the native backend it never depends on r or s.
   */
  scalarMulSub(r: Uint8Array, c: Uint8Array, s: Uint8Array): Uint8Array;
}
