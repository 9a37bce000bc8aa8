/**
 * The one generator of RFC 9162 (Certificate Transparency 2.0) proofs: an in-memory Merkle tree over
 * leaf hashes that walks PATH(m, D[n]) (§2.1.3.1) and PROOF(m, D[n]) (§2.1.4.1) from the root down,
 * with cached subtree roots, so that proofs for many leaves and sizes cost O(log n) hashes each after
 * the first: what a relay (or a test walking every leaf of every tree) needs. `inclusionProof` and
 * `consistencyProof` are the same walk over a one-off tree. Verification is proofs.ts.
 */
import { sha256 } from '@overlap/crypto';
import { LogError } from './errors.js';
import { nodeHash, splitPoint } from './tree-hash.js';

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the inclusion proof of leaf `index` in the tree of these leaves. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  return new MerkleTree(leafHashes).inclusionProof(index);
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): the consistency proof from the first `size1` leaves to all of them. */
export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number): Uint8Array[] {
  return new MerkleTree(leafHashes).consistencyProof(size1);
}

export class MerkleTree {
  readonly #leaves: Uint8Array[] = [];
  readonly #cache = new Map<string, Uint8Array>();

  constructor(leafHashes: readonly Uint8Array[] = []) {
    for (const hash of leafHashes) this.append(hash);
  }

  get size(): number {
    return this.#leaves.length;
  }

  append(leafHash: Uint8Array): number {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== 32)
      throw new LogError('BAD_HASH', 'a leaf hash must be 32 bytes');
    this.#leaves.push(Uint8Array.from(leafHash)); // a copy: the caller may reuse its buffer
    return this.#leaves.length - 1;
  }

  /** MTH of the first `size` leaves (default: all). */
  root(size = this.size): Uint8Array {
    this.#checkSize(size);
    return size === 0 ? sha256() : this.#subtree(0, size);
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.#checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LogError('BAD_INDEX', `leaf index ${index} is not below the tree size ${size}`);
    }
    let [start, end, m] = [0, size, index];
    const stack: Uint8Array[] = [];
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (m < k) {
        stack.push(this.#subtree(start + k, end));
        end = start + k;
      } else {
        stack.push(this.#subtree(start, start + k));
        start += k;
        m -= k;
      }
    }
    return stack.reverse();
  }

  consistencyProof(size1: number, size2 = this.size): Uint8Array[] {
    this.#checkSize(size2);
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
      throw new LogError('BAD_INDEX', `size1 ${size1} must be from 0 to ${size2}`);
    }
    if (size1 === 0 || size1 === size2) return [];
    const stack: Uint8Array[] = [];
    let [start, end, m, complete] = [0, size2, size1, true];
    while (m !== end - start) {
      const k = splitPoint(end - start);
      if (m <= k) {
        stack.push(this.#subtree(start + k, end));
        end = start + k;
      } else {
        stack.push(this.#subtree(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    if (!complete) stack.push(this.#subtree(start, end));
    return stack.reverse();
  }

  #subtree(start: number, end: number): Uint8Array {
    if (end - start === 1) return this.#leaves[start] as Uint8Array;
    const key = `${start}:${end}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const k = splitPoint(end - start);
    const hash = nodeHash(this.#subtree(start, start + k), this.#subtree(start + k, end));
    this.#cache.set(key, hash);
    return hash;
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new LogError('BAD_INDEX', `tree size ${size} must be from 0 to ${this.size}`);
    }
  }
}
