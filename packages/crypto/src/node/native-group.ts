/**
 * The native backend's edwards25519 operations on G for the hop proofs (spec/ciphersuite.md §10),
 * on libsodium: crypto_scalarmult_ed25519_noclamp / _base_noclamp (constant-time in the scalar),
 * crypto_core_ed25519_is_valid_point, crypto_core_ed25519_add, and
 * crypto_core_ed25519_scalar_reduce / _add / _sub.
 *
 * Threat: a point with a torsion component taken for a point of G. libsodium's own check
 * (is_valid_point, and the same check inside every noclamp multiplication) is not enough: its
 * "main subgroup" test only asks that [L]P have x = 0, which [L](P + T₂) = T₂ = (0, −1) passes, so
 * it accepts P + T₂ — exactly the point whose u is 1/u, the hop that nullifies tags. Here a point
 * is in G only if, besides libsodium's check, [L]P is the identity; and a product [n]P is computed
 * twice, as [n]P and [n + L]P, which differ (by T₂) exactly when P has a T₂ component, since n and
 * n + L have different parities.
 *
 * libsodium's multiplications also fail (-1; sodium-native throws) when the result is the identity
 * or the scalar is zero: those cases are told apart by checking the point, so a zero scalar gives
 * the identity exactly as the portable backend does.
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
  sodium_add(a: Uint8Array, b: Uint8Array): void;
  sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
}

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ORDER = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

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
  /** [n]P by libsodium, or undefined where it refuses (P fails its check, or the result is the identity). */
  function tryMult(scalar: Uint8Array, point: Uint8Array): Uint8Array | undefined {
    const q = new Uint8Array(32);
    try {
      sodium.crypto_scalarmult_ed25519_noclamp(q, scalar, point);
      return q;
    } catch {
      return undefined;
    }
  }

  /** libsodium's check, and [L]P the identity (libsodium refuses to return it). */
  function isPointOfG(encoding: Uint8Array): boolean {
    if (!sodium.crypto_core_ed25519_is_valid_point(encoding)) return false;
    const torsion = tryMult(ORDER, encoding);
    if (torsion === undefined) return true;
    wipe(torsion); // [L]P = T₂: P has an order-2 component
    return false;
  }

  function scalarMultNoClamp(scalar: Uint8Array, point: Uint8Array): Uint8Array | undefined {
    // n mod L (bit 255 cleared first, as libsodium reads a no-clamp scalar), and n mod L + L.
    const wide = new Uint8Array(64);
    wide.set(scalar, 0);
    wide[31] = (wide[31] as number) & 127;
    const n = new Uint8Array(32);
    sodium.crypto_core_ed25519_scalar_reduce(n, wide);
    const other = Uint8Array.from(n);
    sodium.sodium_add(other, ORDER);
    try {
      const product = tryMult(n, point);
      const check = tryMult(other, point);
      if (product !== undefined && check !== undefined) {
        const inGroup = sodium.sodium_memcmp(product, check);
        wipe(check);
        if (inGroup) return product;
        wipe(product);
        return undefined;
      }
      // A zero result, or a point libsodium refuses: decide by the point itself.
      if (isIdentity(point)) return identity();
      if (!isPointOfG(point)) return undefined;
      return product ?? identity();
    } finally {
      wipe(wide, n, other);
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
    isPointOfG,
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
    multiScalarMult(scalars, points, options = {}) {
      let sum: Uint8Array | undefined;
      for (let i = 0; i < points.length; i++) {
        const point = points[i] as Uint8Array;
        const scalar = scalars[i] as Uint8Array;
        // Points already checked: one multiplication (a zero product is the identity).
        const term = options.pointsChecked
          ? (tryMult(scalar, point) ?? (isPointOfG(point) ? identity() : undefined))
          : scalarMultNoClamp(scalar, point);
        // The identity is a valid term but not a point of G: check it was not the input.
        if (term === undefined || isIdentity(point)) return { notInGroup: i };
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
