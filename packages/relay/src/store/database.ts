/**
 * The relay's SQLite database: schema, pragmas and the single-writer lock.
 *
 * - WAL with `synchronous=FULL`: a committed transaction survives power loss (better-sqlite3's
 *   default, NORMAL, may lose the last commits in WAL mode).
 * - `locking_mode=EXCLUSIVE`, taken at open with an exclusive transaction: the first relay process
 *   holds the database until it exits (the OS drops the lock even on SIGKILL), and a second one
 *   started on the same file by mistake is refused at start-up instead of forking the log.
 * - Large envelopes live in content-addressed files (blob-files.ts); the database keeps metadata,
 *   small envelopes inline, nonces, checkpoints and the inboxes.
 */
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { RelayError } from '../errors.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  hash BLOB NOT NULL UNIQUE,          -- SHA-256 of the envelope bytes: the envelope's hash
  length INTEGER NOT NULL,
  inline BLOB,                        -- the bytes, when small; otherwise in blobs/<hash>
  type TEXT NOT NULL,
  sender TEXT NOT NULL,
  session BLOB NOT NULL,
  seq INTEGER NOT NULL,
  received INTEGER NOT NULL,
  UNIQUE (session, sender, seq)
);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (
  key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires);
CREATE TABLE IF NOT EXISTS sessions (
  id BLOB PRIMARY KEY, proposal INTEGER NOT NULL, deadline INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  session BLOB NOT NULL, lab TEXT NOT NULL, n INTEGER NOT NULL, type TEXT NOT NULL,
  entry INTEGER NOT NULL, hop INTEGER, PRIMARY KEY (session, lab, n)
) WITHOUT ROWID;
`;

export interface OpenOptions {
  readonly?: boolean;
}

/**
 * SQLite creates the database, its WAL and its shared-memory file with the umask's modes (0644 under
 * the usual 022), the WAL and the shared memory with the database's. They hold every envelope the
 * log accepted: the database is made 0600 before SQLite opens it (created so, or narrowed if an
 * earlier version left it wider), and so are the other two if they are there.
 */
function makeDatabaseFilesPrivate(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(file).mode & 0o777) !== 0o600) chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Opens (and creates, unless read-only) the database, taking the single-writer lock. */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (!options.readonly) makeDatabaseFilesPrivate(path);
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
      timeout: 0,
    });
  } catch (cause) {
    throw new RelayError('DB_OPEN_FAILED', `cannot open the relay database ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN EXCLUSIVE; COMMIT;');
      db.exec(SCHEMA);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as string | undefined;
      if (version === undefined) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
      } else if (version !== String(SCHEMA_VERSION)) {
        throw new RelayError(
          'DB_OPEN_FAILED',
          `${path} has schema version ${version}; this relay reads ${SCHEMA_VERSION}`,
        );
      }
    } else {
      db.prepare('SELECT count(*) FROM meta').get();
    }
  } catch (cause) {
    db.close();
    if (cause instanceof RelayError) throw cause;
    if ((cause as { code?: string }).code === 'SQLITE_BUSY') {
      throw new RelayError(
        'DB_LOCKED',
        `${path} is in use by another relay process; stop it first (two relays on one log would fork it)`,
        { cause },
      );
    }
    throw new RelayError('DB_OPEN_FAILED', `cannot open the relay database ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return db;
}

export function getMeta(db: Db, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
}
