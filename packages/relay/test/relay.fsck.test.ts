/**
 * fsck over a real relay home: clean after real traffic (including large envelopes stored as blob
 * files), and each kind of damage — a changed blob, a missing blob, a changed inline envelope, a
 * missing entry, a forged checkpoint — is a finding; the CLI exits 1 on findings, 0 when clean.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import { packTags } from '@overlap/protocol';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { fsckRelay, startRelayServer } from '../src/index.js';
import { hex, joinBody, seal, TestRelay } from './support/harness.js';

const main = join(import.meta.dirname, '..', '..', 'cli', 'src', 'main.ts');
const relays: TestRelay[] = [];
afterEach(async () => {
  for (const t of relays.splice(0)) await t.close();
});

/** A stopped relay home with enrollments, a session and one large (blob-file) chunk. */
async function home(): Promise<{ db: string; dir: string }> {
  const t = await TestRelay.start();
  relays.push(t);
  const a = await t.enroll('a');
  const b = await t.enroll('b');
  const session = await t.propose([a, b], { maxItemsPerKind: 5000 });
  const path = `/v1/sessions/${hex(session)}/envelopes`;
  expect(
    (
      await t.request('POST', path, seal(a, 'join', session, joinBody(a, session, { email: 3000 })).bytes, {
        signer: a,
      })
    ).status,
  ).toBe(200);
  const key = BlindingKey.generate();
  const tags = packTags(Array.from({ length: 3000 }, (_, i) => hashAndBlind(key, 'email', `u${i}@fsck.example`)));
  key.dispose();
  const chunk = seal(a, 'tag_chunk', session, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags });
  expect((await t.request('POST', path, chunk.bytes, { signer: a })).status).toBe(200);
  await t.relay.close();
  return { db: t.options.db as string, dir: t.dir };
}

function cli(db: string): { status: number | null; stdout: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@overlap/source', main, 'relay', 'fsck', '--db', db],
    {
      encoding: 'utf8',
    },
  );
  return { status: run.status, stdout: run.stdout };
}

describe('overlap relay fsck', () => {
  test('a relay home after real traffic is clean, and the CLI says so with exit 0', async () => {
    const { db, dir } = await home();
    const report = fsckRelay(db);
    expect(report.findings).toEqual([]);
    expect(report.blobs).toBe(1);
    expect(readdirSync(join(dir, 'blobs')).length).toBe(1);
    const run = cli(db);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('fsck: clean');
  });

  const damage: [string, (db: string, dir: string) => void, RegExp][] = [
    [
      'a changed blob file',
      (_db, dir) => {
        const sub = readdirSync(join(dir, 'blobs'))[0] as string;
        const file = readdirSync(join(dir, 'blobs', sub))[0] as string;
        writeFileSync(join(dir, 'blobs', sub, file), 'not the envelope');
      },
      /do not match their hash|bytes stored/,
    ],
    [
      'a missing blob file',
      (_db, dir) => rmSync(join(dir, 'blobs'), { recursive: true }),
      /entry 4 \(tag_chunk from [0-9a-f]{32}, session [0-9a-f]{32}\): blob file .* is missing; restore it/,
    ],
    [
      'a changed inline envelope',
      (db) => {
        const sql = new Database(db);
        const row = sql
          .prepare('SELECT idx, inline FROM entries WHERE inline IS NOT NULL ORDER BY idx LIMIT 1')
          .get() as { idx: number; inline: Buffer };
        const last = row.inline.length - 1;
        row.inline[last] = (row.inline[last] as number) ^ 1;
        sql.prepare('UPDATE entries SET inline = ? WHERE idx = ?').run(row.inline, row.idx);
        sql.close();
      },
      /entry 0 \(enrollment from [0-9a-f]{32}, session 0{32}\): the stored bytes do not match their hash \(the envelope stored in the database\); restore it from a backup/,
    ],
    [
      'a wrong recorded length (the bytes intact)',
      (db) => {
        const sql = new Database(db);
        sql.prepare('UPDATE entries SET length = length + 1 WHERE idx = 1').run();
        sql.close();
      },
      /entry 1 \(enrollment from [0-9a-f]{32}, session 0{32}\): \d+ bytes recorded, \d+ stored/,
    ],
    [
      'a missing entry',
      (db) => {
        const sql = new Database(db);
        sql.prepare('DELETE FROM entries WHERE idx = 1').run();
        sql.close();
      },
      /not contiguous/,
    ],
    [
      'a forged checkpoint root',
      (db) => {
        const sql = new Database(db);
        sql
          .prepare('UPDATE checkpoints SET root = zeroblob(32) WHERE size = (SELECT max(size) FROM checkpoints)')
          .run();
        sql.close();
      },
      /its root is not the root of the stored entries/,
    ],
  ];

  test('a damaged blob is one finding, naming its entry; the checkpoints after it still check; the relay refuses to start naming the entry', async () => {
    const { db, dir } = await home();
    // More entries, and checkpoints, after the blob's.
    const t = relays.at(-1) as TestRelay;
    await t.restart();
    await t.enroll('c');
    await t.enroll('d');
    await t.relay.close();
    const sub = readdirSync(join(dir, 'blobs'))[0] as string;
    const file = readdirSync(join(dir, 'blobs', sub))[0] as string;
    writeFileSync(join(dir, 'blobs', sub, file), 'not the envelope');
    const report = fsckRelay(db);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatch(
      new RegExp(
        `^entry 4 \\(tag_chunk from [0-9a-f]{32}, session [0-9a-f]{32}\\): the stored bytes do not match their hash \\(blob file ${file}, 16 bytes stored, \\d+ recorded\\); restore it from a backup`,
      ),
    );
    await expect(startRelayServer({ db, port: 0, controlSocket: false })).rejects.toThrow(
      /^log entry 4 \(tag_chunk from [0-9a-f]{32}\): blob [0-9a-f]{64} does not match its hash; run overlap relay fsck/,
    );
  });

  test('a temporary file of an interrupted write is a note, and the relay removes it when it starts', async () => {
    const { db, dir } = await home();
    const sub = readdirSync(join(dir, 'blobs'))[0] as string;
    const leftover = join(dir, 'blobs', sub, `.${'ab'.repeat(32)}.0123456789ab.tmp`);
    writeFileSync(leftover, 'half a chunk');
    const report = fsckRelay(db);
    expect(report.findings).toEqual([]);
    expect(report.notes).toEqual([
      `temporary file ${leftover} is left from an interrupted write (the relay removes it when it starts)`,
    ]);
    const warnings: string[] = [];
    const relay = await startRelayServer({
      db,
      port: 0,
      controlSocket: false,
      onWarning: (line) => warnings.push(line),
    });
    await relay.close();
    expect(existsSync(leftover)).toBe(false);
    expect(warnings).toEqual([`removed 1 temporary blob file(s) left by an interrupted write: ${leftover}`]);
    expect(fsckRelay(db).notes).toEqual([]);
  });

  test.each(damage)('%s is a finding, and the CLI exits 1', async (_name, harm, finding) => {
    const { db, dir } = await home();
    harm(db, dir);
    const report = fsckRelay(db);
    expect(report.findings.join('\n')).toMatch(finding);
    const run = cli(db);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FINDING');
  });
});
