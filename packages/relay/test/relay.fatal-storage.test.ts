/**
 * A relay whose state cannot be rebuilt after a failed write stops, and says why, instead of
 * answering 503 for ever: a real server on loopback, whose blob folder is swapped for a plain file
 * while it runs (no root needed). The next blob write fails (ENOTDIR); the rebuild that follows
 * must read back a committed blob, and cannot. The server's `failure` resolves with the error,
 * naming the entry it could not read, and the listener is closed.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import { packTags } from '@overlap/protocol';
import { afterEach, expect, test } from 'vitest';
import type { RelayError } from '../src/errors.js';
import { type Actor, codeOf, hex, joinBody, seal, TestRelay } from './support/harness.js';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** 2,100 tags: a chunk over 64 KiB, stored as a blob file of its own. */
function blobSizedTags(): Uint8Array {
  const key = BlindingKey.generate();
  const packed = packTags(Array.from({ length: 2100 }, (_, i) => hashAndBlind(key, 'email', `u${i}@fatal.example`)));
  key.dispose();
  return packed;
}

async function sendChunk(t: TestRelay, a: Actor, b: Actor, tags: Uint8Array): Promise<string | undefined> {
  const id = await t.propose([a, b], { maxItemsPerKind: 5000 });
  const path = `/v1/sessions/${hex(id)}/envelopes`;
  for (const who of [a, b]) {
    const joined = seal(who, 'join', id, joinBody(who, id, { email: 2100 }));
    expect((await t.request('POST', path, joined.bytes, { signer: who })).status).toBe(200);
  }
  const chunk = seal(a, 'tag_chunk', id, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags });
  const answer = await t.request('POST', path, chunk.bytes, { signer: a });
  return answer.status === 200 ? undefined : codeOf(answer);
}

test('a state that cannot be rebuilt from the database stops the relay, naming the entry it could not read', async () => {
  const warnings: string[] = [];
  relay = await TestRelay.start({ controlSocket: false, onWarning: (line) => warnings.push(line) });
  const t = relay;
  const a = await t.enroll('a');
  const b = await t.enroll('b');
  const tags = blobSizedTags();
  expect(await sendChunk(t, a, b, tags)).toBeUndefined();

  // The blob folder becomes a file: the next blob cannot be written, the first cannot be read back.
  const blobs = join(t.dir, 'blobs');
  renameSync(blobs, `${blobs}.away`);
  writeFileSync(blobs, 'not a folder');
  expect(await sendChunk(t, a, b, tags)).toBe('STORAGE_UNAVAILABLE');

  const failure: RelayError = await t.relay.failure;
  expect(failure.code).toBe('STORAGE_CORRUPT');
  expect(failure.message).toMatch(/cannot be rebuilt from its database/);
  expect(failure.message).toMatch(/entry \d+ \(tag_chunk/);
  expect(warnings.some((line) => /cannot be rebuilt.*; stopping$/.test(line))).toBe(true);
  // Stopped: nothing listens any more (not a relay answering 503 for ever).
  await expect(fetch(`${t.address}/healthz`)).rejects.toThrow();
  // A second close (a signal arriving now) waits for the same shutdown and resolves.
  await t.relay.close();
  rmSync(blobs);
  renameSync(`${blobs}.away`, blobs);
});
