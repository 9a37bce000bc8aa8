/**
 * A lab that acted on the session's abort and stopped before its state was erased (a crash, or a
 * caller that keeps the state until it has delivered the outcome) must find the abort again when
 * run again: its progress never moves past the abort item, so the inbox read from its progress
 * starts with that envelope — rather than the relay's bare "aborted", which is no log entry and
 * which a lab does not act on. Real SDK clients and relay over HTTP on loopback.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverlapClient } from '@overlap/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-abort-resume-'));
let t: TestRelay;
let a: Actor;
let b: Actor;
beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('lab-a');
  b = await t.enroll('lab-b');
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const connect = (who: Actor, name: string) =>
  OverlapClient.connect({ relayUrl: t.url, keys: who.keys, logKey: t.relay.vkey, stateDir: join(dir, name) });

test('the abort a lab acted on stays ahead of its recorded progress: read again from there, it comes first', async () => {
  const [ca, cb] = [await connect(a, 'a'), await connect(b, 'b')];
  const session = await ca.createSession({
    labs: ['lab-a', 'lab-b'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: 10,
  });
  // b joins and waits; a aborts once b's join is in.
  const running = cb.run(session, { email: ['x@example.com'] }, { keepState: true });
  for (let i = 0; !(await ca.relay.sessionStatus(session)).joined.includes(b.keyId); i++) {
    if (i > 2000) throw new Error('b never joined');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await ca.abort(session, 'lab-a changed its mind');
  const outcome = await running;
  expect(outcome.abortReason).toMatch(/lab-a changed its mind/);
  // The state b kept, as a crash after the abort would leave it: its progress and the inbox from there.
  const progress = JSON.parse(readFileSync(join(dir, 'b', `${session}.state`, 'progress.json'), 'utf8')) as {
    inboxAfter: number;
  };
  const inbox = await cb.relay.inbox(session, progress.inboxAfter);
  expect(inbox.state).toBe('aborted');
  expect(inbox.items[0]?.type).toBe('abort');
  expect(inbox.items[0]?.n).toBe(progress.inboxAfter);
});
