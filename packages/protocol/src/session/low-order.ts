/**
 * The 14 encodings of small-order points (spec/ciphersuite.md §3). A lab's tag that is one of them
 * does not depend on any key; the relay checks every tag it receives against this set, without
 * any curve arithmetic.
 */
const HEX = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

const LOW_ORDER: ReadonlySet<string> = new Set(
  HEX.flatMap((hex) => [hex, `${hex.slice(0, 62)}${(Number.parseInt(hex.slice(62), 16) | 0x80).toString(16)}`]),
);

export function isLowOrderEncoding(tagHex: string): boolean {
  return LOW_ORDER.has(tagHex);
}

/**
 * True for the one encoding X25519 outputs: bit 255 clear and the value below p = 2^255 - 19.
 * Honest tags are always canonical; a non-canonical one is a second spelling of some point.
 */
export function isCanonicalTag(tag: Uint8Array): boolean {
  if (((tag[31] as number) & 0x80) !== 0) return false;
  if (tag[31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (tag[i] !== 0xff) return true;
  return (tag[0] as number) < 0xed;
}
