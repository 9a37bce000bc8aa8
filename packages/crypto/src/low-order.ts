/**
 * The encodings of small-order points on curve25519 and its twist (spec/ciphersuite.md §3): the 14
 * 32-byte strings u for which X25519(k, u) is all zero for every clamped k — u in {0, 1, p − 1, and
 * the two order-8 points}, plus p and p + 1, each with bit 255 clear or set. Also the canonical
 * encoding test: what X25519 outputs (bit 255 clear, value below p). No curve arithmetic: these are
 * checks on bytes, usable by a relay that holds no keys.
 */
import { toHex } from './hex.js';

const BASE = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

/** The 14 low-order encodings, lowercase hex. */
export const LOW_ORDER_ENCODINGS: readonly string[] = BASE.flatMap((hex) => [
  hex,
  `${hex.slice(0, 62)}${(Number.parseInt(hex.slice(62), 16) | 0x80).toString(16)}`,
]);

const LOW_ORDER = new Set(LOW_ORDER_ENCODINGS);
/** First bytes of the low-order encodings: a relay checks millions of tags, most rejected here. */
const FIRST_BYTES = new Uint8Array(256);
for (const hex of LOW_ORDER_ENCODINGS) FIRST_BYTES[Number.parseInt(hex.slice(0, 2), 16)] = 1;

export function isLowOrderEncoding(u: Uint8Array): boolean {
  return u.length === 32 && FIRST_BYTES[u[0] as number] === 1 && LOW_ORDER.has(toHex(u));
}

/** Bit 255 clear and the value below p = 2^255 - 19: the one encoding X25519 outputs. */
export function isCanonicalEncoding(u: Uint8Array): boolean {
  if (u.length !== 32 || ((u[31] as number) & 0x80) !== 0) return false;
  if (u[31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (u[i] !== 0xff) return true;
  return (u[0] as number) < 0xed;
}

/** The low-order encodings as bytes, by first byte, for the packed check below. */
const BY_FIRST_BYTE = new Map<number, Uint8Array[]>();
for (const hex of LOW_ORDER_ENCODINGS) {
  const bytes = Uint8Array.from(hex.match(/../g) as string[], (pair) => Number.parseInt(pair, 16));
  const list = BY_FIRST_BYTE.get(bytes[0] as number) ?? [];
  list.push(bytes);
  BY_FIRST_BYTE.set(bytes[0] as number, list);
}

/**
 * Checks a run of concatenated 32-byte tags at once (a relay checks millions): the index of the first
 * tag that is a low-order or a non-canonical encoding, and which, or undefined if all are sound. No
 * allocation per tag: most tags are decided by their last and first bytes.
 */
export function findUnsafeTag(
  packed: Uint8Array,
): { index: number; reason: 'low_order' | 'non_canonical' } | undefined {
  for (let offset = 0, index = 0; offset + 32 <= packed.length; offset += 32, index++) {
    const top = packed[offset + 31] as number;
    const candidates =
      FIRST_BYTES[packed[offset] as number] === 1 ? BY_FIRST_BYTE.get(packed[offset] as number) : undefined;
    if (candidates?.some((encoding) => equalAt(packed, offset, encoding))) {
      return { index, reason: 'low_order' };
    }
    if ((top & 0x80) !== 0 || (top === 0x7f && !isCanonicalEncoding(packed.subarray(offset, offset + 32)))) {
      return { index, reason: 'non_canonical' };
    }
  }
  return undefined;
}

function equalAt(packed: Uint8Array, offset: number, encoding: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (packed[offset + i] !== encoding[i]) return false;
  return true;
}
