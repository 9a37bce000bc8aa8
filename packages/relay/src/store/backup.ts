/**
 * `overlap relay backup`: a consistent copy of a relay's home — its database, its key and every
 * blob the copied entries refer to — taken while the relay runs, or from a stopped one.
 *
 * The database is copied with SQLite's online backup API through the connection that holds it: a
 * running relay does it when asked on its control socket (control-socket.ts), since its exclusive
 * lock keeps every other process out. A write the relay makes during the copy is carried into it,
 * so the copy is the database as it stood when the copy finished.
 *
 * With no relay answering, the source is only ever read, never opened for writing: a backup never
 * changes what it copies (a read-write open would replay, checkpoint and delete the write-ahead log
 * of a relay that was killed), and a home on a read-only file system can be backed up.
 *   - No `relay.db-wal` beside the database (the relay stopped cleanly): the file is the whole
 *     database, and no relay has it open (an open relay always has its log). Its bytes are copied;
 *     a log appearing, or the file changing, while they are (a relay starting) fails the backup.
 *   - A log beside it: SQLite opens the database read-only (no lock is given up, no log replayed):
 *     a relay running there without a control socket is refused (`SQLITE_BUSY`), a killed one's
 *     database, log included, is copied. SQLite may leave its shared-memory index (`relay.db-shm`)
 *     beside it, which a relay never uses (it runs in exclusive locking mode). Where it cannot make
 *     that index (a read-only directory, where no relay can be writing), the database and its log
 *     are copied as bytes, checked unchanged afterwards; the copy's own SQLite replays the log.
 *
 * Then the blobs: a blob is written and synced before
 * the entry that refers to it commits, so every blob the copy refers to exists, and is copied
 * checked against its hash; blobs of later entries are not needed.
 *
 * The copy is built in a temporary directory beside the target (`.NAME.partial-RANDOM`) and renamed
 * to it only once complete and synced, so an interrupted backup never leaves a directory that looks
 * like one; a failed one removes its temporary directory. An existing target is never replaced.
 * Everything is 0600 in 0700 directories: the copy holds the relay's signing key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type BigIntStats, createReadStream, existsSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { toHex } from '@overlap/crypto';
import { makePrivateDirectory, syncDirectory, writeFileAtomic } from '@overlap/files';
import Database from 'better-sqlite3';
import { askRelay, controlSocketPath, fitsSocketPath } from '../control-socket.js';
import { RelayError } from '../errors.js';
import { homePaths } from '../relay-home.js';
import { type Db, getMeta, openDatabase } from './database.js';

export const BACKUP_FORMAT = 'overlap-relay-backup/1';
export const BACKUP_MANIFEST = 'backup.json';

export interface BackupOptions {
  /** The relay's database file (its home is the directory around it). */
  db?: string;
  /** The backup directory to create; it must not exist. */
  out: string;
  onProgress?: (progress: { blobsCopied: number; blobs: number }) => void;
}

/** What a backup holds, as written to its `backup.json`. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  created: string;
  /** The database the copy was taken of. */
  source: string;
  /** True when the running relay made the copy; false when no relay was running. */
  online: boolean;
  origin: string;
  entries: number;
  /** The latest signed checkpoint in the copy: its size and root hash (hex). */
  checkpoint: { size: number; root: string };
  blobs: number;
  blobBytes: number;
}

export interface BackupResult extends BackupManifest {
  out: string;
  /** Things the operator should know (an admin key left in the relay's home). */
  notes: string[];
}

/** Fills `to`, an empty file made for it, with an online copy of `db`; resolves with the pages copied. */
export async function copyDatabase(db: Db, to: string): Promise<number> {
  const target = await lstat(to).catch(() => undefined);
  if (target === undefined) {
    // The command made the file: a relay that cannot see it runs with another view of the disk.
    throw new RelayError(
      'BACKUP_FAILED',
      `the relay cannot see the backup target ${to}: back up into a directory the relay process may write (under systemd: ReadWritePaths=, and not in a PrivateTmp= /tmp)`,
    );
  }
  if (!target.isFile() || target.size !== 0) {
    throw new RelayError('BACKUP_FAILED', `the backup target ${to} must be an existing empty file`);
  }
  try {
    const { totalPages } = await db.backup(to);
    return totalPages;
  } catch (cause) {
    const reason = (cause as Error).message;
    throw new RelayError(
      'BACKUP_FAILED',
      `the relay cannot write the database copy ${to} (${reason}): run the backup as the relay's user, into a directory the relay may write`,
      { cause },
    );
  }
}

export async function backupRelay(options: BackupOptions): Promise<BackupResult> {
  const home = homePaths(options.db);
  if (!existsSync(home.db)) {
    throw new RelayError('NOT_INITIALIZED', `no relay database at ${home.db}`);
  }
  const out = resolve(options.out);
  if (existsSync(out)) throw new RelayError('BACKUP_EXISTS', `${out} already exists; a backup never replaces one`);
  await makePrivateDirectory(dirname(out));
  const partial = join(dirname(out), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(partial, 0o700);
  await chmod(partial, 0o700);
  try {
    const copy = join(partial, 'relay.db');
    await writeFile(copy, '', { mode: 0o600, flag: 'wx' });
    await chmod(copy, 0o600);
    const online = await copyDatabaseOf(home.db, copy);
    await writeFileAtomic(join(partial, 'relay.key'), await readFile(home.relayKey), { syncDirectory: false });
    const contents = readCopy(copy);
    const blobBytes = await copyBlobs(home.blobs, join(partial, 'blobs'), contents.blobs, options.onProgress);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      created: new Date().toISOString(),
      source: home.db,
      online,
      origin: contents.origin,
      entries: contents.entries,
      checkpoint: contents.checkpoint,
      blobs: contents.blobs.length,
      blobBytes,
    };
    await writeFileAtomic(join(partial, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, {
      syncDirectory: false,
    });
    await syncDirectory(partial);
    // Checked again: the target may have appeared while the copy was made (rename would take an empty one).
    if (existsSync(out))
      throw new RelayError('BACKUP_EXISTS', `${out} appeared during the backup; it was left as it is`);
    await rename(partial, out);
    await syncDirectory(dirname(out));
    const notes = existsSync(home.adminKey)
      ? [`${home.adminKey} is in the relay's home and was not copied: move the admin key offline`]
      : [];
    return { ...manifest, out, notes };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Copies the database into `copy`: through the running relay, or from its files when none answers. */
async function copyDatabaseOf(dbPath: string, copy: string): Promise<boolean> {
  const socket = controlSocketPath(dirname(dbPath));
  const answer = await askRelay(socket, { op: 'backup', to: copy });
  if (answer !== undefined) {
    if (!answer.ok)
      throw new RelayError('BACKUP_FAILED', `the running relay could not copy its database: ${answer.message}`);
    return true;
  }
  const log = `${dbPath}-wal`;
  if ((await statOf(log)) === undefined) {
    await copyBytes([dbPath], copy);
    return false;
  }
  let db: Db;
  try {
    // Read-only: SQLite takes a shared lock only, and never replays nor checkpoints the log.
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare('SELECT count(*) FROM meta').get();
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'SQLITE_CANTOPEN') {
      // No shared-memory index can be made beside it (a read-only directory): copy the bytes.
      await copyBytes([dbPath, log], copy);
      return false;
    }
    if (code === 'SQLITE_BUSY') {
      const why = fitsSocketPath(socket)
        ? `on ${socket} (a relay of an older version?)`
        : `(its home's path is too long for the control socket ${socket}, so it has none)`;
      throw new RelayError(
        'BACKUP_FAILED',
        `${dbPath} is in use by a relay process that cannot be asked for a copy ${why}: stop it, and back up with the relay stopped`,
        { cause },
      );
    }
    throw new RelayError('DB_OPEN_FAILED', `cannot read the relay database ${dbPath}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    await copyDatabase(db, copy);
  } finally {
    db.close();
  }
  return false;
}

/**
 * Copies `sources[0]` (the database) into `copy`, and its log `sources[1]`, if given, beside it:
 * every source opened read-only, each checked unchanged (and the database's log still absent, when
 * there was none) once copied. The copy's SQLite replays the copied log when the copy is opened.
 */
async function copyBytes(sources: string[], copy: string): Promise<void> {
  const log = `${sources[0]}-wal`;
  const before = await Promise.all([...sources, log].map(statOf));
  for (const [i, source] of sources.entries()) await copyFileBytes(source, i === 0 ? copy : `${copy}-wal`);
  const after = await Promise.all([...sources, log].map(statOf));
  if (!before.every((stats, i) => sameFile(stats, after[i]))) {
    throw new RelayError(
      'BACKUP_FAILED',
      `${sources[0]} changed while it was copied (a relay started on it?): back up again, through the running relay or with it stopped`,
    );
  }
}

async function copyFileBytes(source: string, target: string): Promise<void> {
  const handle = await open(target, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    for await (const chunk of createReadStream(source)) await handle.write(chunk as Buffer);
    await handle.sync();
  } catch (cause) {
    if (cause instanceof RelayError) throw cause;
    throw new RelayError('BACKUP_FAILED', `cannot copy ${source}: ${(cause as Error).message}`, { cause });
  } finally {
    await handle.close();
  }
}

async function statOf(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RelayError('BACKUP_FAILED', `cannot look at ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function sameFile(a: BigIntStats | undefined, b: BigIntStats | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

interface CopyContents {
  origin: string;
  entries: number;
  checkpoint: { size: number; root: string };
  /** Hashes (hex) of the entries stored as blob files. */
  blobs: string[];
}

/** What the copied database holds: read from the copy itself, not from the live relay. */
function readCopy(copy: string): CopyContents {
  const db = openDatabase(copy);
  let contents: CopyContents;
  try {
    const origin = getMeta(db, 'origin');
    if (origin === undefined)
      throw new RelayError('BACKUP_FAILED', 'the database copy has no origin: not a relay database');
    const entries = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
    const last = db.prepare('SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1').get() as
      | { size: number; root: Buffer }
      | undefined;
    const blobs = (
      db.prepare('SELECT hash FROM entries WHERE inline IS NULL ORDER BY idx').pluck().all() as Buffer[]
    ).map((hash) => toHex(hash));
    contents = { origin, entries, checkpoint: { size: last?.size ?? 0, root: last ? toHex(last.root) : '' }, blobs };
    // A log copied with the database was replayed into it on opening: fold it in, so that the
    // backup is one file (SQLite removes the emptied log on closing).
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  if (existsSync(`${copy}-wal`)) throw new RelayError('BACKUP_FAILED', `the copy's log ${copy}-wal was not folded in`);
  return contents;
}

/** Copies each blob, checked against its hash; returns the bytes copied. */
async function copyBlobs(
  from: string,
  to: string,
  hashes: string[],
  onProgress: BackupOptions['onProgress'],
): Promise<number> {
  let bytes = 0;
  const directories = new Set<string>();
  for (const [i, hash] of hashes.entries()) {
    const source = join(from, hash.slice(0, 2), hash);
    let content: Buffer;
    try {
      content = await readFile(source);
    } catch (cause) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${source}, referred to by the copy, cannot be read`, { cause });
    }
    if (createHash('sha256').update(content).digest('hex') !== hash) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${source} does not match its hash; run overlap relay fsck`);
    }
    const directory = join(to, hash.slice(0, 2));
    if (!directories.has(directory)) {
      await makePrivateDirectory(directory);
      directories.add(directory);
    }
    await writeFileAtomic(join(directory, hash), content, { syncDirectory: false });
    bytes += content.length;
    onProgress?.({ blobsCopied: i + 1, blobs: hashes.length });
  }
  await Promise.all([...directories].map(syncDirectory));
  return bytes;
}
