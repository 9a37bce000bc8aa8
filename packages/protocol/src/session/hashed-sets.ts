/**
 * A lab's own sets hashed onto the group before its session starts. hash_to_group depends on the
 * kind and the value only, never on the session (spec/ciphersuite.md §2), so a lab can hash while
 * it still asks the relay who it is and what the session's terms are; the session then only
 * blinds (`LabSessionOptions.hashed`). Nothing here is secret beyond the values themselves, and
 * nothing of it leaves the lab: the tags the session sends are blind(k, point), exactly what
 * hashing and blinding in one step gives.
 *
 * A set is used only for the exact values the session commits to (the same distinct values, by
 * content): a stale or partial one is ignored, and the session hashes that kind itself.
 */
import { type BatchOptions, hashToGroupBatch } from '@overlap/crypto';
import { distinct, shuffleInPlace } from './order.js';

/** One kind's values (distinct and sorted, as the session orders them before its shuffle) and their points. */
export interface HashedSet {
  values: readonly string[];
  /** hash_to_group(kind, values[i]) at i × 32, 32 bytes each. */
  points: Uint8Array;
}

export type HashedSets = ReadonlyMap<string, HashedSet>;

/** hash_to_group of every distinct value of every kind, on `options.pool` (or `options.workers`). */
export async function hashSets(
  sets: Record<string, readonly string[]>,
  options: Pick<BatchOptions, 'pool' | 'workers' | 'signal' | 'backend'> = {},
): Promise<HashedSets> {
  const out = new Map<string, HashedSet>();
  for (const [kind, set] of Object.entries(sets)) {
    const values = distinct(set);
    const points = new Uint8Array(values.length * 32);
    let i = 0;
    for await (const point of hashToGroupBatch(itemsOf(kind, values), options)) points.set(point, 32 * i++);
    out.set(kind, { values, points });
  }
  return out;
}

/**
 * The session's secret order of `values` (distinct and sorted) and, when `hashed` holds exactly
 * these values and one point for each, their points in that order; else the points are undefined
 * and the session hashes.
 */
export function shuffleWithPoints(
  values: string[],
  hashed: HashedSet | undefined,
): { order: string[]; points: Uint8Array | undefined } {
  if (hashed === undefined || hashed.points.length !== 32 * values.length || !sameValues(hashed.values, values))
    return { order: shuffleInPlace(values), points: undefined };
  const positions = shuffleInPlace(Array.from(values, (_, i) => i));
  const points = new Uint8Array(positions.length * 32);
  positions.forEach((from, to) => {
    points.set(hashed.points.subarray(from * 32, from * 32 + 32), to * 32);
  });
  return { order: positions.map((from) => values[from] as string), points };
}

/** The batch functions' input for one kind's values. */
export function* itemsOf(kind: string, values: readonly string[]): Generator<{ kind: string; value: string }> {
  for (const value of values) yield { kind, value };
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
