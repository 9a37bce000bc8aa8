/**
 * Online backups (store/backup.ts, control-socket.ts) of a real relay: taken while envelopes keep
 * arriving, the copy restores into a fresh directory that fsck finds clean, whose checkpoint at the
 * copy's size has the live log's root there, and that a relay serves; the copy is 0700/0600 and
 * holds no admin key; an existing target is never touched; a backup that fails half-way leaves
 * nothing; the control socket is 0600 and refuses what it should.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import { packTags } from '@overlap/protocol';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { askRelay, controlSocketPath } from '../src/control-socket.js';
import { backupRelay, fsckRelay, startRelayServer } from '../src/index.js';
import { BACKUP_MANIFEST, type BackupManifest } from '../src/store/backup.js';
import { type Actor, hex, joinBody, seal, TestRelay } from './support/harness.js';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const t of relays.splice(0)) await t.close();
});

async function relay(): Promise<TestRelay> {
  // The traffic leaves every session open (its second lab never joins): no quota of open sessions.
  const t = await TestRelay.start({ limits: { maxOpenSessionsPerLab: Number.MAX_SAFE_INTEGER } });
  relays.push(t);
  return t;
}

/** Packed tags, made once per size: each session's chunk differs anyway by its envelope's header. */
const packedTags = new Map<number, Uint8Array>();
function tagsOf(count: number): Uint8Array {
  let packed = packedTags.get(count);
  if (packed === undefined) {
    const key = BlindingKey.generate();
    packed = packTags(Array.from({ length: count }, (_, i) => hashAndBlind(key, 'email', `u${i}@backup.example`)));
    key.dispose();
    packedTags.set(count, packed);
  }
  return packed;
}

/** One session's worth of envelopes: a proposal, a join and a chunk of `tags` tags (a blob from ~2,050). */
async function session(t: TestRelay, a: Actor, b: Actor, tags: number): Promise<void> {
  const id = await t.propose([a, b], { maxItemsPerKind: 5000 });
  const path = `/v1/sessions/${hex(id)}/envelopes`;
  const joined = seal(a, 'join', id, joinBody(a, id, { email: tags }));
  expect((await t.request('POST', path, joined.bytes, { signer: a })).status).toBe(200);
  const packed = tagsOf(tags);
  const chunk = seal(a, 'tag_chunk', id, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags: packed });
  expect((await t.request('POST', path, chunk.bytes, { signer: a })).status).toBe(200);
}

/** Uploads from `workers` labs at once until `stop()`; resolves when they have stopped. */
function traffic(t: TestRelay, labs: Actor[][], workers: number): { stop: () => Promise<void> } {
  let stopped = false;
  const runs = Array.from({ length: workers }, async (_, w) => {
    const [a, b] = labs[w] as [Actor, Actor];
    for (let n = 0; !stopped; n++) await session(t, a, b, n % 2 === 0 ? 3000 : 1200);
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(runs);
    },
  };
}

/** Every directory and file under `root`, with its permission bits. */
function modes(root: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (path: string) => {
    const stats = statSync(path);
    out.push({ path, dir: stats.isDirectory(), mode: stats.mode & 0o777 });
    if (stats.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return out;
}

const partials = (dir: string) => readdirSync(dir).filter((name) => name.includes('.partial-'));

function checkpointRoot(db: string, size: number): string | undefined {
  const sqlite = new Database(db, { readonly: true });
  try {
    const row = sqlite.prepare('SELECT root FROM checkpoints WHERE size = ?').get(size) as { root: Buffer } | undefined;
    return row && hex(row.root);
  } finally {
    sqlite.close();
  }
}

describe('an online backup of a running relay', () => {
  test('taken while envelopes arrive, restores into a fresh home that fsck finds clean, with the live log’s root', async () => {
    const t = await relay();
    const labs = await Promise.all([0, 1, 2].map(async (w) => [await t.enroll(`a${w}`), await t.enroll(`b${w}`)]));
    const load = traffic(t, labs, 3);
    // Some traffic first, so that there are blobs and inline envelopes to copy.
    while (t.relay.core.latest.size < 12) await new Promise((resolve) => setImmediate(resolve));
    const backups: { out: string; requestedAt: number; manifest: BackupManifest }[] = [];
    // Until a copy holds entries that arrived after it was asked for: a copy made under writes.
    for (let i = 0; i < 10 && !backups.some((b) => b.manifest.checkpoint.size > b.requestedAt); i++) {
      const out = join(t.dir, `backup-${i}`);
      const requestedAt = t.relay.core.latest.size;
      const result = await backupRelay({ db: t.options.db as string, out });
      expect(result.online).toBe(true);
      backups.push({ out, requestedAt, manifest: JSON.parse(readFileSync(join(out, BACKUP_MANIFEST), 'utf8')) });
    }
    const during = backups.find((b) => b.manifest.checkpoint.size > b.requestedAt);
    expect(during, 'a backup taken while envelopes were being committed').toBeDefined();
    const { out, manifest } = during as (typeof backups)[number];
    // More envelopes after the backup: the live log goes on past the copy.
    const sizeAfterBackup = t.relay.core.latest.size;
    while (t.relay.core.latest.size < sizeAfterBackup + 6) await new Promise((resolve) => setImmediate(resolve));
    await load.stop();
    const liveSize = t.relay.core.latest.size;
    await t.relay.close();
    expect(liveSize).toBeGreaterThan(manifest.checkpoint.size);

    // The copy: 0700 directories, 0600 files; the database, the relay's key, the blobs, the manifest.
    for (const entry of modes(out)) expect(entry.mode, entry.path).toBe(entry.dir ? 0o700 : 0o600);
    expect(readdirSync(out).sort()).toEqual(['backup.json', 'blobs', 'relay.db', 'relay.key']);
    expect(manifest.blobs).toBeGreaterThan(0);
    expect(manifest.entries).toBe(manifest.checkpoint.size);

    // Restore: copy the backup to a fresh directory, check it, serve it.
    const restored = join(t.dir, 'restored');
    cpSync(out, restored, { recursive: true });
    const report = fsckRelay(join(restored, 'relay.db'));
    expect(report.findings).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(report.entries).toBe(manifest.checkpoint.size);
    expect(report.blobs).toBe(manifest.blobs);
    // The live log's checkpoint at the backup's size has the same root as the restored log's.
    expect(checkpointRoot(t.options.db as string, manifest.checkpoint.size)).toBe(manifest.checkpoint.root);
    expect(checkpointRoot(join(restored, 'relay.db'), manifest.checkpoint.size)).toBe(manifest.checkpoint.root);
    const server = await startRelayServer({ db: join(restored, 'relay.db'), port: 0 });
    try {
      const note = await (await fetch(`${server.url}/v1/log/checkpoint`)).text();
      expect(note.split('\n')[1]).toBe(String(manifest.checkpoint.size));
    } finally {
      await server.close();
    }
  }, 180_000);

  test('says that an admin key in the home was not copied', async () => {
    const t = await relay();
    const result = await backupRelay({ db: t.options.db as string, out: join(t.dir, 'b') });
    expect(existsSync(join(t.dir, 'b', 'admin.key'))).toBe(false);
    expect(result.notes.join('\n')).toMatch(/admin\.key.*not copied/);
  });

  test('of a stopped relay: made by the command itself, and as good', async () => {
    const t = await relay();
    const [a, b] = [await t.enroll('a'), await t.enroll('b')];
    await session(t, a, b, 3000);
    await t.relay.close();
    const out = join(t.dir, 'offline');
    const result = await backupRelay({ db: t.options.db as string, out });
    expect(result.online).toBe(false);
    expect(result.blobs).toBe(1);
    expect(fsckRelay(join(out, 'relay.db')).findings).toEqual([]);
  });
});

describe('a backup never replaces and never leaves half a copy', () => {
  test('an existing target, empty or not, is refused and left as it was', async () => {
    const t = await relay();
    const full = join(t.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep'), 'mine');
    const empty = join(t.dir, 'empty');
    mkdirSync(empty);
    for (const out of [full, empty]) {
      await expect(backupRelay({ db: t.options.db as string, out })).rejects.toMatchObject({ code: 'BACKUP_EXISTS' });
    }
    expect(readdirSync(full)).toEqual(['keep']);
    expect(readFileSync(join(full, 'keep'), 'utf8')).toBe('mine');
    expect(readdirSync(empty)).toEqual([]);
    expect(partials(t.dir)).toEqual([]);
  });

  test('a blob missing half-way fails the backup: no target, no temporary directory', async () => {
    const t = await relay();
    const [a, b] = [await t.enroll('a'), await t.enroll('b')];
    await session(t, a, b, 3000);
    await session(t, a, b, 3000);
    const blobs = join(t.dir, 'blobs');
    const victim = readdirSync(blobs).sort()[0] as string;
    rmSync(join(blobs, victim), { recursive: true });
    const out = join(t.dir, 'broken');
    await expect(backupRelay({ db: t.options.db as string, out })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(existsSync(out)).toBe(false);
    expect(partials(t.dir)).toEqual([]);
  });

  test('no relay database: NOT_INITIALIZED, nothing made', async () => {
    const t = await relay();
    const out = join(t.dir, 'nothing');
    await expect(backupRelay({ db: join(t.dir, 'typo', 'relay.db'), out })).rejects.toMatchObject({
      code: 'NOT_INITIALIZED',
    });
    expect(existsSync(out)).toBe(false);
  });
});

describe('the control socket', () => {
  test('is 0600 in the home, and survives a second relay refused on the same database', async () => {
    const t = await relay();
    const socket = controlSocketPath(t.dir);
    expect(t.relay.controlSocket).toBe(socket);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(t.dir).mode & 0o777).toBe(0o700);
    await expect(startRelayServer({ db: t.options.db as string, port: 0 })).rejects.toMatchObject({
      code: 'DB_LOCKED',
    });
    const result = await backupRelay({ db: t.options.db as string, out: join(t.dir, 'after-refusal') });
    expect(result.online).toBe(true);
  });

  test('refuses to write over a file that is not empty, and requests it cannot parse', async () => {
    const t = await relay();
    const socket = controlSocketPath(t.dir);
    const precious = join(t.dir, 'precious.txt');
    writeFileSync(precious, 'do not overwrite');
    expect(await askRelay(socket, { op: 'backup', to: precious })).toMatchObject({ ok: false, code: 'BACKUP_FAILED' });
    expect(readFileSync(precious, 'utf8')).toBe('do not overwrite');
    expect(await askRelay(socket, { op: 'backup', to: 'relative/path' })).toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });
    expect(await askRelay(socket, { op: 'explode' } as never)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    // The relay goes on answering.
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });

  test('is gone once the relay stops; a backup then opens the database itself', async () => {
    const t = await relay();
    await t.relay.close();
    expect(existsSync(controlSocketPath(t.dir))).toBe(false);
    expect(await askRelay(controlSocketPath(t.dir), { op: 'backup', to: '/nowhere' })).toBeUndefined();
  });
});
