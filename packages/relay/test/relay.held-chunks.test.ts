/**
 * Hop-0 chunks that arrive before a session's last join are held on disk, not in memory
 * (spec/relay-api.md §5): a lab uploads its whole set before the other joins, the relay restarts
 * in between (the log is replayed), and the last join sends every chunk on — each blind task in the
 * other lab's inbox is the very envelope the uploader sent, at its log entry; and 60 MB of chunks
 * for a session whose other lab never joins leave the relay's memory (its array buffers, after a
 * full collection) where it was. Real SQLite file and blob files (chunks over 64 KiB), real HTTP on
 * loopback.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** One full collection (as in a process started with --expose-gc), so that what is measured is what is held. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A canonical, non-zero field element that is no low-order point: what the relay takes as a hop-0 tag. */
function randomTag(): Uint8Array {
  const tag = new Uint8Array(randomBytes(32));
  tag[31] = (tag[31] as number) & 0x3f;
  return tag;
}

test('60 MB of chunks waiting for a join that never comes are not held in memory', async () => {
  const CHUNK = 65_536;
  const CHUNKS = 30;
  const session = await t.propose([a, b], { maxItemsPerKind: CHUNK * CHUNKS, chunkSize: CHUNK });
  const path = `/v1/sessions/${hex(session)}/envelopes`;
  expect(
    (
      await t.request('POST', path, seal(a, 'join', session, joinBody(a, session, { email: CHUNK * CHUNKS })).bytes, {
        signer: a,
      })
    ).status,
  ).toBe(200);
  collect();
  const before = process.memoryUsage().arrayBuffers;
  let uploaded = 0;
  for (let first = 0; first < CHUNK * CHUNKS; first += CHUNK) {
    const tags = Array.from({ length: CHUNK }, randomTag);
    const envelope = seal(a, 'tag_chunk', session, uploadOf(a, first, tags));
    uploaded += envelope.bytes.length;
    expect((await t.request('POST', path, envelope.bytes, { signer: a })).status).toBe(200);
  }
  expect(t.relay.core.sessions.get(hex(session))?.engine?.heldTags(a.keyId)).toBe(CHUNK * CHUNKS);
  // The relay keeps the chunks' places (and per-hop fingerprints), not their bytes: once what is
  // still in flight after the last answer (blob writes, sockets) settles, the bytes are gone. A
  // relay that held them (as it did, in the engine) never gets there.
  let held = Number.POSITIVE_INFINITY;
  for (let tries = 0; tries < 200 && held >= uploaded / 2; tries++) {
    if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    collect();
    held = process.memoryUsage().arrayBuffers - before;
  }
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  expect(held, `${mb(held)} MB of ${mb(uploaded)} MB held`).toBeLessThan(uploaded / 2);
}, 120_000);
