/**
 * The protocol's central promise: for any sets, any number of labs from 2 to 6, several kinds and
 * duplicates, every lab learns exactly what the plaintext truth and its reveal policy say — on both
 * crypto backends, in both proof modes, with every hop proven before any result (spec/protocol.md
 * §5.2).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type RevealPolicy, runSessionInMemory } from '../src/index.js';
import { labIds, plaintextTruth, sortedResults } from './session.helpers.js';

const KINDS = ['email', 'ip'];
const universe = {
  email: Array.from({ length: 12 }, (_, i) => `user${i}@example.com`),
  ip: Array.from({ length: 8 }, (_, i) => `192.0.2.${i}`),
};

const scenario = fc.integer({ min: 2, max: 6 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    sets: fc.array(
      fc.record({
        email: fc.array(fc.constantFrom(...universe.email), { maxLength: 10 }),
        ip: fc.array(fc.constantFrom(...universe.ip), { maxLength: 6 }),
      }),
      { minLength: n, maxLength: n },
    ),
    proofs: fc.constantFrom<('spot' | 'full')[]>('spot', 'full'),
    policy: fc.oneof(
      fc.constant<RevealPolicy>({ kind: 'labs' }),
      fc.constant<RevealPolicy>({ kind: 'count' }),
      fc.integer({ min: 2, max: n }).map((t): RevealPolicy => ({ kind: 'threshold', t })),
    ),
  }),
);

describe.each([
  ['native', 25],
  ['portable', 4],
] as const)('on the %s backend', (backend, numRuns) => {
  test.prop([scenario], { numRuns })(
    'every lab learns exactly the plaintext truth under its policy',
    async ({ n, sets, policy, proofs }) => {
      const ids = labIds(n);
      const labs = ids.map((keyId, i) => ({ keyId, sets: sets[i] as Record<string, string[]> }));
      const proposal = { labs: ids, kinds: KINDS, policy, maxItemsPerKind: 100, proofs };
      const run = await runSessionInMemory(proposal, labs, { backend });
      expect(run.relay.state).toBe('done');
      const truth = plaintextTruth(labs, KINDS, policy);
      for (const id of ids) expect(sortedResults(run.results.get(id) ?? new Map())).toEqual(truth.get(id));
    },
    // Every run is a whole session with its proof round, up to 6 labs in full mode.
    120_000,
  );
});

test('eight labs, one shared suspect among all, pairwise shares, and unique items: the plaintext truth', async () => {
  const ids = labIds(8);
  const labs = ids.map((keyId, i) => ({
    keyId,
    sets: {
      email: ['everyone@example.com', `pair-${Math.floor(i / 2)}@example.com`, `own-${i}@example.com`],
      ip: [`10.0.0.${i % 3}`],
    },
  }));
  for (const policy of [{ kind: 'labs' }, { kind: 'count' }, { kind: 'threshold', t: 3 }] as RevealPolicy[]) {
    const run = await runSessionInMemory({ labs: ids, kinds: KINDS, policy, maxItemsPerKind: 10 }, labs);
    expect(run.relay.state).toBe('done');
    const truth = plaintextTruth(labs, KINDS, policy);
    for (const id of ids) expect(sortedResults(run.results.get(id) ?? new Map())).toEqual(truth.get(id));
  }
});

test('sets of several chunks (the last one shorter), in spot mode: the plaintext truth, one proof per chunk of hop ≥ 1', async () => {
  const ids = labIds(3);
  const shared = Array.from({ length: 300 }, (_, i) => `shared-${i}@example.com`);
  const labs = ids.map((keyId, i) => ({
    keyId,
    sets: {
      email: [...shared.slice(0, 300 - 100 * i), ...Array.from({ length: 1500 + i }, (_, j) => `own-${i}-${j}@x.org`)],
      ip: [`10.0.0.${i}`],
    },
  }));
  const policy: RevealPolicy = { kind: 'count' };
  let proofs = 0;
  let requested: number | undefined;
  const run = await runSessionInMemory(
    { labs: ids, kinds: KINDS, policy, maxItemsPerKind: 5000, chunkSize: 1024 },
    labs,
    {
      onRelayReceives: (_from, message) => {
        if (message.type === 'hop_proof') proofs++;
      },
      onRelaySends: (_to, message) => {
        if (message.type === 'proof_request') requested = message.body.chunks;
      },
    },
  );
  expect(run.relay.state).toBe('done');
  // Each email set is 2 chunks, each ip set 1, at each of hops 1 and 2.
  expect(requested).toBe(3 * (2 + 1) * 2);
  expect(proofs).toBe(requested);
  const truth = plaintextTruth(labs, KINDS, policy);
  for (const id of ids) expect(sortedResults(run.results.get(id) ?? new Map())).toEqual(truth.get(id));
});
