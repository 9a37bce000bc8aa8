/**
 * What a route handler sees of one request: its parameters, its verified signer, and the relay's
 * read paths (inbox, receipts, proofs, entries). Attacker-controlled values (path parameters and
 * query strings) are parsed strictly here, each failure a BAD_REQUEST that names the parameter.
 */
import { fromHex, toHex } from '@overlap/crypto';
import type { OpenedEnvelope } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import type { HostedSession } from '../hosted-session.js';
import type { RelayCore } from '../relay.js';
import type { BlobFiles } from '../store/blob-files.js';
import type { LogWriter } from '../store/log-writer.js';
import { readEntryBytes, type StoredEntry } from '../store/recovery.js';
import type { Authenticated } from './auth.js';
import type { InboxWaiters } from './inbox-waiters.js';
import type { Payload } from './io.js';

export interface RelayServices {
  core: RelayCore;
  blobs: BlobFiles;
  waiters: InboxWaiters;
  openapi(): unknown;
  metricsText(): string;
  health(): Payload;
}

export class RouteContext {
  readonly #services: RelayServices;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly #opened: OpenedEnvelope | undefined;
  readonly #auth: Authenticated | undefined;
  readonly #signal: AbortSignal;

  constructor(
    services: RelayServices,
    params: Record<string, string>,
    query: URLSearchParams,
    opened: OpenedEnvelope | undefined,
    auth: Authenticated | undefined,
    signal: AbortSignal,
  ) {
    this.#services = services;
    this.params = params;
    this.query = query;
    this.#opened = opened;
    this.#auth = auth;
    this.#signal = signal;
  }

  get core(): RelayCore {
    return this.#services.core;
  }

  openapi(): unknown {
    return this.#services.openapi();
  }

  metricsText(): string {
    return this.#services.metricsText();
  }

  health(): Payload {
    return this.#services.health();
  }

  writerState(): LogWriter {
    return this.core.options.writer;
  }

  envelope(): OpenedEnvelope {
    return this.#opened as OpenedEnvelope;
  }

  /** The verified signer of a write, with its nonce. */
  writer(): Authenticated {
    return this.#auth as Authenticated;
  }

  /** The verified signer of a read. */
  reader(): string {
    return (this.#auth as Authenticated).keyId;
  }

  sessionId(): string {
    const id = this.params.id ?? '';
    if (!/^[0-9a-f]{32}$/.test(id))
      throw new RelayError('BAD_REQUEST', 'the session id must be 32 lowercase hex digits');
    return id;
  }

  /** The session of the path, readable only by its labs. */
  sessionForReader(): HostedSession {
    const id = this.sessionId();
    const session = this.core.sessions.get(id);
    if (!session) throw new RelayError('NO_SUCH_SESSION', `no session ${id}`);
    const me = this.reader();
    if (!session.proposal.labs.includes(me))
      throw new RelayError('NOT_A_SESSION_LAB', `${me} is not a lab of session ${id}`);
    return session;
  }

  async inbox(): Promise<Payload> {
    const session = this.sessionForReader();
    const me = this.reader();
    const after = this.#integer('after', 0);
    const wait = Math.min(this.#integer('wait', 0), this.core.options.limits.maxWaitMs);
    let items = await this.#inboxItems(session, me, after);
    if (items.length === 0 && wait > 0) {
      await this.#services.waiters.wait(`${session.idHex}|${me}`, wait, this.#signal);
      items = await this.#inboxItems(session, me, after);
    }
    return { kind: 'cbor', value: { items, state: session.state } };
  }

  async #inboxItems(session: HostedSession, lab: string, after: number): Promise<unknown[]> {
    const { db } = this.core.options;
    const rows = db
      .prepare(
        `SELECT i.n, i.type, i.hop, e.idx, e.hash, e.length, e.inline FROM inbox i JOIN entries e ON e.idx = i.entry
         WHERE i.session = ? AND i.lab = ? AND i.n >= ? ORDER BY i.n LIMIT 256`,
      )
      .all(session.id, lab, after) as (Pick<StoredEntry, 'idx' | 'hash' | 'length' | 'inline'> & {
      n: number;
      type: string;
      hop: number | null;
    })[];
    const items: unknown[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (items.length > 0 && bytes + row.length > this.core.options.limits.maxInboxBytes) break;
      const envelope = await readEntryBytes(this.#services.blobs, row, false);
      bytes += row.length;
      items.push({
        n: row.n,
        type: row.type,
        index: row.idx,
        envelope,
        ...(row.hop !== null && { hop: row.hop }),
      });
    }
    return items;
  }

  /**
   * A session's transcript (spec/relay-api.md §3): membership envelopes, every envelope of the
   * session in log order with its receipt, the checkpoints those receipts name plus the latest, and
   * a consistency proof between each consecutive pair.
   */
  async transcript(): Promise<Payload> {
    const id = this.sessionId();
    const session = this.core.sessions.get(id);
    if (!session) throw new RelayError('NO_SUCH_SESSION', `no session ${id}`);
    const writer = this.writerState();
    const latest = writer.latest;
    const rows = this.core.options.db
      .prepare('SELECT idx, hash, inline FROM entries WHERE session = ? AND idx < ? ORDER BY idx')
      .all(session.id, latest.size) as Pick<StoredEntry, 'idx' | 'hash' | 'inline'>[];
    const envelopes: unknown[] = [];
    const checkpoints = new Map<number, string>([[latest.size, latest.note]]);
    for (const row of rows) {
      const receipt = writer.receipt(row.idx);
      const size = Number(receipt.checkpoint.split('\n')[1]);
      checkpoints.set(size, receipt.checkpoint);
      envelopes.push({ index: row.idx, envelope: await readEntryBytes(this.#services.blobs, row, false), receipt });
    }
    // Membership entries come with receipts too: an auditor checks who was enrolled (or revoked)
    // before each envelope by log index, so the indexes must be proven.
    const membership = this.core.membership.entries
      .filter((e) => e.index < latest.size)
      .map((e) => {
        const receipt = writer.receipt(e.index);
        checkpoints.set(Number(receipt.checkpoint.split('\n')[1]), receipt.checkpoint);
        return { index: e.index, envelope: e.envelope, receipt };
      });
    const sizes = [...checkpoints.keys()].sort((a, b) => a - b);
    const consistency = sizes.slice(1).map((to, i) => {
      const from = sizes[i] as number;
      return { from, to, proof: this.core.options.tree.consistencyProof(from, to) };
    });
    const { identity } = this.core.options;
    return {
      kind: 'cbor',
      value: {
        version: 1,
        relay: {
          origin: identity.origin,
          log_key: identity.publicKey,
          relay_key_id: identity.keyId,
          admin_key: this.core.membership.adminKey,
        },
        session: session.id,
        membership,
        envelopes,
        checkpoints: sizes.map((size) => ({ size, note: checkpoints.get(size) as string })),
        consistency,
      },
    };
  }

  sessionReceipt(): Payload {
    const session = this.sessionForReader();
    const index = this.#integer('index', undefined, this.params.index);
    const row = this.core.options.db.prepare('SELECT session FROM entries WHERE idx = ?').get(index) as
      | { session: Buffer }
      | undefined;
    if (!row || toHex(row.session) !== session.idHex || index >= this.writerState().latest.size) {
      throw new RelayError('NOT_FOUND', `entry ${index} is not a committed entry of this session`);
    }
    return { kind: 'cbor', value: this.writerState().receipt(index) };
  }

  inclusion(): Payload {
    const size = this.#size('size');
    const leaf = this.query.get('leaf');
    let index: number;
    if (leaf !== null) {
      if (!/^[0-9a-f]{64}$/.test(leaf)) throw new RelayError('BAD_REQUEST', 'leaf must be 64 lowercase hex digits');
      const found = this.core.options.db
        .prepare('SELECT idx FROM entries WHERE leaf_hash = ?')
        .pluck()
        .get(fromHex(leaf)) as number | undefined;
      if (found === undefined || found >= size)
        throw new RelayError('NOT_FOUND', `no leaf ${leaf} in the tree of size ${size}`);
      index = found;
    } else {
      index = this.#integer('index');
      if (index >= size) throw new RelayError('BAD_REQUEST', `index ${index} is not below the size ${size}`);
    }
    return { kind: 'cbor', value: { index, size, proof: this.core.options.tree.inclusionProof(index, size) } };
  }

  consistency(): Payload {
    const to = this.#size('to');
    const from = this.#integer('from');
    if (from > to) throw new RelayError('BAD_REQUEST', `from ${from} is larger than to ${to}`);
    return { kind: 'cbor', value: { from, to, proof: this.core.options.tree.consistencyProof(from, to) } };
  }

  async entries(): Promise<Payload> {
    const start = this.#integer('start');
    const end = this.#integer('end');
    const committed = this.writerState().latest.size;
    if (end < start || end - start > 1000)
      throw new RelayError('BAD_REQUEST', 'end must be from start to start + 1000');
    if (end > committed) throw new RelayError('BAD_REQUEST', `end ${end} is beyond the log size ${committed}`);
    const rows = this.core.options.db
      .prepare(
        'SELECT idx, leaf_hash, hash, length, inline, type, sender, session, seq FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx',
      )
      .all(start, end) as StoredEntry[];
    const entries: unknown[] = [];
    for (const row of rows) {
      const membership = row.type === 'enrollment' || row.type === 'revocation';
      entries.push({
        index: row.idx,
        leaf_hash: row.leaf_hash,
        type: row.type,
        sender: row.sender,
        session: row.session,
        ...(membership && { envelope: await readEntryBytes(this.#services.blobs, row) }),
      });
    }
    return { kind: 'cbor', value: { entries } };
  }

  /** A tree size from the query, at most the latest signed checkpoint's (default: that one). */
  #size(name: string): number {
    const latest = this.writerState().latest.size;
    const size = this.#integer(name, latest);
    if (size > latest)
      throw new RelayError('BAD_REQUEST', `${name} ${size} is beyond the latest checkpoint (${latest})`);
    return size;
  }

  // The value comes from the request: only plain decimal digits, within safe integers.
  #integer(name: string, fallback?: number, raw: string | null | undefined = this.query.get(name)): number {
    if (raw === null || raw === undefined) {
      if (fallback === undefined) throw new RelayError('BAD_REQUEST', `the query parameter ${name} is required`);
      return fallback;
    }
    if (!/^(0|[1-9][0-9]{0,14})$/.test(raw))
      throw new RelayError('BAD_REQUEST', `${name} must be a non-negative integer`);
    return Number(raw);
  }
}
