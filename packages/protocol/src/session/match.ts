/**
 * Matching of fully blinded tags (spec/protocol.md §5.4): for every position of every lab's set,
 * which other labs hold the same tag. Each set is one contiguous buffer of 32-byte tags, so a
 * million-item set is 32 MB, not a million strings.
 *
 * The index is an open-addressing hash table in typed arrays, keyed by the tag's first 32 bits
 * (fully blinded tags are uniformly distributed, so they need no further hashing) and confirmed by
 * comparing all 32 bytes. 3 × 1,000,000 tags take a few hundred milliseconds and about 60 MB on top
 * of the sets themselves (bench: `pnpm bench relay-match`).
 */
import { ProtocolError } from '../errors.js';

const TAG = 32;
const WORDS = TAG / 4;

export interface HolderSets {
  /** The other labs (indices into `sets`) that hold the tag at `position` of lab `lab`'s set. */
  othersAt(lab: number, position: number): number[];
  /**
   * Calls `visit` for each position of lab `lab`'s set whose tag another lab also holds, in order
   * of position: most positions of a large set are held by one lab only and cost one mask test.
   */
  forEachShared(lab: number, visit: (position: number, others: number[]) => void): void;
}

/**
 * Indexes the final tags of one kind: `sets[i]` is lab i's final tags (length a multiple of 32).
 * At most 64 labs (the session limit).
 */
export function matchFinalTags(sets: readonly Uint8Array[]): HolderSets {
  if (sets.length > 64) throw new ProtocolError('INVALID_MESSAGE', 'at most 64 labs can be matched');
  const counts = sets.map((set) => {
    if (set.length % TAG !== 0)
      throw new ProtocolError('INVALID_MESSAGE', 'a set of tags must be a multiple of 32 bytes');
    return set.length / TAG;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  // Word views of each set (copied only when a set is not 4-byte aligned).
  const words = sets.map((set) =>
    set.byteOffset % 4 === 0
      ? new Uint32Array(set.buffer, set.byteOffset, set.length / 4)
      : new Uint32Array(new Uint8Array(set).buffer),
  );
  // A load factor of at most 3/4: probes stay short and 3,000,000 tags need 2^22 slots, not 2^23.
  let capacity = 1024;
  while (capacity * 3 < total * 4) capacity *= 2;
  const mask = capacity - 1;
  // slot -> 1 + record; a record is (lab, position) packed as lab * 2^26... kept as two arrays instead.
  const slotRecord = new Int32Array(capacity).fill(-1);
  const recordLab = new Uint8Array(total);
  const recordPos = new Uint32Array(total);
  // Holder bitmasks of each distinct tag, two 32-bit words (labs 0–31, 32–63).
  const holdersLow = new Uint32Array(capacity);
  const holdersHigh = new Uint32Array(sets.length > 32 ? capacity : 0); // labs 32–63 only when there are any
  // For every (lab, position), the slot its tag landed in.
  const slotOf = counts.map((n) => new Int32Array(n));

  let records = 0;
  for (let lab = 0; lab < sets.length; lab++) {
    const w = words[lab] as Uint32Array;
    const slots = slotOf[lab] as Int32Array;
    for (let position = 0; position < (counts[lab] as number); position++) {
      const base = position * WORDS;
      let slot = (w[base] as number) & mask;
      for (;;) {
        const record = slotRecord[slot] as number;
        if (record < 0) {
          slotRecord[slot] = records;
          recordLab[records] = lab;
          recordPos[records] = position;
          records++;
          break;
        }
        if (sameTag(w, base, words[recordLab[record] as number] as Uint32Array, (recordPos[record] as number) * WORDS))
          break;
        slot = (slot + 1) & mask;
      }
      slots[position] = slot;
      if (lab < 32) holdersLow[slot] = ((holdersLow[slot] as number) | (1 << lab)) >>> 0;
      else holdersHigh[slot] = ((holdersHigh[slot] as number) | (1 << (lab - 32))) >>> 0;
    }
  }
  const own = (lab: number, slot: number): boolean =>
    lab < 32
      ? holdersLow[slot] === (1 << lab) >>> 0 && (holdersHigh[slot] ?? 0) === 0
      : holdersLow[slot] === 0 && holdersHigh[slot] === (1 << (lab - 32)) >>> 0;
  return {
    forEachShared(lab, visit) {
      const slots = slotOf[lab];
      if (!slots) throw new ProtocolError('INVALID_MESSAGE', `no set ${lab}`);
      for (let position = 0; position < slots.length; position++) {
        if (own(lab, slots[position] as number)) continue;
        visit(position, this.othersAt(lab, position));
      }
    },
    othersAt(lab, position) {
      const slot = (slotOf[lab] as Int32Array)[position];
      if (slot === undefined) throw new ProtocolError('INVALID_MESSAGE', `no position ${position} in set ${lab}`);
      const others: number[] = [];
      const low = holdersLow[slot] as number;
      const high = holdersHigh[slot] ?? 0;
      for (let other = 0; other < sets.length; other++) {
        if (other === lab) continue;
        const bit = other < 32 ? (low >>> other) & 1 : (high >>> (other - 32)) & 1;
        if (bit) others.push(other);
      }
      return others;
    },
  };
}

function sameTag(a: Uint32Array, aBase: number, b: Uint32Array, bBase: number): boolean {
  for (let i = 0; i < WORDS; i++) if (a[aBase + i] !== b[bBase + i]) return false;
  return true;
}
