/**
 * The portable backend: @noble/curves and @noble/hashes only, no Node built-ins, so it runs in a
 * browser. It is the reference the native backend is tested against, and the fallback where the
 * native addon cannot load. Its edwards25519 operations on G for the hop proofs: portable-group.ts.
 */
import { ed25519, ed25519_hasher, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from './backend.js';
import { concatBytes } from './bytes.js';
import { CryptoError } from './errors.js';
import { portableGroup } from './portable-group.js';

const Fp = ed25519.Point.Fp;
/** The prime order L of edwards25519's main subgroup. */
const ORDER = ed25519.Point.Fn.ORDER;

function encodeToCurve(message: Uint8Array, dst: Uint8Array): Uint8Array {
  const { y } = ed25519_hasher.encodeToCurve(message, { DST: dst }).toAffine();
  // u = (1 + y) / (1 - y) (RFC 7748 §4.1); the identity (y = 1) maps to u = 0 (inv0).
  const denominator = Fp.sub(Fp.ONE, y);
  const u = Fp.is0(denominator) ? Fp.ZERO : Fp.div(Fp.add(Fp.ONE, y), denominator);
  return Fp.toBytes(u);
}

export const portableBackend: CryptoBackend = {
  name: 'portable',
  encodeToCurve,
  encodeToCurveMany: (messages, dst) => messages.map((message) => encodeToCurve(message, dst)),
  x25519(scalar, u) {
    try {
      return x25519.scalarMult(scalar, u);
    } catch (cause) {
      // With a 32-byte scalar and a 32-byte u, noble throws only for a low-order u.
      throw new CryptoError('LOW_ORDER_POINT', 'X25519 input is a low-order point (all-zero result)', { cause });
    }
  },
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Verify(publicKey, message, signature) {
    // noble's verify checks the cofactored equation ([8][S]B = [8]R + [8][k]A); the suite requires
    // the cofactorless one, as OpenSSL (the native backend) checks it, so both backends agree on
    // every signature, including those built from keys or R with a small-order component.
    try {
      const a = ed25519.Point.fromBytes(publicKey, false);
      const r = ed25519.Point.fromBytes(signature.subarray(0, 32), false);
      const s = bytesToNumberLE(signature.subarray(32, 64));
      if (s >= ORDER) return false;
      const k = bytesToNumberLE(sha512(concatBytes(signature.subarray(0, 32), publicKey, message))) % ORDER;
      return ed25519.Point.BASE.multiplyUnsafe(s).equals(r.add(a.multiplyUnsafe(k)));
    } catch {
      return false; // an encoding that does not decode to a point
    }
  },
  ...portableGroup,
};
