/**
 * The native backend's edwards25519 operations on G for the hop proofs (spec/ciphersuite.md §10),
 * on libsodium: crypto_core_ed25519_is_valid_point (canonical, on the curve, not of small order,
 * [L]P the identity), crypto_scalarmult_ed25519_noclamp / _base_noclamp (constant-time in the
 * scalar), crypto_core_ed25519_add, and crypto_core_ed25519_scalar_reduce / _add / _sub.
 *
 * Threat: a point with a torsion component (P + T₂, a twist point) accepted as a point of G would
 * let a hop send u to 1/u and prove it. libsodium's noclamp multiplication refuses any point that
 * is not in G, and also fails (-1; sodium-native throws) when the result is the identity or the
 * scalar is zero: those two cases are told apart here by checking the point again, so a zero
 * scalar gives the identity exactly as the portable backend does.
 */
import type { CryptoBackend } from '../backend.js';
import { wipe } from '../bytes.js';
import { CryptoError } from '../errors.js';

export interface SodiumGroup {
  crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  crypto_core_ed25519_scalar_reduce(r: Uint8Array, s: Uint8Array): void;
  crypto_core_ed25519_scalar_add(z: Uint8Array, x: Uint8Array, y: Uint8Array): void;
  crypto_core_ed25519_scalar_sub(z: Uint8Array, x: Uint8Array, y: Uint8Array): void;
}

type GroupOps = Pick<
  CryptoBackend,
  | 'isPointOfG'
  | 'scalarMultNoClamp'
  | 'baseMultNoClamp'
  | 'multiScalarMult'
  | 'pointAdd'
  | 'scalarReduce64'
  | 'scalarMulSub'
>;

/** The identity's encoding: y = 1, x = 0. */
function identity(): Uint8Array {
  const out = new Uint8Array(32);
  out[0] = 1;
  return out;
}

function isIdentity(point: Uint8Array): boolean {
  if (point[0] !== 1) return false;
  for (let i = 1; i < 32; i++) if (point[i] !== 0) return false;
  return true;
}

export function createNativeGroup(sodium: SodiumGroup): GroupOps {
  function scalarMultNoClamp(scalar: Uint8Array, point: Uint8Array): Uint8Array | undefined {
    const q = new Uint8Array(32);
    try {
      sodium.crypto_scalarmult_ed25519_noclamp(q, scalar, point);
      return q;
    } catch {
      // Refused: P is not in G (nor the identity, which libsodium refuses as of small order), or
      // the result is the identity (a zero scalar, or n ≡ 0 mod L).
      if (isIdentity(point) || sodium.crypto_core_ed25519_is_valid_point(point)) return identity();
      return undefined;
    }
  }

  function pointAdd(p: Uint8Array, q: Uint8Array): Uint8Array {
    const r = new Uint8Array(32);
    try {
      sodium.crypto_core_ed25519_add(r, p, q);
    } catch (cause) {
      throw new CryptoError('BAD_INPUT', 'an edwards25519 addition was given a string that is not a point', { cause });
    }
    return r;
  }

  return {
    isPointOfG: (encoding) => sodium.crypto_core_ed25519_is_valid_point(encoding),
    scalarMultNoClamp,
    baseMultNoClamp(scalar) {
      const q = new Uint8Array(32);
      try {
        sodium.crypto_scalarmult_ed25519_base_noclamp(q, scalar);
      } catch {
        return identity(); // libsodium refuses only a result that is the identity
      }
      return q;
    },
    multiScalarMult(scalars, points) {
      let sum: Uint8Array | undefined;
      for (let i = 0; i < points.length; i++) {
        const term = scalarMultNoClamp(scalars[i] as Uint8Array, points[i] as Uint8Array);
        // The identity is a valid term but not a point of G: check it was not the input.
        if (term === undefined || isIdentity(points[i] as Uint8Array)) return { notInGroup: i };
        sum = sum === undefined ? term : pointAdd(sum, term);
      }
      return { sum: sum ?? identity() };
    },
    pointAdd,
    scalarReduce64(bytes) {
      const r = new Uint8Array(32);
      sodium.crypto_core_ed25519_scalar_reduce(r, bytes);
      return r;
    },
    scalarMulSub(r, c, s) {
      // libsodium has no scalar_mul in sodium-native's binding: c·s by double-and-add over the
      // bits of c, which is public, with libsodium's constant-time scalar additions on s.
      const product = new Uint8Array(32);
      for (let bit = 255; bit >= 0; bit--) {
        sodium.crypto_core_ed25519_scalar_add(product, product, product);
        if ((((c[bit >> 3] as number) >> (bit & 7)) & 1) === 1) {
          sodium.crypto_core_ed25519_scalar_add(product, product, s);
        }
      }
      const z = new Uint8Array(32);
      sodium.crypto_core_ed25519_scalar_sub(z, r, product);
      wipe(product);
      return z;
    },
  };
}
