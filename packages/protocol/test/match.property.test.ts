/**
 * matchFinalTags against an independent computation: a Map from the hex of each tag to its holders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchFinalTags } from '../src/session/match.js';

function truth(sets: readonly Uint8Array[]): number[][][] {
  const holders = new Map<string, Set<number>>();
  const hexes = sets.map((set) => {
    const list: string[] = [];
    for (let i = 0; i < set.length; i += 32) list.push(Buffer.from(set.subarray(i, i + 32)).toString('hex'));
    return list;
  });
  hexes.forEach((list, lab) => {
    for (const hex of list) holders.set(hex, (holders.get(hex) ?? new Set()).add(lab));
  });
  return hexes.map((list, lab) =>
    list.map((hex) => [...(holders.get(hex) as Set<number>)].filter((l) => l !== lab).sort((a, b) => a - b)),
  );
}

const pool = fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 20 });

describe('matchFinalTags', () => {
  it('agrees with a plaintext map for random sets drawn from a shared pool', () => {
    fc.assert(
      fc.property(
        pool.chain((tags) =>
          fc.tuple(
            fc.constant(tags),
            fc.array(fc.array(fc.nat(tags.length - 1), { maxLength: 25 }), { minLength: 2, maxLength: 6 }),
          ),
        ),
        ([tags, picks]) => {
          const sets = picks.map((indices) => {
            const set = new Uint8Array(indices.length * 32);
            indices.forEach((t, i) => {
              set.set(tags[t] as Uint8Array, i * 32);
            });
            return set;
          });
          const matched = matchFinalTags(sets);
          const expected = truth(sets);
          for (const [lab, positions] of expected.entries()) {
            const shared: [number, number[]][] = [];
            matched.forEachShared(lab, (position, others) => shared.push([position, others]));
            expect(shared).toEqual(
              positions.flatMap((others, position) => (others.length > 0 ? [[position, others]] : [])),
            );
            for (const [position, others] of positions.entries())
              expect(matched.othersAt(lab, position)).toEqual(others);
          }
        },
      ),
    );
  });

  it('tells tags apart that share their first 28 bytes (the hash key is only 4)', () => {
    const a = new Uint8Array(32).fill(7);
    const b = new Uint8Array(32).fill(7);
    b[31] = 8;
    const matched = matchFinalTags([a, b, a]);
    expect(matched.othersAt(0, 0)).toEqual([2]);
    expect(matched.othersAt(1, 0)).toEqual([]);
  });

  it('handles labs beyond 32 and unaligned buffers', () => {
    const tag = new Uint8Array(33).fill(1).subarray(1);
    const sets = Array.from({ length: 40 }, (_, i) => (i === 3 || i === 37 ? tag : new Uint8Array(0)));
    expect(matchFinalTags(sets).othersAt(37, 0)).toEqual([3]);
    expect(() => matchFinalTags([new Uint8Array(31)])).toThrow(/multiple of 32/);
    expect(() => matchFinalTags(Array.from({ length: 65 }, () => new Uint8Array(0)))).toThrow(/64 labs/);
    expect(() => matchFinalTags([new Uint8Array(32)]).othersAt(0, 1)).toThrow(/position 1/);
  });
});

describe('matchFinalTags against crafted tags', () => {
  it('keeps probe runs short when every tag shares its first 28 bytes (no run a lab can aim at)', () => {
    const n = 200_000;
    const set = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) new DataView(set.buffer).setUint32(i * 32 + 28, i);
    const matched = matchFinalTags([set, set.slice(0, 32 * 10)]);
    expect(matched.othersAt(1, 9)).toEqual([0]);
    expect(matched.othersAt(0, n - 1)).toEqual([]);
    // Slots from the first bytes alone would put all 200,000 tags in one run (probes up to 200,000).
    expect(matched.longestProbe).toBeLessThan(100);
  });
});
