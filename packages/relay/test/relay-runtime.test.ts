/**
 * The relay's runtime when writes fail (relay-runtime.ts), in process, on a real SQLite file whose
 * connection may not grow (`PRAGMA max_page_count`, then filler rows until SQLITE_FULL: the error
 * a full disk gives, from the same place). No root and no mount needed, unlike the end-to-end
 * test/relay.disk-full.test.ts.
 *
 * - Readers are shown only what committed: a session appears once its proposal commits, its state
 *   moves once the step that moved it commits, and a step that fails to commit never shows.
 * - A rebuilt state's expired sessions wait out the refusal: their deadline aborts are the relay's
 *   own writes, and used to be written at once by the rebuilt core, each failing on the full disk
 *   and starting another rebuild (a storm, with no wait between failures).
 * - A write that fails while the relay shuts down starts no rebuild.
 * - A committed proposal is reported with the labs it names (the session-list long polls it wakes),
 *   by the rebuilt state's writer too; one that failed to commit is reported to no one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlindingKey, generateLabKeys, hashAndBlind } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { ed25519NoteSigner } from '@overlap/log';
import { type OpenedEnvelope, packTags } from '@overlap/protocol';
import { afterEach, expect, test } from 'vitest';
import type { RelayError } from '../src/errors.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { MEMBERSHIP_SESSION } from '../src/membership.js';
import { initRelay, openRelayHome } from '../src/relay-home.js';
import { RelayRuntime, type RelayRuntimeOptions } from '../src/relay-runtime.js';
import { BlobFiles } from '../src/store/blob-files.js';
import type { Db } from '../src/store/database.js';
import type { CommitVisible } from '../src/store/log-writer.js';
import { type Actor, actor, enrollmentBody, hex, joinBody, seal } from './support/harness.js';

interface Fixture {
  runtime: RelayRuntime;
  db: Db;
  admin: Actor;
  events: { at: number; line: string }[];
  fatal: RelayError[];
  /** A second runtime over the same database (what a restart replays), the first closed. */
  reopen(): Promise<RelayRuntime>;
  close(): Promise<void>;
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const fixture of open.splice(0)) await fixture.close();
});

async function fixture(hooks: Pick<Partial<RelayRuntimeOptions>, 'onCommitted'> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-runtime-'));
  const dbPath = join(dir, 'relay.db');
  const init = await initRelay({ db: dbPath });
  const admin = actor(await readKeyFile(init.adminKeyFile as string));
  const home = await openRelayHome(dbPath);
  const events: Fixture['events'] = [];
  const fatal: RelayError[] = [];
  const options: RelayRuntimeOptions = {
    db: home.db,
    blobs: new BlobFiles(home.blobsDir),
    identity: {
      keyId: home.relayKeys.keyId,
      publicKey: home.relayKeys.signing.publicKey,
      secretKey: home.relayKeys.signing.secretKey,
      origin: home.origin,
    },
    signer: ed25519NoteSigner(home.origin, home.relayKeys.signing.secretKey),
    adminPublicKey: home.adminPublicKey,
    limits: DEFAULT_LIMITS,
    now: Date.now,
    onCommitted: hooks.onCommitted ?? (() => {}),
    onEvent: (line) => events.push({ at: Date.now(), line }),
    onFatal: (error) => fatal.push(error),
  };
  const runtime = await RelayRuntime.open(options);
  const made: Fixture = {
    runtime,
    reopen: async () => {
      await made.runtime.close();
      made.runtime = await RelayRuntime.open(options);
      return made.runtime;
    },
    db: home.db,
    admin,
    events,
    fatal,
    close: async () => {
      await runtime.close();
      home.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.push(made);
  return made;
}

function nonce(who: Actor) {
  return { keyId: who.keyId, nonce: randomBytes(16).toString('hex'), expires: Math.floor(Date.now() / 1000) + 300 };
}

async function enroll(f: Fixture, lab: string): Promise<Actor> {
  const who = actor(generateLabKeys());
  const envelope = seal(f.admin, 'enrollment', MEMBERSHIP_SESSION, enrollmentBody(who, lab));
  await f.runtime.core.submitAdmin(envelope, nonce(f.admin));
  return who;
}

function proposal(labs: Actor[], extra: Record<string, unknown> = {}): { id: Uint8Array; envelope: OpenedEnvelope } {
  const id = randomBytes(16);
  const envelope = seal(labs[0] as Actor, 'session_proposal', id, {
    labs: labs.map((l) => l.keyId),
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: 1000,
    ...extra,
  });
  return { id, envelope };
}

/** The database may not grow, and its free pages are taken: every later write fails with SQLITE_FULL. */
function fillDisk(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS filler (b BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
  const insert = db.prepare('INSERT INTO filler VALUES (?)');
  try {
    for (let i = 0; i < 100_000; i++) insert.run(Buffer.alloc(512));
  } catch (error) {
    if (!/full/.test((error as Error).message)) throw error;
  }
}

function roomAgain(db: Db): void {
  db.pragma('max_page_count = 1073741823');
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A session's state as readers are shown it; undefined while the state is rebuilt (503 then). */
function stateOf(f: Fixture, id: Uint8Array): string | undefined {
  try {
    return f.runtime.reads.session(hex(id))?.status.state;
  } catch (error) {
    if ((error as RelayError).code === 'STORAGE_UNAVAILABLE') return undefined;
    throw error;
  }
}

const failures = (f: Fixture) => f.events.filter((e) => e.line.startsWith('a write failed'));

/** 1,500 tags (48 KB, stored inside SQLite): a write that needs new pages, whatever slack the tables have. */
let packed: Uint8Array | undefined;
function bigTags(): Uint8Array {
  if (packed === undefined) {
    const key = BlindingKey.generate();
    packed = packTags(Array.from({ length: 1500 }, (_, i) => hashAndBlind(key, 'email', `u${i}@runtime.example`)));
    key.dispose();
  }
  return packed;
}

/** A session both labs have joined, and a's tag chunk for it (not yet sent). */
async function joinedWithChunk(f: Fixture, a: Actor, b: Actor): Promise<{ id: Uint8Array; chunk: OpenedEnvelope }> {
  const { id, envelope } = proposal([a, b], { maxItemsPerKind: 5000 });
  await f.runtime.core.createSession(envelope, nonce(a));
  for (const who of [a, b]) {
    await f.runtime.core.submitToSession(
      hex(id),
      seal(who, 'join', id, joinBody(who, id, { email: 1500 })),
      nonce(who),
    );
  }
  const chunk = seal(a, 'tag_chunk', id, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags: bigTags() });
  return { id, chunk };
}

test('readers are shown a session and its state only once the step that made them has committed', async () => {
  const f = await fixture();
  const a = await enroll(f, 'a');
  const b = await enroll(f, 'b');
  const { id, envelope } = proposal([a, b]);
  const created = f.runtime.core.createSession(envelope, nonce(a));
  // Appended, not committed: no reader sees it yet.
  expect(f.runtime.reads.session(hex(id))).toBeUndefined();
  expect(f.runtime.reads.sessionsOf(a.keyId).sessions).toEqual([]);
  await created;
  expect(f.runtime.reads.session(hex(id))?.status.state).toBe('joining');
  expect(f.runtime.reads.sessionsOf(b.keyId).sessions.map((s) => hex(s.session))).toEqual([hex(id)]);

  // b's abort ends the session in memory at once; readers see `aborted` only once it commits.
  const aborted = f.runtime.core.submitToSession(hex(id), seal(b, 'abort', id, { reason: 'not today' }), nonce(b));
  expect(f.runtime.reads.session(hex(id))?.status.state).toBe('joining');
  expect(f.runtime.reads.sessionCounts().aborted).toBe(0);
  await aborted;
  expect(f.runtime.reads.session(hex(id))?.status).toMatchObject({
    state: 'aborted',
    abort: { reason: `${b.keyId} aborted: not today` },
  });
  expect(f.runtime.reads.sessionCounts().aborted).toBe(1);

  // A step that fails to commit never shows: b's abort of another session goes in the same
  // commit as a's chunk, which the full database cannot take; the rebuilt state is what committed.
  const other = proposal([a, b]);
  await f.runtime.core.createSession(other.envelope, nonce(a));
  const big = await joinedWithChunk(f, a, b);
  fillDisk(f.db);
  const chunk = f.runtime.core.submitToSession(hex(big.id), big.chunk, nonce(a));
  const abort = f.runtime.core.submitToSession(
    hex(other.id),
    seal(b, 'abort', other.id, { reason: 'lost on a full disk' }),
    nonce(b),
  );
  expect(stateOf(f, other.id)).toBe('joining');
  await expect(chunk).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  await expect(abort).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  await until(() => f.events.some((e) => e.line.startsWith('state rebuilt')), 'the rebuild');
  expect(f.runtime.reads.session(hex(other.id))?.status.state).toBe('joining');
  roomAgain(f.db);
});

test("a rebuilt state's expired sessions wait out the refusal before the relay writes their aborts", async () => {
  const f = await fixture();
  const a = await enroll(f, 'a');
  const b = await enroll(f, 'b');
  bigTags();
  const big = await joinedWithChunk(f, a, b);
  const ids: Uint8Array[] = [];
  const deadline = Date.now() + 600;
  for (let i = 0; i < 10; i++) {
    const { id, envelope } = proposal([a, b], { deadline: deadline + i });
    await f.runtime.core.createSession(envelope, nonce(a));
    ids.push(id);
  }
  fillDisk(f.db);
  const chunk = f.runtime.core.submitToSession(hex(big.id), big.chunk, nonce(a));
  await expect(chunk).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  const failed = failures(f)[0] as { at: number };
  expect(failed.at, 'the write failed after the deadlines (the test was too slow)').toBeLessThan(deadline);
  // Room at once: only the refusal (1 s after the failure) keeps the deadlines' aborts back, which
  // the rebuilt state used to write as soon as it was built (and, on a disk still full, fail each).
  roomAgain(f.db);
  const abortedAt = new Map<string, number>();
  await until(() => {
    for (const id of ids) {
      if (!abortedAt.has(hex(id)) && stateOf(f, id) === 'aborted') {
        abortedAt.set(hex(id), Date.now());
      }
    }
    return abortedAt.size === ids.length;
  }, 'every session aborted');
  for (const at of abortedAt.values()) {
    expect(at - failed.at, 'an abort was written while writes were refused').toBeGreaterThanOrEqual(1000);
  }
  expect(failures(f)).toHaveLength(1);
  for (const id of ids) {
    expect(f.runtime.reads.session(hex(id))?.status.abort?.reason).toMatch(/^the session deadline passed/);
  }
  expect(f.db.prepare("SELECT count(*) FROM entries WHERE type = 'abort'").pluck().get()).toBe(ids.length);
});

test('a write that fails while the relay shuts down starts no rebuild, and close resolves', async () => {
  const f = await fixture();
  const a = await enroll(f, 'a');
  const b = await enroll(f, 'b');
  const big = await joinedWithChunk(f, a, b);
  fillDisk(f.db);
  const failed = f.runtime.core.submitToSession(hex(big.id), big.chunk, nonce(a));
  failed.catch(() => {});
  await f.runtime.close();
  await expect(failed).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  expect(failures(f)).toHaveLength(1);
  expect(failures(f)[0]?.line).toMatch(/while shutting down/);
  expect(f.events.map((e) => e.line).join('\n')).not.toMatch(/rebuil/);
  expect(f.fatal).toEqual([]);
  roomAgain(f.db);
});

test("a deadline's abort in a session of many labs names as many as fit, and replays at the next start", async () => {
  const f = await fixture();
  const labs: Actor[] = [];
  for (let i = 0; i < 40; i++) labs.push(await enroll(f, `lab${i}`));
  const { id, envelope } = proposal(labs, { deadline: Date.now() + 200 });
  await f.runtime.core.createSession(envelope, nonce(labs[0] as Actor));
  await until(() => stateOf(f, id) === 'aborted', 'the deadline abort');
  const reason = f.runtime.reads.session(hex(id))?.status.abort?.reason as string;
  expect(reason.length).toBeLessThanOrEqual(1024);
  expect(reason).toMatch(/^the session deadline passed; waiting on [0-9a-f]{32}(, [0-9a-f]{32})* and \d+ more$/);
  const named = reason.match(/[0-9a-f]{32}/g) ?? [];
  const more = Number(reason.match(/and (\d+) more$/)?.[1]);
  expect(named.length + more).toBe(40);
  // The abort is in the log as the relay sealed it, and a start replays it.
  const again = await f.reopen();
  expect(again.reads.session(hex(id))?.status).toMatchObject({ state: 'aborted', abort: { reason } });
});

test('a committed proposal is reported with the labs it names, by a rebuilt state too; one that failed, never', async () => {
  const commits: CommitVisible[] = [];
  const f = await fixture({ onCommitted: (visible) => commits.push(visible) });
  const reported = () => commits.flatMap((c) => c.proposals).map((p) => ({ session: p.session, labs: [...p.labs] }));
  const a = await enroll(f, 'a');
  const b = await enroll(f, 'b');
  const c = await enroll(f, 'c');
  const first = proposal([a, b]);
  await f.runtime.core.createSession(first.envelope, nonce(a));
  expect(reported()).toEqual([{ session: hex(first.id), labs: [a.keyId, b.keyId] }]);

  // c's proposal goes in the same commit as a's chunk, which the full database cannot take.
  const big = await joinedWithChunk(f, a, b);
  commits.length = 0;
  fillDisk(f.db);
  const chunk = f.runtime.core.submitToSession(hex(big.id), big.chunk, nonce(a));
  const lost = proposal([c, a]);
  const created = f.runtime.core.createSession(lost.envelope, nonce(c));
  await expect(chunk).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  await expect(created).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  await until(() => f.events.some((e) => e.line.startsWith('state rebuilt')), 'the rebuild');
  expect(reported()).toEqual([]);

  // The rebuilt state has a writer of its own: its commits reach the same hook (server.ts's long polls).
  roomAgain(f.db);
  const again = proposal([c, a]);
  await f.runtime.core.createSession(again.envelope, nonce(c));
  expect(reported()).toEqual([{ session: hex(again.id), labs: [c.keyId, a.keyId] }]);
});
