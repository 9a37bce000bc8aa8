/**
 * The relay's read side: every answer of spec/relay-api.md §3 that comes from what the relay holds
 * (its identity, membership, sessions, inboxes, receipts, log proofs and entries, a session's
 * transcript), built here and typed by the answers of @overlap/protocol's wire/relay-api.ts. The
 * HTTP layer (http/) parses a request, checks who may ask, and hands the answer on: it writes no
 * SQL and does not reach into the relay's parts (the role of tessera's storage interfaces). Every
 * statement is prepared once; every write goes through the log writer (log-writer.ts) alone.
 *
 * What it guards: nothing is served that the log has not committed (receipts, entries and the
 * transcript stop at the latest signed checkpoint, so a reader never sees an entry the relay could
 * still lose); envelope bytes of log entries are served for membership entries only, since a lab
 * that fetched another set's fully blinded tags could match them against its own (spec/protocol.md
 * §8); an inbox answer is bounded by the relay's `maxInboxBytes`.
 */
import { toHex } from '@overlap/crypto';
import type { MerkleTree, Receipt } from '@overlap/log';
import { formatVerifierKey } from '@overlap/log';
import type {
  ConsistencyAnswer,
  InboxAnswer,
  InboxItem,
  InclusionAnswer,
  LogEntries,
  LogEntry,
  MembershipList,
  RelayInfo,
  RelaySessionState,
  SessionList,
  SessionStatus,
  Transcript,
} from '@overlap/protocol';
import type { HostedSession } from '../hosted-session.js';
import type { RelayLimits } from '../limits.js';
import type { Membership } from '../membership.js';
import type { RelayPublicIdentity } from '../relay.js';
import type { BlobFiles } from './blob-files.js';
import type { Db } from './database.js';
import type { LogWriter } from './log-writer.js';
import { readEntryBytes, type StoredEntry } from './recovery.js';
import { buildTranscript } from './transcript.js';

/** A session whose proposal has committed, with the status readers are shown (hosted-session.ts). */
export type CommittedSession = HostedSession & { readonly status: SessionStatus };

/** Most inbox rows read for one answer (before the byte bound applies). */
const INBOX_ROWS = 256;
/** Sessions in one page of `GET /v1/sessions` unless `limit` says fewer or more (at most SESSIONS_PAGE_MAX). */
export const SESSIONS_PAGE = 100;
export const SESSIONS_PAGE_MAX = 1000;

export interface ReadModelOptions {
  db: Db;
  blobs: BlobFiles;
  tree: MerkleTree;
  writer: LogWriter;
  membership: Membership;
  sessions: ReadonlyMap<string, HostedSession>;
  identity: RelayPublicIdentity;
  limits: Readonly<RelayLimits>;
}

type InboxRow = Pick<StoredEntry, 'idx' | 'hash' | 'length' | 'inline'> & {
  n: number;
  type: string;
  hop: number | null;
};

export class ReadModel {
  readonly #o: ReadModelOptions;
  readonly #inbox;
  readonly #entrySession;
  readonly #leafIndex;
  readonly #entries;
  readonly #sessionEntries;

  constructor(options: ReadModelOptions) {
    this.#o = options;
    const { db } = options;
    this.#inbox = db.prepare<[Buffer | Uint8Array, string, number, number], InboxRow>(
      `SELECT i.n, i.type, i.hop, e.idx, e.hash, e.length, e.inline FROM inbox i JOIN entries e ON e.idx = i.entry
       WHERE i.session = ? AND i.lab = ? AND i.n >= ? ORDER BY i.n LIMIT ?`,
    );
    this.#entrySession = db.prepare<[number], { session: Buffer }>('SELECT session FROM entries WHERE idx = ?');
    this.#leafIndex = db.prepare<[Uint8Array], number>('SELECT idx FROM entries WHERE leaf_hash = ?').pluck();
    this.#entries = db.prepare<[number, number], StoredEntry>(
      'SELECT idx, leaf_hash, hash, length, inline, type, sender, session, seq FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx',
    );
    this.#sessionEntries = db.prepare<[Buffer | Uint8Array, number], Pick<StoredEntry, 'idx' | 'hash' | 'inline'>>(
      'SELECT idx, hash, inline FROM entries WHERE session = ? AND idx < ? ORDER BY idx',
    );
  }

  /** `GET /v1/relay`. */
  relayInfo(): RelayInfo {
    const { identity, limits, membership } = this.#o;
    return {
      origin: identity.origin,
      log_key: identity.publicKey,
      vkey: formatVerifierKey(identity.origin, identity.publicKey),
      relay_key_id: identity.keyId,
      admin_key: membership.adminKey,
      limits: {
        max_body_bytes: limits.maxBodyBytes,
        max_items_per_set: limits.maxItemsPerSet,
        request_timeout_ms: limits.requestTimeoutMs,
        rate_per_second: limits.rate.perSecond,
        rate_burst: limits.rate.burst,
        bytes_per_second_per_lab: limits.bytesPerKey.perSecond,
        bytes_burst_per_lab: limits.bytesPerKey.burst,
        cpu_ms_per_second_per_lab: limits.cpuMsPerKey.perSecond,
        cpu_ms_burst_per_lab: limits.cpuMsPerKey.burst,
        max_session_ms: limits.maxSessionMs,
        max_join_window_ms: limits.maxJoinWindowMs,
        max_open_sessions_per_lab: limits.maxOpenSessionsPerLab,
        max_held_bytes_per_lab: limits.maxHeldBytesPerLab,
      },
    };
  }

  /** `GET /v1/membership`. */
  membershipList(): MembershipList {
    // Committed entries only: an enrollment appended a moment ago may yet fail to commit.
    const committed = this.#o.writer.committedSize;
    return { entries: this.#o.membership.entries.filter((entry) => entry.index < committed) };
  }

  /** The latest signed checkpoint (`GET /v1/log/checkpoint` serves its note). */
  get latest(): { size: number; note: string } {
    return this.#o.writer.latest;
  }

  /** A session whose proposal has committed (readers never see one the relay could still lose). */
  session(idHex: string): CommittedSession | undefined {
    const session = this.#o.sessions.get(idHex);
    return session?.status === undefined ? undefined : (session as CommittedSession);
  }

  /** `GET /v1/sessions`: the sessions `lab` is in, as committed. */
  /**
   * `GET /v1/sessions`: `lab`'s sessions whose proposal is at log index `from` or later, in log
   * order, at most `limit`; `next` is where the next page starts (spec/relay-api.md §3).
   */
  sessionsOf(lab: string, from = 0, limit = SESSIONS_PAGE): SessionList {
    const sessions: SessionStatus[] = [];
    // The map is in log order of the proposals: filled as they are appended, and replayed so.
    for (const s of this.#o.sessions.values()) {
      if (s.status === undefined || s.proposalIndex < from || !s.proposal.labs.includes(lab)) continue;
      if (sessions.length === limit) return { sessions, next: s.proposalIndex };
      sessions.push(s.status);
    }
    return { sessions };
  }

  /** How many sessions are in each state, as committed (for the metrics). */
  sessionCounts(): Record<RelaySessionState, number> {
    const counts: Record<RelaySessionState, number> = { joining: 0, exchanging: 0, proving: 0, done: 0, aborted: 0 };
    for (const session of this.#o.sessions.values()) if (session.status) counts[session.status.state]++;
    return counts;
  }

  /**
   * `GET /v1/sessions/{id}/inbox`: `lab`'s items from number `after` on, at most 256 and
   * `maxInboxBytes` of envelopes, but at least one (a result_rows envelope may be larger).
   */
  async inbox(session: CommittedSession, lab: string, after: number): Promise<InboxAnswer> {
    const items: InboxItem[] = [];
    let bytes = 0;
    for (const row of this.#inbox.all(session.id, lab, after, INBOX_ROWS)) {
      if (items.length > 0 && bytes + row.length > this.#o.limits.maxInboxBytes) break;
      // Not checked against its hash here: the lab checks the envelope's signature.
      const envelope = await readEntryBytes(this.#o.blobs, row, false);
      bytes += row.length;
      items.push({
        n: row.n,
        type: row.type as InboxItem['type'],
        index: row.idx,
        envelope,
        ...(row.hop !== null && { hop: row.hop }),
      });
    }
    // The committed state: a lab told `done` or `aborted` finds everything the relay sent it.
    return { items, state: session.status.state };
  }

  /** `GET /v1/sessions/{id}/receipts/{index}`: the receipt, if `index` is a committed entry of `session`. */
  sessionReceipt(session: HostedSession, index: number): Receipt | undefined {
    const row = this.#entrySession.get(index);
    if (!row || toHex(row.session) !== session.idHex || index >= this.latest.size) return undefined;
    return this.#o.writer.receipt(index);
  }

  /** The index of the entry with this leaf hash, if it is in the tree of `size`. */
  leafIndex(leafHash: Uint8Array, size: number): number | undefined {
    const index = this.#leafIndex.get(leafHash);
    return index !== undefined && index < size ? index : undefined;
  }

  /** `GET /v1/log/inclusion`, for `index` < `size` ≤ the latest checkpoint's size. */
  inclusion(index: number, size: number): InclusionAnswer {
    return { index, size, proof: this.#o.tree.inclusionProof(index, size) };
  }

  /** `GET /v1/log/consistency`, for `from` ≤ `to` ≤ the latest checkpoint's size. */
  consistency(from: number, to: number): ConsistencyAnswer {
    return { from, to, proof: this.#o.tree.consistencyProof(from, to) };
  }

  /** `GET /v1/log/entries`: entries `start` ≤ index < `end` (≤ the latest checkpoint's size). */
  async logEntries(start: number, end: number): Promise<LogEntries> {
    const entries: LogEntry[] = [];
    for (const row of this.#entries.all(start, end)) {
      const membership = row.type === 'enrollment' || row.type === 'revocation';
      entries.push({
        index: row.idx,
        leaf_hash: row.leaf_hash,
        type: row.type,
        sender: row.sender,
        session: row.session,
        ...(membership && { envelope: await readEntryBytes(this.#o.blobs, row) }),
      });
    }
    return { entries };
  }

  /** `GET /v1/sessions/{id}/transcript`: the session as the latest checkpoint covers it. */
  async transcript(session: HostedSession, witnessed?: { size: number; note: string }): Promise<Transcript> {
    const latest = this.latest;
    const { writer, blobs, tree, identity, membership } = this.#o;
    const envelopes: { index: number; envelope: Uint8Array }[] = [];
    for (const row of this.#sessionEntries.all(session.id, latest.size)) {
      envelopes.push({ index: row.idx, envelope: await readEntryBytes(blobs, row, false) });
    }
    return buildTranscript({
      session: session.id,
      latest,
      identity,
      adminKey: membership.adminKey,
      membership: membership.entries.filter((e) => e.index < latest.size),
      envelopes,
      receipt: (index) => writer.receipt(index),
      consistencyProof: (from, to) => tree.consistencyProof(from, to),
      witnessed,
    });
  }
}
