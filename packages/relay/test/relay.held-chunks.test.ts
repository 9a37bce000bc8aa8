/**
 * Hop-0 chunks that arrive before a session's last join are held on disk, not in memory
 * (spec/relay-api.md §5): a lab uploads its whole set before the other joins, the relay restarts
 * in between (the log is replayed), and the last join sends every chunk on — each blind task in the
 * other lab's inbox is the very envelope the uploader sent, at its log entry. Real SQLite file and
 * blob files (chunks over 64 KiB), real HTTP on loopback.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Actor, blindedTags, hex, joinBody, seal, TestRelay, uploadOf } from './support/harness.js';

let t: TestRelay;
let a: Actor;
let b: Actor;
beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('a');
  b = await t.enroll('b');
});
afterAll(async () => t.close());

test('chunks held before the last join are sent on from the store, also after a restart', async () => {
  const session = await t.propose([a, b], { maxItemsPerKind: 10_000, chunkSize: 4096 });
  const path = `/v1/sessions/${hex(session)}`;
  const post = async (who: Actor, bytes: Uint8Array) =>
    expect((await t.request('POST', `${path}/envelopes`, bytes, { signer: who })).status).toBe(200);
  await post(a, seal(a, 'join', session, joinBody(a, session, { email: 10_000 })).bytes);
  const tags = blindedTags(10_000);
  const sent = new Map<number, { bytes: Uint8Array; index: number }>();
  for (const first of [0, 4096, 8192]) {
    const envelope = seal(a, 'tag_chunk', session, uploadOf(a, first, tags.slice(first, first + 4096)));
    const answer = await t.request('POST', `${path}/envelopes`, envelope.bytes, { signer: a });
    expect(answer.status).toBe(200);
    sent.set(first, { bytes: envelope.bytes, index: (answer.body as { index: number }).index });
  }
  const [session0] = [...t.relay.core.sessions.values()].filter((s) => s.idHex === hex(session));
  expect(session0?.state).toBe('joining');
  await t.restart();

  await post(b, seal(b, 'join', session, joinBody(b, session, { email: 1 })).bytes);
  const inbox = await t.request('GET', `${path}/inbox?after=0&wait=5000`, undefined, { signer: b });
  const items = (inbox.body as { items: { type: string; index: number; envelope: Uint8Array; hop?: number }[] }).items;
  const tasks = items.filter((item) => item.type === 'blind_task');
  expect(tasks).toHaveLength(3);
  for (const [i, first] of [0, 4096, 8192].entries()) {
    const task = tasks[i] as { index: number; envelope: Uint8Array; hop?: number };
    const upload = sent.get(first) as { bytes: Uint8Array; index: number };
    expect({ index: task.index, hop: task.hop }).toEqual({ index: upload.index, hop: 1 });
    expect(Buffer.from(task.envelope).equals(Buffer.from(upload.bytes))).toBe(true);
  }
});
