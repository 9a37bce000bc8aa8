/**
 * Lab identities: Ed25519 (RFC 8032) signing keys, detached signatures, and key ids.
 *
 * Verification rule (spec/ciphersuite.md, "Signatures"), the same on both backends:
 *   - the public key A and the signature's R must be canonical encodings (y < p, and no "negative
 *     zero": the sign bit set on a point whose x is 0) and must not be one of the 8 small-order
 *     points; a public key that breaks this is malformed input (`BAD_PUBLIC_KEY`), a signature
 *     that does is simply invalid (`false`);
 *   - S must be canonical, 0 <= S < L;
 *   - the cofactorless equation [S]B = R + [SHA-512(R || A || M)]A must hold (RFC 8032 §5.1.7).
 * Threat: without the small-order rules, A = R = identity and S = 0 "verify" for every message,
 * and a malleable S would give one signed message two valid signatures (two log entries).
 *
 * Key id: the first 16 bytes of SHA-256("OVERLAP-V1-KEYID" || 0x00 || "ed25519" || 0x00 || A), in
 * lowercase hex (32 characters). It names a key in envelopes and logs; it is never a substitute
 * for verifying against the full key.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { type BackendPreference, getBackend } from './backend-select.js';
import { assertBytes, assertLength, concatBytes } from './bytes.js';
import { sha256 } from './digest.js';
import { CryptoError } from './errors.js';
import { fromHex, toHex } from './hex.js';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SEED_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

const KEY_ID_PREFIX = new TextEncoder().encode('OVERLAP-V1-KEYID\0ed25519\0');

/** Group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_BYTES = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

/** Canonical encodings of the 8 small-order points, plus the two "negative zero" encodings. */
const SMALL_ORDER_ENCODINGS: ReadonlySet<string> = new Set([
  ...ED25519_TORSION_SUBGROUP,
  '0100000000000000000000000000000000000000000000000000000000000080', // identity, sign bit set
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // (0, -1), sign bit set
]);

export interface IdentityOptions {
  backend?: BackendPreference;
}

export interface SigningKeyPair {
  /** 32-byte RFC 8032 secret seed. Secret: wipe it when done. */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateSigningKeyPair(options: IdentityOptions = {}): SigningKeyPair {
  const secretKey = globalThis.crypto.getRandomValues(new Uint8Array(ED25519_SEED_LENGTH));
  return { secretKey, publicKey: getBackend(options.backend).ed25519PublicKey(secretKey) };
}

export function signingPublicKey(secretKey: Uint8Array, options: IdentityOptions = {}): Uint8Array {
  assertLength(secretKey, ED25519_SEED_LENGTH, 'Ed25519 secret key');
  return getBackend(options.backend).ed25519PublicKey(secretKey);
}

/** A detached Ed25519 signature of `message`. */
export function sign(secretKey: Uint8Array, message: Uint8Array, options: IdentityOptions = {}): Uint8Array {
  assertLength(secretKey, ED25519_SEED_LENGTH, 'Ed25519 secret key');
  assertBytes(message, 'message');
  return getBackend(options.backend).ed25519Sign(secretKey, message);
}

/**
 * Checks a detached signature under the rule above. Returns false for a signature that does not
 * verify; throws `BAD_LENGTH` / `BAD_TYPE` for malformed inputs and `BAD_PUBLIC_KEY` for a public
 * key that is not canonical or has small order.
 */
export function verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: IdentityOptions = {},
): boolean {
  assertLength(publicKey, ED25519_PUBLIC_KEY_LENGTH, 'Ed25519 public key');
  if (!isAcceptablePoint(publicKey)) {
    throw new CryptoError('BAD_PUBLIC_KEY', 'Ed25519 public key is not canonical or has small order');
  }
  assertBytes(message, 'message');
  assertLength(signature, ED25519_SIGNATURE_LENGTH, 'Ed25519 signature');
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32, 64);
  if (!isAcceptablePoint(r) || !isBelowOrder(s)) return false;
  return getBackend(options.backend).ed25519Verify(publicKey, message, signature);
}

/**
 * Throws `BAD_PUBLIC_KEY` unless `publicKey` is a canonical encoding of a point of the prime-order
 * subgroup (other than the identity): what enrollment checks before a key is trusted. (verify() does the cheap part
 * of this on every call; a key that is not on the curve simply never verifies.)
 */
export function assertPublicKey(publicKey: Uint8Array): void {
  assertLength(publicKey, ED25519_PUBLIC_KEY_LENGTH, 'Ed25519 public key');
  const hex = toHex(publicKey);
  if (acceptedKeys.has(hex)) return;
  checkPublicKey(publicKey);
  // Public keys, and only those that passed: a forum's few hundred, re-checked on every
  // membership read otherwise (the torsion check is ~1 ms each, 30 ms cold).
  if (acceptedKeys.size >= ACCEPTED_KEYS_KEPT) acceptedKeys.clear();
  acceptedKeys.add(hex);
}

/** Public keys that passed `assertPublicKey`, by hex; emptied when it reaches this size. */
const acceptedKeys = new Set<string>();
const ACCEPTED_KEYS_KEPT = 4096;

function checkPublicKey(publicKey: Uint8Array): void {
  if (!isAcceptablePoint(publicKey)) {
    throw new CryptoError('BAD_PUBLIC_KEY', 'Ed25519 public key is not canonical or has small order');
  }
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    point = ed25519.Point.fromBytes(publicKey, false);
  } catch (cause) {
    throw new CryptoError('BAD_PUBLIC_KEY', 'Ed25519 public key is not a point on the curve', { cause });
  }
  // A key with a small-order component verifies differently under cofactored and cofactorless
  // rules; no honest key has one, so enrollment refuses it.
  if (!point.isTorsionFree()) {
    throw new CryptoError('BAD_PUBLIC_KEY', 'Ed25519 public key has a small-order component');
  }
}

/** The key id of an Ed25519 public key (see the module comment). */
export function keyId(publicKey: Uint8Array): string {
  assertPublicKey(publicKey);
  return toHex(sha256(concatBytes(KEY_ID_PREFIX, publicKey)).subarray(0, 16));
}

function isAcceptablePoint(encoding: Uint8Array): boolean {
  return isCanonicalY(encoding) && !SMALL_ORDER_ENCODINGS.has(toHex(encoding));
}

/** y (the low 255 bits, little-endian) < p = 2^255 - 19. */
function isCanonicalY(encoding: Uint8Array): boolean {
  if (((encoding[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoding[i] !== 0xff) return true;
  return (encoding[0] as number) < 0xed;
}

/** Little-endian s < L. */
function isBelowOrder(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] as number;
    const b = L_BYTES[i] as number;
    if (a !== b) return a < b;
  }
  return false;
}
