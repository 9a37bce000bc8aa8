/**
 * The portable backend: @noble/curves and @noble/hashes only, no Node built-ins, so it runs in a
 * browser. It is the reference the native backend is tested against, and the fallback where the
 * native addon cannot load.
 */
import { ed25519, ed25519_hasher, x25519 } from '@noble/curves/ed25519.js';
import type { CryptoBackend } from './backend.js';
import { CryptoError } from './errors.js';

const Fp = ed25519.Point.Fp;

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
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};
