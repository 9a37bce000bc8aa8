/**
 * Verification of the inclusion and consistency proofs of RFC 9162 (Certificate Transparency 2.0),
 * §2.1.3.2 and §2.1.4.2 (the bitwise algorithms), with the strict checks of the transparency-dev/merkle
 * verifier: the proof length must be exact, 0 <= index < size, size1 <= size2, an empty proof for
 * equal sizes, and from the empty tree only the empty proof (every tree extends the empty one, as
 * C2SP tlog-witness's `old 0` requests need). Proofs are generated in one place, merkle-tree.ts.
 *
 * Threat: the relay builds every proof; labs and auditors verify them. A verifier that accepted
 * extra or missing hashes, or an index past the end, would let a relay prove what is not in its log.
 * Verification returns false for a proof that does not hold and throws (`BAD_HASH`, `BAD_INDEX`)
 * only for malformed input. Sizes are plain numbers (exact up to 2^53), so arithmetic here never
 * uses 32-bit bitwise operators.
 */
import { equalBytes } from '@overlap/crypto';
import { LogError } from './errors.js';
import { HASH_LENGTH, nodeHash } from './tree-hash.js';

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: does `proof` show `leafHash` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  checkHashes([leafHash, root, ...proof]);
  checkSize(index, 'leaf index');
  checkSize(size, 'tree size');
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false; // the proof is longer than the path
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/** RFC 9162 §2.1.4.2: is the tree (`size2`, `root2`) an append-only extension of (`size1`, `root1`)? */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  checkHashes([root1, root2, ...proof]);
  checkSize(size1, 'size1');
  checkSize(size2, 'size2');
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (size1 === 0) return proof.length === 0; // every tree extends the empty one; no hash can prove more
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false; // the proof is longer than it can be
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

function checkSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new LogError('BAD_INDEX', `${name} must be a whole number, got ${n}`);
}

function checkHashes(hashes: readonly Uint8Array[]): void {
  hashes.forEach((hash, i) => {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH) {
      throw new LogError('BAD_HASH', `hash ${i} must be ${HASH_LENGTH} bytes`);
    }
  });
}
