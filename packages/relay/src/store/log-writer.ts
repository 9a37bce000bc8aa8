/**
 * The relay's append path with group commit. Requests are handled one at a time on the event loop:
 * each accepted envelope gets its log index at once (so the order of the log is the order the
 * session engines saw), and waits for the next flush. A flush writes the large envelopes' files,
 * then commits, in one SQLite transaction, every entry, nonce, chunk place and inbox item queued
 * since the last flush, together with the signed checkpoint over the new tree; only then are the
 * receipts handed out. One fsync of the WAL covers everything that arrived meanwhile, which is what
 * keeps `synchronous=FULL` affordable.
 *
 * Invariant: a checkpoint is published (`latest`, receipts) only once the transaction that stores
 * it and the entries it covers has committed, so the relay never serves a tree it could later lose
 * (across crashes, restarts and failed writes; spec/log.md §6). A COMMIT that fails (a full disk)
 * changes nothing this writer publishes: not the latest checkpoint, not the committed size, not the
 * inbox numbering. The writer is then failed for good (its tree holds entries the database does
 * not): `onFailed` is told, and the relay rebuilds its state from the database (relay-runtime.ts).
 */
import { toHex } from '@overlap/crypto';
import { formatCheckpoint, leafHash, type MerkleTree, type NoteSigner, type Receipt, signNote } from '@overlap/log';
import type { InboxItemType } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import { type BlobFiles, INLINE_LIMIT } from './blob-files.js';
import type { Db } from './database.js';

/** An inbox item to store with an entry (what GET /v1/sessions/{id}/inbox later serves). */
export interface InboxWrite {
  lab: string;
  type: InboxItemType;
  hop?: number;
  /** The entry the item points at, when not the entry it comes with (a held chunk's source). */
  entry?: number;
}

export interface NewEntry {
  bytes: Uint8Array;
  /** SHA-256 of `bytes`. */
  hash: Uint8Array;
  type: string;
  sender: string;
  session: Uint8Array;
  seq: number;
  /** Inbox items that point at this entry. */
  inbox?: InboxWrite[];
  /** For session proposals: the session row. */
  sessionDeadline?: number;
  /** For session proposals: the labs it names (their session lists grow when it commits). */
  sessionLabs?: readonly string[];
}

/** What one commit made visible: the long polls it may end (http/long-poll-waiters.ts). */
export interface CommitVisible {
  /** Inbox items, by session (hex) and lab. */
  inbox: { session: string; lab: string }[];
  /** Session proposals, by session (hex), with the labs each names. */
  proposals: { session: string; labs: readonly string[] }[];
}

export interface NonceUse {
  keyId: string;
  nonce: string;
  /** Unix seconds after which the nonce may be forgotten. */
  expires: number;
}

interface Queued {
  entries: { index: number; entry: NewEntry; file?: Promise<void> }[];
  nonce?: NonceUse;
  resolve: (indices: number[]) => void;
  reject: (error: unknown) => void;
}

export interface LogWriterOptions {
  db: Db;
  blobs: BlobFiles;
  tree: MerkleTree;
  signer: NoteSigner;
  origin: string;
  /** Called after each commit with the inbox items and session proposals it made visible. */
  onCommitted?: (visible: CommitVisible) => void;
  /** Called once, when a write fails: nothing more is acknowledged by this writer. */
  onFailed?: (error: unknown) => void;
  now?: () => number;
}

export class LogWriter {
  readonly #options: LogWriterOptions;
  readonly #queue: Queued[] = [];
  readonly #pendingHashes = new Map<string, number>();
  readonly #pendingNonces = new Set<string>();
  readonly #inboxNext = new Map<string, number>(); // "session|lab" -> next n
  #flushing = false;
  #failed: unknown;
  #committedSize: number;
  #latest: { size: number; note: string };

  constructor(options: LogWriterOptions) {
    this.#options = options;
    const { db } = options;
    for (const row of db.prepare('SELECT session, lab, max(n) + 1 AS next FROM inbox GROUP BY session, lab').all() as {
      session: Buffer;
      lab: string;
      next: number;
    }[]) {
      this.#inboxNext.set(`${toHex(row.session)}|${row.lab}`, row.next);
    }
    this.#committedSize = options.tree.size;
    const last = db.prepare('SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1').get() as
      | { size: number; note: string }
      | undefined;
    this.#latest = last ?? this.#signAndStore(0);
  }

  /** The latest signed checkpoint note and its size. */
  get latest(): { size: number; note: string } {
    return this.#latest;
  }

  /** Log size including entries not yet committed. */
  get size(): number {
    return this.#options.tree.size;
  }

  /** Entries committed (and covered by `latest`). */
  get committedSize(): number {
    return this.#committedSize;
  }

  /** Why this writer failed, once it has. */
  get failure(): unknown {
    return this.#failed;
  }

  /** The index of an entry with these bytes, committed or queued, if there is one. */
  indexOfHash(hash: Uint8Array): number | undefined {
    const hex = toHex(hash);
    const pending = this.#pendingHashes.get(hex);
    if (pending !== undefined) return pending;
    const row = this.#options.db.prepare('SELECT idx FROM entries WHERE hash = ?').pluck().get(hash) as
      | number
      | undefined;
    return row;
  }

  /** Whether this nonce was used by this key (committed or queued). */
  nonceUsed(keyId: string, nonce: string): boolean {
    if (this.#pendingNonces.has(`${keyId}|${nonce}`)) return true;
    return (
      this.#options.db.prepare('SELECT 1 FROM nonces WHERE key_id = ? AND nonce = ?').get(keyId, nonce) !== undefined
    );
  }

  /**
   * Queues entries (given their indices now, in order) and a nonce; resolves with the indices once
   * they are committed. Call synchronously after the session engine accepted the envelopes.
   */
  append(entries: NewEntry[], nonce?: NonceUse): { indices: number[]; committed: Promise<number[]> } {
    if (this.#failed !== undefined) throw refusal(this.#failed);
    const queued: Queued['entries'] = entries.map((entry) => {
      const index = this.#options.tree.append(leafHash(entry.bytes));
      this.#pendingHashes.set(toHex(entry.hash), index);
      const file =
        entry.bytes.length >= INLINE_LIMIT ? this.#options.blobs.write(toHex(entry.hash), entry.bytes) : undefined;
      file?.catch(() => {}); // awaited in the flush; this keeps an early failure from being unhandled
      return file ? { index, entry, file } : { index, entry };
    });
    if (nonce) this.#pendingNonces.add(`${nonce.keyId}|${nonce.nonce}`);
    const committed = new Promise<number[]>((resolve, reject) => {
      this.#queue.push({ entries: queued, ...(nonce && { nonce }), resolve, reject });
    });
    setImmediate(() => void this.#flush());
    return { indices: queued.map((q) => q.index), committed };
  }

  /** The receipt of a committed entry: the first checkpoint that contains it, and the proof. */
  receipt(index: number): Receipt {
    if (index >= this.#committedSize) throw new RelayError('NOT_FOUND', `entry ${index} is not committed`);
    const row = this.#options.db
      .prepare('SELECT size, note FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1')
      .get(index) as { size: number; note: string };
    return { index, proof: this.#options.tree.inclusionProof(index, row.size), checkpoint: row.note };
  }

  /** Resolves when entry `index` is committed (for a resent envelope still in flight). */
  async whenCommitted(index: number): Promise<void> {
    while (index >= this.#committedSize) {
      if (this.#failed !== undefined) throw refusal(this.#failed);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Resolves when everything queued so far is committed. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing) await new Promise((r) => setTimeout(r, 5));
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#queue.length === 0 || this.#failed !== undefined) return;
    this.#flushing = true;
    const batch = this.#queue.splice(0);
    try {
      const files: string[] = [];
      for (const queued of batch) {
        for (const { file, entry } of queued.entries) {
          if (!file) continue;
          await file;
          files.push(toHex(entry.hash));
        }
      }
      if (files.length > 0) await this.#options.blobs.syncDirectories(files);
      const visible = this.#commit(batch);
      // Resolved before the long polls are woken: what a resolution shows (a session's status,
      // hosted-session.ts) runs first, so a woken read finds it.
      for (const queued of batch) queued.resolve(queued.entries.map((e) => e.index));
      this.#options.onCommitted?.(visible);
    } catch (error) {
      // A write that did not commit leaves the in-memory tree ahead of the database: nothing more
      // can be acknowledged here. Fail every waiter; the relay rebuilds its state from what was
      // committed (onFailed), and a client's retry of the same bytes is accepted there.
      this.#failed = error;
      const refused = refusal(error);
      for (const queued of [...batch, ...this.#queue.splice(0)]) queued.reject(refused);
      this.#options.onFailed?.(error);
    } finally {
      this.#flushing = false;
    }
    if (this.#queue.length > 0) setImmediate(() => void this.#flush());
  }

  #commit(batch: Queued[]): CommitVisible {
    const { db } = this.#options;
    const now = (this.#options.now ?? Date.now)();
    const insertEntry = db.prepare(
      'INSERT INTO entries (idx, leaf_hash, hash, length, inline, type, sender, session, seq, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertInbox = db.prepare('INSERT INTO inbox (session, lab, n, type, entry, hop) VALUES (?, ?, ?, ?, ?, ?)');
    const insertNonce = db.prepare('INSERT INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)');
    const insertSession = db.prepare('INSERT INTO sessions (id, proposal, deadline) VALUES (?, ?, ?)');
    const visible: CommitVisible = { inbox: [], proposals: [] };
    // Published only once the transaction has committed: a failed COMMIT leaves them as they were.
    const inboxNext = new Map<string, number>();
    let size = this.#committedSize;
    let latest: { size: number; note: string } | undefined;
    db.transaction(() => {
      for (const queued of batch) {
        if (queued.nonce) insertNonce.run(queued.nonce.keyId, queued.nonce.nonce, queued.nonce.expires);
        for (const { index, entry } of queued.entries) {
          insertEntry.run(
            index,
            leafHash(entry.bytes),
            entry.hash,
            entry.bytes.length,
            entry.bytes.length >= INLINE_LIMIT ? null : entry.bytes,
            entry.type,
            entry.sender,
            entry.session,
            entry.seq,
            now,
          );
          if (entry.sessionDeadline !== undefined) insertSession.run(entry.session, index, entry.sessionDeadline);
          const session = toHex(entry.session);
          if (entry.sessionLabs !== undefined) visible.proposals.push({ session, labs: entry.sessionLabs });
          for (const item of entry.inbox ?? []) {
            const key = `${session}|${item.lab}`;
            const n = inboxNext.get(key) ?? this.#inboxNext.get(key) ?? 0;
            inboxNext.set(key, n + 1);
            insertInbox.run(entry.session, item.lab, n, item.type, item.entry ?? index, item.hop ?? null);
            visible.inbox.push({ session, lab: item.lab });
          }
          size = Math.max(size, index + 1);
        }
      }
      if (size > this.#committedSize) latest = this.#signAndStore(size);
      if (Math.random() < 0.01) db.prepare('DELETE FROM nonces WHERE expires < ?').run(Math.floor(now / 1000) - 60);
    })();
    for (const [key, n] of inboxNext) this.#inboxNext.set(key, n);
    if (latest !== undefined) this.#latest = latest;
    for (const queued of batch) {
      if (queued.nonce) this.#pendingNonces.delete(`${queued.nonce.keyId}|${queued.nonce.nonce}`);
      for (const { entry } of queued.entries) this.#pendingHashes.delete(toHex(entry.hash));
    }
    this.#committedSize = size;
    return visible;
  }

  #signAndStore(size: number): { size: number; note: string } {
    const { tree, signer, origin, db } = this.#options;
    const rootHash = tree.root(size);
    const note = signNote(formatCheckpoint({ origin, size, rootHash, extensions: [] }), [signer]);
    db.prepare('INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)').run(size, rootHash, note);
    return { size, note };
  }
}

/**
 * What a request whose write failed is answered: 503 STORAGE_UNAVAILABLE with a Retry-After (the
 * same bytes sent again are accepted once the relay can write), naming SQLite's or the OS's error
 * code only; the error itself, with its paths, is the cause, for the operator's log.
 */
function refusal(cause: unknown): RelayError {
  return new RelayError(
    'STORAGE_UNAVAILABLE',
    `the relay could not write its log (${storageReason(cause)}); send it again later`,
    {
      cause,
      retryAfter: 1,
    },
  );
}

/** A write failure's short reason for clients: SQLite's or the OS's error code, never its message (paths). */
export function storageReason(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'a storage error';
}
