/**
 * A lab that goes over its key's budgets (spec/relay-api.md §5: request bytes, relay CPU time) is
 * slowed, not failed: the relay answers 429 RATE_LIMITED with a Retry-After, the lab's client
 * waits and sends the same request again, and the session ends with the plaintext truth. Budgets
 * far below the defaults (64 KiB of bodies and 2 ms of relay time at once), so that two labs of a
 * 2 × 3,072 session in chunks of 1,024 meet both: three chunks of 32 KiB in a row, and a hop
 * proof's verification (tens of ms). Real relay on loopback (SQLite), real hashing and blinding.
 */
import { BatchPool } from '@overlap/crypto/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';
import { twoLabSession } from './support/two-lab-session.js';

const CHUNK = 1024;
const ITEMS = 3 * CHUNK;
const SHARED = 300;

let t: TestRelay;
let a: Actor;
let b: Actor;
let pool: BatchPool;
beforeAll(async () => {
  t = await TestRelay.start({
    limits: {
      bytesPerKey: { perSecond: 64 * 1024, burst: 64 * 1024 },
      cpuMsPerKey: { perSecond: 100, burst: 2 },
    },
  });
  a = await t.enroll('a');
  b = await t.enroll('b');
  pool = new BatchPool({ workers: 1 });
});
afterAll(async () => {
  await pool.close();
  await t.close();
});

async function refusals(): Promise<Record<string, number>> {
  const metrics = await t.metrics();
  const counts: Record<string, number> = {};
  for (const [, budget, n] of metrics.matchAll(/^overlap_relay_budget_refusals_total\{budget="(\w+)"\} (\d+)$/gm)) {
    counts[budget as string] = Number(n);
  }
  return counts;
}

test('labs over their byte and CPU budgets wait as the relay asks and get the truth', async () => {
  const { run, truth } = await twoLabSession(t, [a, b], {
    items: ITEMS,
    chunkSize: CHUNK,
    shared: SHARED,
    domain: 'budget.example',
    pool,
  });
  const [outcomeA, outcomeB] = await Promise.all([run(a), run(b)]);
  for (const outcome of [outcomeA, outcomeB]) {
    expect(outcome.abortReason).toBeUndefined();
    expect((outcome.results.get('email') ?? []).map((r) => r.value).sort()).toEqual(truth);
  }
  const refused = await refusals();
  expect(refused.bytes, 'no request was refused for its bytes').toBeGreaterThan(0);
  expect(refused.cpu, 'no request was refused for its relay time').toBeGreaterThan(0);
}, 120_000);
