/**
 * The SDK's long poll of the session list against a real relay on loopback (spec/relay-api.md §3,
 * `GET /v1/sessions?wait=MS`): `RelayClient.listSessions({ from, wait })` is held until another
 * lab proposes a session naming this lab, and is then answered that session; a watcher that asks
 * again from its `proposal` + 1 is held again, and is answered only what came after. Whether a
 * request is held is read from the relay's `overlap_relay_long_polls` gauge, never guessed from time.
 */
import { RelayClient } from '@overlap/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, hex, TestRelay } from '../packages/relay/test/support/harness.js';

let t: TestRelay;
let a: Actor;
let b: Actor;

beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('a');
  b = await t.enroll('b');
});
afterAll(async () => t.close());

async function heldSessionLists(): Promise<number> {
  return Number((await t.metrics()).match(/^overlap_relay_long_polls\{read="sessions"\} (\d+)$/m)?.[1]);
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("a watcher's listSessions({ from, wait }) is answered each new proposal naming it, in turn", async () => {
  const client = new RelayClient({ url: t.url, signer: { keyId: b.keyId, secretKey: b.keys.signing.secretKey } });
  let from = 0;
  const seen: string[] = [];
  const proposed: string[] = [];
  for (let round = 0; round < 2; round++) {
    const started = performance.now();
    const waiting = client.listSessions({ from, limit: 100, wait: 20_000 });
    await until(async () => (await heldSessionLists()) === 1, `round ${round}: the request held`);
    proposed.push(hex(await t.propose([a, b])));
    const page = await waiting;
    expect(performance.now() - started, 'answered when the proposal committed').toBeLessThan(20_000);
    expect(page.next).toBeUndefined();
    seen.push(...page.sessions.map((s) => hex(s.session)));
    from = (page.sessions.at(-1)?.proposal as number) + 1;
  }
  expect(seen).toEqual(proposed);
  // Every page, as OverlapClient.sessions() asks for them, is unchanged.
  expect((await client.listSessions()).sessions.map((s) => hex(s.session))).toEqual(proposed);
});
