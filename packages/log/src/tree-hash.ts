/**
 * Merkle tree hashing of RFC 9162 (Certificate Transparency 2.0), section 2.1.1.
 *
 * Leaves and interior nodes are hashed with distinct one-byte prefixes (0x00, 0x01) so that no
 * leaf can be passed off as an interior node (the second-preimage attack on plain Merkle trees).
 */
import { sha256 } from '@overlap/crypto';
import { LogError } from './errors.js';

/** Length in bytes of every tree hash (SHA-256). */
export const HASH_LENGTH = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** MTH({d0}) = SHA-256(0x00 || d0). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, leaf);
}

/** SHA-256(0x01 || left || right) for two child hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'left');
  assertHash(right, 'right');
  return sha256(NODE_PREFIX, left, right);
}

/** MTH(D[n]) over leaf hashes already computed with `leafHash`; the empty tree is SHA-256(""). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  leafHashes.forEach((hash, i) => {
    assertHash(hash, `leaf hash ${i}`);
  });
  if (leafHashes.length === 0) return sha256();
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/** MTH(D[n]) over raw leaves. */
export function rootHash(leaves: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(leaves.map(leafHash));
}

/** The largest power of two strictly less than n (n >= 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new LogError('BAD_INDEX', `split point needs a tree of at least 2 leaves, got ${n}`);
  }
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeRoot(hashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return hashes[start] as Uint8Array;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(hashes, start, start + k), subtreeRoot(hashes, start + k, end));
}

function assertHash(hash: Uint8Array, name: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw new LogError('BAD_HASH', `${name} must be a ${HASH_LENGTH}-byte hash, got ${got}`);
  }
}
