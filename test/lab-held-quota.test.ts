/**
 * A lab whose chunks waiting for the other labs' joins reach the relay's quota of held bytes
 * (spec/relay-api.md §5: 403 QUOTA_EXCEEDED, final) waits for the session's labs to join and then
 * sends the same chunk again, instead of failing its run: an honest lab cannot make the others join
 * sooner. Lab a starts alone and is held at the quota (one chunk of 1,024 tags); b joins later; both
 * get the plaintext truth. Real relay on loopback (SQLite), real hashing and blinding.
 */
import { randomBytes } from 'node:crypto';
import { RelayClient, runLabSession } from '@overlap/client';
import { BatchPool } from '@overlap/crypto/node';
import { type CborValue, type SessionProposal, sealEnvelope } from '@overlap/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, hex, TestRelay } from '../packages/relay/test/support/harness.js';

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
  const proposal: SessionProposal = {
    labs: [a.keyId, b.keyId],
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: ITEMS,
    chunkSize: CHUNK,
  };
  const session = new Uint8Array(randomBytes(16));
  const proposed = sealEnvelope(
    { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
    { keyId: a.keyId, secretKey: a.keys.signing.secretKey },
  );
  const clientOf = (lab: Actor) =>
    new RelayClient({ url: t.url, signer: { keyId: lab.keyId, secretKey: lab.keys.signing.secretKey } });
  await clientOf(a).createSession(proposed.bytes);
  const keys = new Map([a, b].map((lab) => [lab.keyId, lab.keys.signing.publicKey]));
  keys.set(t.relay.relayKeyId, t.relay.core.identity.publicKey);
  const set = (lab: string) =>
    Array.from({ length: ITEMS }, (_, i) => (i < SHARED ? `shared${i}@quota.example` : `${lab}${i}@quota.example`));
  const run = (lab: Actor, first: boolean) =>
    runLabSession({
      client: clientOf(lab),
      me: lab.keyId,
      secretKey: lab.keys.signing.secretKey,
      sessionId: session,
      proposal,
      sets: { email: set(lab.keyId) },
      publicKeyOf: (id) => keys.get(id),
      relayKeyId: t.relay.relayKeyId,
      ...(first && { previous: { seq: 0, hash: proposed.hash } }),
      pool,
      pollWaitMs: 1_000,
    });
  const runA = run(a, true);
  // a is at the quota: its first chunk is held for b's join, and its next one refused (the relay's
  // metrics count the 403); only then does b start.
  const refusals = async () => {
    const metrics = String((await t.request('GET', '/metrics')).body);
    const line = metrics.split('\n').find((l) => l.includes('errors') && l.includes('QUOTA_EXCEEDED'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  while ((await refusals()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(t.relay.core.sessions.get(hex(session))?.engine?.heldTags(a.keyId)).toBe(CHUNK);
  const runB = run(b, false);
  const [outcomeA, outcomeB] = await Promise.all([runA, runB]);
  const truth = Array.from({ length: SHARED }, (_, i) => `shared${i}@quota.example`).sort();
  for (const outcome of [outcomeA, outcomeB]) {
    expect(outcome.abortReason).toBeUndefined();
    expect((outcome.results.get('email') ?? []).map((r) => r.value).sort()).toEqual(truth);
  }
}, 60_000);
