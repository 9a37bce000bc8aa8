/**
 * A lab whose chunks waiting for the other labs' joins reach the relay's quota of held bytes
 * (spec/relay-api.md §5: 403 QUOTA_EXCEEDED, final) waits for the session's labs to join and then
 * sends the same chunk again, instead of failing its run: an honest lab cannot make the others join
 * sooner. Lab a starts alone and is held at the quota (one chunk of 1,024 tags); b joins later; both
 * get the plaintext truth. Real relay on loopback (SQLite), real hashing and blinding.
 */
import { BatchPool } from '@overlap/crypto/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, hex, TestRelay } from '../packages/relay/test/support/harness.js';
import { twoLabSession } from './support/two-lab-session.js';

const CHUNK = 1024;
const ITEMS = 3 * CHUNK;
const SHARED = 500;

let t: TestRelay;
let a: Actor;
let b: Actor;
let pool: BatchPool;
beforeAll(async () => {
  t = await TestRelay.start({ limits: { maxHeldBytesPerLab: CHUNK * 32 } });
  a = await t.enroll('a');
  b = await t.enroll('b');
  pool = new BatchPool({ workers: 1 });
});
afterAll(async () => {
  await pool.close();
  await t.close();
});

test('a lab held at the quota waits for the other labs to join, then uploads the rest; both get the truth', async () => {
  const { session, run, truth } = await twoLabSession(t, [a, b], {
    items: ITEMS,
    chunkSize: CHUNK,
    shared: SHARED,
    domain: 'quota.example',
    pool,
  });
  const runA = run(a);
  // a is at the quota: its first chunk is held for b's join, and its next one refused (the relay's
  // metrics count the 403); only then does b start.
  const refusals = async () => {
    const metrics = await t.metrics();
    const line = metrics.split('\n').find((l) => l.includes('errors') && l.includes('QUOTA_EXCEEDED'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  while ((await refusals()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(t.relay.core.sessions.get(hex(session))?.engine?.heldTags(a.keyId)).toBe(CHUNK);
  const runB = run(b);
  const [outcomeA, outcomeB] = await Promise.all([runA, runB]);
  for (const outcome of [outcomeA, outcomeB]) {
    expect(outcome.abortReason).toBeUndefined();
    expect((outcome.results.get('email') ?? []).map((r) => r.value).sort()).toEqual(truth);
  }
}, 60_000);
