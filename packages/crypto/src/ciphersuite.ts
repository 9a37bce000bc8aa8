/**
 * The fixed identifiers of ciphersuite OVERLAP-V1 (why these: docs/architecture.md §6; the
 * normative text is spec/ciphersuite.md).
 *
 * hash_to_group(kind, value) is RFC 9380 `encode_to_curve` for the suite
 * `curve25519_XMD:SHA-512_ELL2_NU_` with the domain separation tag below, applied to
 * UTF-8(kind) || 0x00 || UTF-8(value); blinding is X25519 (RFC 7748).
 */

export const CIPHERSUITE_ID = 'OVERLAP-V1';

/** RFC 9380 suite that hash_to_group instantiates. */
export const HASH_TO_CURVE_SUITE = 'curve25519_XMD:SHA-512_ELL2_NU_';

/** RFC 9380 domain separation tag: binds every hashed indicator to this ciphersuite. */
export const HASH_TO_GROUP_DST = `${CIPHERSUITE_ID}-CS01-with-${HASH_TO_CURVE_SUITE}`;

/** HASH_TO_GROUP_DST as the bytes the backends take. */
export const HASH_TO_GROUP_DST_BYTES: Uint8Array = new TextEncoder().encode(HASH_TO_GROUP_DST);

/** Length in bytes of a curve point (an X25519 u-coordinate), a blinding key and a tag. */
export const POINT_LENGTH = 32;
