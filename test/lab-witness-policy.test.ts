/**
 * A lab's witness policy (spec/relay-api.md §7) with a relay and two witnesses over HTTP on
 * loopback: labs that require both witnesses' cosignatures finish an honest session with the true
 * results; with one witness down, a lab that requires both stops before acting on its results
 * (WITNESS_QUORUM_UNMET, naming who cosigned), while a lab that requires one of the two finishes;
 * a policy that cannot be met (a quorum above the witnesses) is refused at connect. The witnesses
 * are the real @overlap/witness servers, each with its own state directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, OverlapClient } from '@overlap/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';
import { startTestWitness, type TestWitness } from './support/witness-server.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-witness-policy-'));
let t: TestRelay;
let a: Actor;
let b: Actor;
const witnesses: TestWitness[] = [];
let run = 0;

beforeAll(async () => {
  t = await TestRelay.start();
  for (const name of ['witness-1.example', 'witness-2.example'])
    witnesses.push(await startTestWitness({ dir: join(dir, name), name, logKey: t.relay.vkey }));
  t.options.witnesses = witnesses.map((w) => ({ url: w.server.url, vkey: w.vkey }));
  await t.restart();
  a = await t.enroll('lab-a');
  b = await t.enroll('lab-b');
});
afterAll(async () => {
  await t.close();
  for (const w of witnesses) {
    await w.server.close().catch(() => {});
    await w.state.close().catch(() => {});
  }
  rmSync(dir, { recursive: true, force: true });
});

const sets = (own: string) => ({
  email: [
    ...Array.from({ length: 4 }, (_, i) => `shared${i}@example.com`),
    ...Array.from({ length: 9 }, (_, i) => `${own}${i}@example.com`),
  ],
});
const truth = Array.from({ length: 4 }, (_, i) => `shared${i}@example.com`).sort();

function connect(who: Actor, policy: { keys: string[]; quorum?: number; waitMs?: number }) {
  run++;
  return OverlapClient.connect({
    relayUrl: t.url,
    keys: who.keys,
    logKey: t.relay.vkey,
    adminKey: Buffer.from(t.relay.adminPublicKey, 'hex'),
    trustDir: join(dir, `lab-${who.keyId}`, 'trust'),
    stateDir: join(dir, `lab-${who.keyId}`, `state-${run}`),
    witnesses: policy,
  });
}

describe('a witness policy', () => {
  test('both witnesses required: an honest session finishes with the true results', async () => {
    const keys = witnesses.map((w) => w.vkey);
    const [ca, cb] = [await connect(a, { keys }), await connect(b, { keys })];
    const session = await ca.createSession({
      labs: ['lab-a', 'lab-b'],
      kinds: ['email'],
      policy: 'labs',
      maxItemsPerKind: 50,
    });
    const outcomes = await Promise.all([ca.run(session, sets('a')), cb.run(session, sets('b'))]);
    for (const outcome of outcomes) expect(outcome.results.map((r) => r.value)).toEqual(truth);
  });

  test('one witness down: a lab requiring both stops before its results, naming who cosigned; one requiring 1 of 2 finishes', async () => {
    const down = witnesses[1] as (typeof witnesses)[number];
    await down.server.close();
    try {
      const keys = witnesses.map((w) => w.vkey);
      const strict = await connect(a, { keys, waitMs: 3000 });
      const lenient = await connect(b, { keys, quorum: 1 });
      const session = await strict.createSession({
        labs: ['lab-a', 'lab-b'],
        kinds: ['email'],
        policy: 'labs',
        maxItemsPerKind: 50,
      });
      const [ra, rb] = await Promise.allSettled([strict.run(session, sets('a')), lenient.run(session, sets('b'))]);
      expect(rb.status).toBe('fulfilled');
      expect(
        (rb as PromiseFulfilledResult<{ results: { value: string }[] }>).value.results.map((r) => r.value),
      ).toEqual(truth);
      expect(ra.status).toBe('rejected');
      const error = (ra as PromiseRejectedResult).reason as ClientError;
      expect(error).toBeInstanceOf(ClientError);
      expect(error.code).toBe('WITNESS_QUORUM_UNMET');
      expect(error.message).toMatch(/cosigned by 2 of this lab's witnesses \(witness-1\.example, witness-2\.example\)/);
      expect(error.message).toMatch(/cosigned by witness-1\.example\. Not acting on it/);
    } finally {
      await down.state.close(); // it stays down: the tests after this one need no witness
    }
  });

  test("a policy that cannot be met, or a key that is not a witness's, is refused at connect", async () => {
    const keys = witnesses.map((w) => w.vkey);
    await expect(connect(a, { keys, quorum: 3 })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringMatching(/quorum must be from 1 to the number of witnesses \(2\), got 3/),
    });
    await expect(connect(a, { keys: [t.relay.vkey] })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringMatching(/witness key 1: .*expected a witness's cosigner key/),
    });
  });
});
