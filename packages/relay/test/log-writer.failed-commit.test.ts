/**
 * A COMMIT that fails publishes nothing (spec/log.md §6): the log writer's latest checkpoint,
 * committed size and receipts stay what the database holds, so the relay never serves a checkpoint
 * over entries it does not have. The failure is SQLite's own "database or disk is full"
 * (SQLITE_FULL), brought on with `PRAGMA max_page_count` on a real database file: the same error a
 * full disk gives, from the same place (the transaction's write).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair, sha256 } from '@overlap/crypto';
import { ed25519NoteSigner, parseCheckpoint } from '@overlap/log';
import { afterEach, expect, test } from 'vitest';
import { BlobFiles } from '../src/store/blob-files.js';
import { type Db, openDatabase } from '../src/store/database.js';
import { LogWriter, type NewEntry } from '../src/store/log-writer.js';
import { loadTree } from '../src/store/recovery.js';

const ORIGIN = 'example.test/failed-commit';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function entry(i: number, size = 600): NewEntry {
  const bytes = new Uint8Array(size).fill(i % 251);
  bytes[0] = i & 0xff;
  bytes[1] = i >> 8;
  return { bytes, hash: sha256(bytes), type: 'tag_chunk', sender: 'a'.repeat(32), session: new Uint8Array(16), seq: i };
}

function writerOn(db: Db, dir: string, onFailed?: (error: unknown) => void): LogWriter {
  const signer = ed25519NoteSigner(ORIGIN, generateSigningKeyPair().secretKey);
  return new LogWriter({
    db,
    blobs: new BlobFiles(join(dir, 'blobs')),
    tree: loadTree(db),
    signer,
    origin: ORIGIN,
    ...(onFailed && { onFailed }),
  });
}

function storedSizes(db: Db): number[] {
  return db.prepare('SELECT size FROM checkpoints ORDER BY size').pluck().all() as number[];
}

test('a failed COMMIT leaves the latest checkpoint, the committed size and the receipts as the database has them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-failed-commit-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'relay.db'));
  const failures: unknown[] = [];
  const writer = writerOn(db, dir, (error) => failures.push(error));
  // Three entries commit.
  await writer.append([entry(0), entry(1), entry(2)]).committed;
  expect(writer.latest.size).toBe(3);
  const before = writer.latest;
  // The database may not grow any more: the next transaction's write fails.
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const big = Array.from({ length: 40 }, (_, i) => entry(3 + i, 1000));
  const { committed } = writer.append(big);
  await expect(committed).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryAfter: 1 });
  await expect(committed).rejects.toThrow(/SQLITE_FULL/);
  // Nothing of the failed batch is published.
  expect(writer.latest).toEqual(before);
  expect(parseCheckpoint(writer.latest.note.split('\n\n')[0] + '\n').size).toBe(3);
  expect(writer.committedSize).toBe(3);
  expect(() => writer.receipt(3)).toThrow(/not committed/);
  expect(writer.receipt(2).checkpoint).toBe(before.note);
  // The database holds exactly the three, and the checkpoint over them.
  expect(storedSizes(db)).toEqual([0, 3]);
  expect(db.prepare('SELECT count(*) FROM entries').pluck().get()).toBe(3);
  // The writer is failed for good, and said so once.
  expect(failures).toHaveLength(1);
  expect(() => writer.append([entry(99)])).toThrow(/could not write its log \(SQLITE_FULL\)/);
  db.close();
});

test('a writer made again on the same database continues from what committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-failed-commit-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'relay.db'));
  const first = writerOn(db, dir);
  await first.append([entry(0)]).committed;
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  await expect(first.append(Array.from({ length: 40 }, (_, i) => entry(1 + i, 1000))).committed).rejects.toThrow();
  // Space is back: a new writer over the database (what the relay does) accepts the same entries.
  db.pragma('max_page_count = 1073741823');
  const again = writerOn(db, dir);
  expect(again.committedSize).toBe(1);
  const indices = await again.append([entry(1), entry(2)]).committed;
  expect(indices).toEqual([1, 2]);
  expect(again.latest.size).toBe(3);
  expect(storedSizes(db)).toEqual([0, 1, 3]);
  db.close();
});
