/**
 * Matching of fully blinded tags (spec/protocol.md §5.4): for every position of every lab's set,
 * which other labs hold the same tag. Each set is one contiguous buffer of 32-byte tags, so a
 * million-item set is 32 MB, not a million strings.
 *
 * The index is an open-addressing hash table in typed arrays, its slots chosen by a keyed hash of
 * the whole tag (a lab cannot aim its tags at one probe run: see below) and confirmed by comparing
 * all 32 bytes. 3 × 1,000,000 tags take well under a second and about 65 MB on top of the
 * sets themselves (bench: `pnpm bench relay`).
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
  /** The longest probe run any insertion needed (a diagnostic: small for any input, by design). */
  readonly longestProbe: number;
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
  // One table, three 32-bit words per slot so that a probe touches one cache line: the record in
  // the slot (-1: empty), the tag's second word as a fingerprint (the full tag is read only when it
  // matches), and the holder bitmask of labs 0–31 (labs 32–63 in `holdersHigh`, when there are any).
  const table = new Int32Array(capacity * 3);
  for (let slot = 0; slot < capacity; slot++) table[slot * 3] = -1;
  const recordLab = new Uint8Array(total);
  const recordPos = new Uint32Array(total);
  const holdersHigh = new Uint32Array(sets.length > 32 ? capacity : 0);
  // For every (lab, position), the slot its tag landed in.
  const slotOf = counts.map((n) => new Int32Array(n));

  // The last hop of each set chooses its final tags, and the relay cannot check them: a lab could
  // send a million tags built to land in one probe run and make matching quadratic. Slots therefore
  // come from a hash of the whole tag under a fresh random key the labs never see.
  const seed = globalThis.crypto.getRandomValues(new Uint32Array(1))[0] as number;
  let records = 0;
  let longestProbe = 0;
  for (let lab = 0; lab < sets.length; lab++) {
    const w = words[lab] as Uint32Array;
    const slots = slotOf[lab] as Int32Array;
    const bit = lab < 32 ? 1 << lab : 1 << (lab - 32);
    for (let position = 0; position < (counts[lab] as number); position++) {
      const base = position * WORDS;
      const fingerprint = (w[base + 1] as number) | 0;
      let slot = slotHash(w, base, seed) & mask;
      for (let probe = 1; ; probe++) {
        if (probe > longestProbe) longestProbe = probe;
        const at = slot * 3;
        const record = table[at] as number;
        if (record < 0) {
          table[at] = records;
          table[at + 1] = fingerprint;
          recordLab[records] = lab;
          recordPos[records] = position;
          records++;
          break;
        }
        if (
          table[at + 1] === fingerprint &&
          sameTag(w, base, words[recordLab[record] as number] as Uint32Array, (recordPos[record] as number) * WORDS)
        )
          break;
        slot = (slot + 1) & mask;
      }
      slots[position] = slot;
      if (lab < 32) table[slot * 3 + 2] = (table[slot * 3 + 2] as number) | bit;
      else holdersHigh[slot] = ((holdersHigh[slot] as number) | bit) >>> 0;
    }
  }
  const low = (slot: number): number => (table[slot * 3 + 2] as number) >>> 0;
  const own = (lab: number, slot: number): boolean =>
    lab < 32
      ? low(slot) === (1 << lab) >>> 0 && (holdersHigh[slot] ?? 0) === 0
      : low(slot) === 0 && holdersHigh[slot] === (1 << (lab - 32)) >>> 0;
  return {
    longestProbe,
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
      const lowBits = low(slot);
      const high = holdersHigh[slot] ?? 0;
      for (let other = 0; other < sets.length; other++) {
        if (other === lab) continue;
        const bit = other < 32 ? (lowBits >>> other) & 1 : (high >>> (other - 32)) & 1;
        if (bit) others.push(other);
      }
      return others;
    },
  };
}

/** A keyed 32-bit mix of the tag's eight words (multiply–xorshift rounds, murmur3's finalizer). */
function slotHash(w: Uint32Array, base: number, seed: number): number {
  let h = seed;
  for (let i = 0; i < WORDS; i++) {
    h = Math.imul(h ^ (w[base + i] as number), 0x9e3779b1);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function sameTag(a: Uint32Array, aBase: number, b: Uint32Array, bBase: number): boolean {
  for (let i = 0; i < WORDS; i++) if (a[aBase + i] !== b[bBase + i]) return false;
  return true;
}
