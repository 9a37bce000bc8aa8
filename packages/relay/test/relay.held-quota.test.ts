/**
 * The quota of held bytes per lab (spec/relay-api.md §5): hop-0 chunks a lab uploads before every
 * lab of their session has joined wait in the relay's store, and one lab may have at most
 * `max_held_bytes_per_lab` of them in all its open sessions. One chunk more is 403 QUOTA_EXCEEDED,
 * final, with the reason, and aborts nothing; once the other labs join, the held chunks go on and
 * the same chunk is taken. Another lab's held chunks do not count against it; a restart counts
 * them again from the log. Real SQLite file, real HTTP on loopback.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type Actor,
  blindedTags,
  codeOf,
  hex,
  joinBody,
  messageOf,
  seal,
  TestRelay,
  uploadOf,
} from './support/harness.js';

const CHUNK = 1024;
const QUOTA = 3 * CHUNK * 32; // three chunks of 1,024 tags

let t: TestRelay;
let a: Actor;
let b: Actor;
let c: Actor;
beforeAll(async () => {
  t = await TestRelay.start({ limits: { maxHeldBytesPerLab: QUOTA } });
  a = await t.enroll('a');
  b = await t.enroll('b');
  c = await t.enroll('c');
});
afterAll(async () => t.close());

const post = (session: Uint8Array, bytes: Uint8Array, signer: Actor) =>
  t.request('POST', `/v1/sessions/${hex(session)}/envelopes`, bytes, { signer });

async function accepted(session: Uint8Array, bytes: Uint8Array, signer: Actor): Promise<void> {
  const answer = await post(session, bytes, signer);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

async function joined(session: Uint8Array, lab: Actor, size: number): Promise<void> {
  await accepted(session, seal(lab, 'join', session, joinBody(lab, session, { email: size })).bytes, lab);
}

const chunk = (session: Uint8Array, owner: Actor, index: number) =>
  seal(owner, 'tag_chunk', session, uploadOf(owner, index * CHUNK, blindedTags(CHUNK, `${hex(session)}-${index}`)));

test('a lab over its quota of held bytes is refused (403, final, aborting nothing) until the other labs join', async () => {
  const limits = ((await t.request('GET', '/v1/relay')).body as { limits: Record<string, number> }).limits;
  expect(limits.max_held_bytes_per_lab).toBe(QUOTA);

  // Session one: a uploads two chunks that wait for b.
  const one = await t.propose([a, b], { maxItemsPerKind: 4 * CHUNK, chunkSize: CHUNK });
  await joined(one, a, 2 * CHUNK);
  await accepted(one, chunk(one, a, 0).bytes, a);
  await accepted(one, chunk(one, a, 1).bytes, a);
  // Session two: a third chunk fits, a fourth does not: the quota counts every open session.
  const two = await t.propose([a, c], { maxItemsPerKind: 4 * CHUNK, chunkSize: CHUNK });
  await joined(two, a, 2 * CHUNK);
  await accepted(two, chunk(two, a, 0).bytes, a);
  await t.restart(); // what a holds is counted again from the replayed log
  const over = chunk(two, a, 1);
  const refused = await post(two, over.bytes, a);
  expect({ status: refused.status, code: codeOf(refused) }).toEqual({ status: 403, code: 'QUOTA_EXCEEDED' });
  expect(messageOf(refused)).toMatch(
    /has 0\.09 MiB of chunks waiting for their sessions' last join; this one \(0\.03 MiB\) would take it over this relay's quota of 0\.09 MiB \(max_held_bytes_per_lab/,
  );
  const status = (await t.request('GET', `/v1/sessions/${hex(two)}`, undefined, { signer: a })).body as {
    state: string;
  };
  expect(status.state).toBe('joining');

  // Another lab's held chunks are its own: c holds three chunks while a is at its quota.
  const three = await t.propose([c, b], { maxItemsPerKind: 4 * CHUNK, chunkSize: CHUNK });
  await joined(three, c, 3 * CHUNK);
  for (let i = 0; i < 3; i++) await accepted(three, chunk(three, c, i).bytes, c);
  // b joins session one: a's two chunks there go on, and its chunk in session two (still waiting
  // for c) is taken.
  await joined(one, b, 0);
  await accepted(two, over.bytes, a);
});

test("the quota counts a lab's own held chunks only, not the other labs' in the same session", async () => {
  const d = await t.enroll('d');
  const e = await t.enroll('e');
  const f = await t.enroll('f');
  // d and e upload into a session that waits for f: e holds three chunks there, d two, then a third.
  const session = await t.propose([d, e, f], { maxItemsPerKind: 4 * CHUNK, chunkSize: CHUNK });
  await joined(session, d, 3 * CHUNK);
  await joined(session, e, 3 * CHUNK);
  for (let i = 0; i < 3; i++) await accepted(session, chunk(session, e, i).bytes, e);
  for (let i = 0; i < 3; i++) await accepted(session, chunk(session, d, i).bytes, d);
  const status = (await t.request('GET', `/v1/sessions/${hex(session)}`, undefined, { signer: d })).body as {
    state: string;
  };
  expect(status.state).toBe('joining');
});
