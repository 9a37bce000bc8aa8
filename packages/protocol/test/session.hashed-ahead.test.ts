/**
 * A lab's own sets hashed onto the group before the session (hashSets, LabSessionOptions.hashed):
 * the session then only blinds them, and its tags are exactly hashAndBlind(k, kind, value) of its
 * secret order — computed here item by item, in one step, as the independent reference. Sets that
 * are not exactly the session's values are ignored, and the session hashes them itself.
 */
import { BlindingKey, hashAndBlind, hashToGroup, toHex } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { type HashedSet, hashSets, LabSession, runSessionInMemory, type SessionMessage } from '../src/index.js';
import { labIds, plaintextTruth, sortedResults } from './session.helpers.js';

const ids = labIds(2);
const values = Array.from({ length: 2100 }, (_, i) => `user-${i}@example.com`);
const proposal = { labs: ids, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 3000, chunkSize: 1024 };

/** The tags of the lab's opening, and what the reference says they must be for its key and order. */
async function openingOf(hashed?: ReadonlyMap<string, HashedSet>) {
  const lab = new LabSession({
    me: ids[0] as string,
    sessionId: new Uint8Array(16).fill(7),
    publicKeyOf: () => undefined,
    proposal,
    sets: { email: [...values, values[0] as string] },
    ...(hashed !== undefined && { hashed }),
  });
  const messages: SessionMessage[] = await lab.start();
  const tags = messages.flatMap((m) => {
    if (m.type !== 'tag_chunk') return [];
    const bytes = m.body.tags as Uint8Array;
    return Array.from({ length: bytes.length / 32 }, (_, i) => toHex(bytes.subarray(i * 32, i * 32 + 32)));
  });
  const state = lab.state();
  const key = BlindingKey.fromBytes(state.key as Uint8Array);
  const order = state.order.email as string[];
  const expected = order.map((value) => toHex(hashAndBlind(key, 'email', value)));
  key.dispose();
  lab.dispose();
  return { tags, expected, order };
}

describe('own sets hashed ahead of the session', () => {
  test('hashSets gives hash_to_group of each distinct value, sorted', async () => {
    const hashed = await hashSets({ email: [...values].reverse() }, { workers: 0 });
    const set = hashed.get('email') as HashedSet;
    expect(set.values).toEqual([...values].sort());
    expect(set.points.length).toBe(32 * values.length);
    set.values.forEach((value, i) => {
      expect(toHex(set.points.subarray(i * 32, i * 32 + 32))).toBe(toHex(hashToGroup('email', value)));
    });
  });

  test('a session given them sends exactly hashAndBlind of its secret order', async () => {
    const { tags, expected, order } = await openingOf(await hashSets({ email: values }, { workers: 0 }));
    expect(order).toHaveLength(values.length);
    expect(new Set(order)).toEqual(new Set(values));
    expect(tags).toEqual(expected);
  });

  test('they are used: points that are not the values’ give other tags', async () => {
    // Not an attack (the points are the lab's own computation): this shows the session blinds
    // the points it is given instead of hashing the values again.
    const hashed = await hashSets({ email: values }, { workers: 0 });
    const set = hashed.get('email') as HashedSet;
    const other = await hashSets({ email: values.map((v) => `x${v}`) }, { workers: 0 });
    const swapped = new Map([['email', { values: set.values, points: (other.get('email') as HashedSet).points }]]);
    const { tags, expected } = await openingOf(swapped);
    expect(tags).toHaveLength(expected.length);
    expect(tags.filter((tag, i) => tag === expected[i])).toEqual([]);
  });

  test.each([
    ['one value fewer', values.slice(1)],
    ['one value more', [...values, 'extra@example.com']],
    ['one value changed', ['changed@example.com', ...values.slice(1)]],
  ])('a set that is not the session’s (%s) is ignored: the session hashes itself', async (_label, other) => {
    const { tags, expected } = await openingOf(await hashSets({ email: other }, { workers: 0 }));
    expect(tags).toEqual(expected);
  });

  test.each([
    ['one point short', -32],
    ['one point too many (harmless, but not what hashSets gives)', 32],
  ])('a set whose points do not match its values in number (%s) is ignored', async (_label, delta) => {
    const set = (await hashSets({ email: values }, { workers: 0 })).get('email') as HashedSet;
    const points = new Uint8Array(set.points.length + delta);
    points.set(set.points.subarray(0, Math.min(points.length, set.points.length)));
    const { tags, expected } = await openingOf(new Map([['email', { values: set.values, points }]]));
    expect(tags).toEqual(expected);
  });

  test('a whole session with one lab hashing ahead finds the plaintext truth', async () => {
    const labs = ids.map((keyId, i) => ({
      keyId,
      sets: { email: [...values.slice(0, 500), ...values.slice(500 + i * 800, 1300 + i * 800)] },
    }));
    const hashed = await hashSets(labs[0]?.sets as Record<string, string[]>, { workers: 0 });
    const run = await runSessionInMemory(proposal, labs, {
      createLab: (options) => new LabSession(options.me === ids[0] ? { ...options, hashed } : options),
    });
    expect(run.relay.state).toBe('done');
    const truth = plaintextTruth(labs, ['email'], { kind: 'labs' });
    for (const id of ids) expect(sortedResults(run.results.get(id) ?? new Map())).toEqual(truth.get(id));
  });
});
