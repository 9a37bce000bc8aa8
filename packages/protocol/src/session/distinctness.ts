/**
 * Distinctness of a set's tags at every hop, and who is to blame for a duplicate (spec/protocol.md
 * §5.3). A lab's items are distinct, so an honest hop keeps them distinct; a hop that copies tags
 * (one tag everywhere: false positives for the owner) is caught when its hop of the set completes.
 *
 * Each tag leaves an 8-byte fingerprint in a typed array as it arrives (8 MB per million tags, not
 * a million strings); at completion a sorted copy shows the candidate pairs, which are confirmed
 * with the full tags read back from the archive. The blame goes to the lowest hop at which the two
 * tags are already equivalent (X25519(c₀, ·) equal): an honest hop maps u and 1/u to the same tag,
 * so an owner that uploads both must not frame hop 1.
 */
import { equalBytes, equivalentTags } from '@overlap/crypto';
import { hopLab } from './schedule.js';
import type { TagArchive } from './tag-archive.js';
import { TAG_LENGTH, tagAt } from './tags.js';

/** An empty fingerprint array for a set-hop of `size` tags. */
export function newFingerprints(size: number): BigUint64Array {
  return new BigUint64Array(size);
}

/** Records the fingerprints (first 8 bytes) of the tags of a chunk placed at `first`. */
export function recordFingerprints(into: BigUint64Array, first: number, tags: Uint8Array): void {
  // A word view needs 8-byte alignment: a decoded chunk is a view at any offset, so copy if needed.
  const aligned = tags.byteOffset % 8 === 0 ? tags : tags.slice();
  const words = new BigUint64Array(aligned.buffer, aligned.byteOffset, aligned.length / 8);
  const per = TAG_LENGTH / 8;
  for (let i = 0; i < words.length / per; i++) into[first + i] = words[i * per] as bigint;
}

/** Reads the tag at set position `position` of one hop of a set. */
export type TagReader = (hop: number, position: number) => Uint8Array;

/** A reader of a set's tags from the archive, for chunks of `chunkSize`. */
export function archiveReader(archive: TagArchive, owner: string, kind: string, chunkSize: number): TagReader {
  return (hop, position) => {
    const first = position - (position % chunkSize);
    return tagAt(archive.get({ owner, kind, hop, first }), position - first);
  };
}

/**
 * Two positions whose tags at `hop` are equal, if any (the first such pair in position order);
 * `fingerprints` is the hop's, complete.
 */
export function findDuplicate(
  fingerprints: BigUint64Array,
  hop: number,
  read: TagReader,
): [number, number] | undefined {
  const sorted = fingerprints.slice().sort();
  const repeated = new Set<bigint>();
  for (let k = 1; k < sorted.length; k++) if (sorted[k] === sorted[k - 1]) repeated.add(sorted[k] as bigint);
  if (repeated.size === 0) return undefined;
  // Rare: every position whose fingerprint repeats, grouped, then confirmed with the full tags.
  const groups = new Map<bigint, number[]>();
  fingerprints.forEach((fingerprint, position) => {
    if (!repeated.has(fingerprint)) return;
    const group = groups.get(fingerprint);
    if (group) group.push(position);
    else groups.set(fingerprint, [position]);
  });
  let found: [number, number] | undefined;
  for (const group of groups.values()) {
    for (let x = 0; x < group.length; x++) {
      for (let y = x + 1; y < group.length; y++) {
        const i = group[x] as number;
        const j = group[y] as number;
        if (!equalBytes(read(hop, i), read(hop, j))) continue;
        if (found === undefined || i < found[0] || (i === found[0] && j < found[1])) found = [i, j];
      }
    }
  }
  return found;
}

/** The lowest hop t ≤ `hop` at which the tags at i and j are equivalent: the hop to blame. */
export function blamedHop(i: number, j: number, hop: number, read: TagReader): number {
  for (let t = 0; t < hop; t++) if (equivalentTags(read(t, i), read(t, j))) return t;
  return hop;
}

/**
 * §5.3 for one complete hop of a set: equal tags found, blamed on the lowest hop where they are
 * equivalent (its lab, or the owner for hop 0), with the reason; or undefined.
 */
export function duplicateCulprit(
  labs: readonly string[],
  set: { owner: string; kind: string; hop: number },
  fingerprints: BigUint64Array,
  read: TagReader,
): { culprit: string; reason: string } | undefined {
  const { owner, kind, hop } = set;
  const pair = findDuplicate(fingerprints, hop, read);
  if (pair === undefined) return undefined;
  const [i, j] = pair;
  const t = blamedHop(i, j, hop, read);
  const culprit = labs[hopLab(labs.indexOf(owner), t, labs.length)] as string;
  const since = t === 0 ? `${culprit}'s own upload` : `hop ${t}, by ${culprit}`;
  return {
    culprit,
    reason: `positions ${i} and ${j} of ${owner}'s ${kind} set have the same tag at hop ${hop}, equivalent since ${since}`,
  };
}
