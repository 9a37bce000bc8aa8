/**
 * What a route handler sees of one request: its path and query parameters, its verified signer,
 * and the relay (the core for writes, the read model for answers). Attacker-controlled values
 * (path parameters and query strings) are parsed strictly here, each failure a BAD_REQUEST that
 * names the parameter (spec/relay-api.md §3, spec/errors.md); a session's data is answered only to
 * the labs of that session (NOT_A_SESSION_LAB). Nothing here reads storage itself: the answers
 * come from store/read-model.ts.
 */
import { fromHex } from '@overlap/crypto';
import type { Receipt } from '@overlap/log';
import type {
  ConsistencyAnswer,
  InboxAnswer,
  InclusionAnswer,
  LogEntries,
  OpenedEnvelope,
  RelayHealth,
  SessionList,
  Transcript,
} from '@overlap/protocol';
import { RelayError } from '../errors.js';
import type { RelayCore } from '../relay.js';
import { type CommittedSession, type ReadModel, SESSIONS_PAGE, SESSIONS_PAGE_MAX } from '../store/read-model.js';
import type { WitnessedCheckpoint } from '../witness-submitter.js';
import type { Authenticated } from './auth.js';
import { inboxKey, type LongPollWaiters, sessionListKey } from './long-poll-waiters.js';

export interface RelayServices {
  /** The current core and read model (rebuilt from the database after a failed write: relay-runtime.ts). */
  readonly core: RelayCore;
  readonly reads: ReadModel;
  /** Throws 503 STORAGE_UNAVAILABLE while the state is rebuilt after a failed write. */
  assertBuilt(): void;
  /** Throws 503 STORAGE_UNAVAILABLE while writes are refused after a failed one. */
  assertWritable(): void;
  /** The long polls of inboxes and session lists, kept across rebuilds (woken by the log writer's commits). */
  waiters: LongPollWaiters;
  openapi(): unknown;
  metricsText(): string;
  health(): RelayHealth;
  /** The newest checkpoint the relay's witnesses cosigned (witness-submitter.ts), if any. */
  witnessed(): WitnessedCheckpoint | undefined;
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

  /** The relay's write path (and its membership, limits and clock). */
  get core(): RelayCore {
    return this.#services.core;
  }

  /** Every answer the relay reads from what it holds. */
  get reads(): ReadModel {
    return this.#services.reads;
  }

  openapi(): unknown {
    return this.#services.openapi();
  }

  /** The newest checkpoint the relay's witnesses cosigned; NOT_FOUND while there is none. */
  witnessed(): WitnessedCheckpoint {
    const witnessed = this.#services.witnessed();
    if (witnessed === undefined)
      throw new RelayError('NOT_FOUND', 'no witness has cosigned a checkpoint of this relay yet');
    return witnessed;
  }

  health(): RelayHealth {
    return this.#services.health();
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
  sessionForReader(): CommittedSession {
    const id = this.sessionId();
    const session = this.reads.session(id);
    if (!session) throw new RelayError('NO_SUCH_SESSION', `no session ${id}`);
    const me = this.reader();
    if (!session.proposal.labs.includes(me))
      throw new RelayError('NOT_A_SESSION_LAB', `${me} is not a lab of session ${id}`);
    return session;
  }

  /**
   * `GET /v1/sessions`: one page of the requesting lab's sessions (`from`, `limit`); with `wait`, an
   * empty page is held until a session_proposal naming the lab commits, then read again.
   */
  async sessions(): Promise<SessionList> {
    const from = this.#integer('from', 0);
    const limit = this.#integer('limit', SESSIONS_PAGE);
    if (limit < 1 || limit > SESSIONS_PAGE_MAX) {
      throw new RelayError('BAD_REQUEST', `limit must be from 1 to ${SESSIONS_PAGE_MAX}`);
    }
    const wait = Math.min(this.#integer('wait', 0), this.core.limits.maxWaitMs);
    const me = this.reader();
    // Read and parked in one turn of the event loop: no commit can fall between the two unseen.
    const page = this.reads.sessionsOf(me, from, limit);
    if (page.sessions.length > 0 || wait === 0) return page;
    await this.#services.waiters.wait(sessionListKey(me), wait, this.#signal);
    // Looked up again: the relay may have rebuilt its state meanwhile (relay-runtime.ts). A woken
    // read finds the proposal listed: its commit shows the session's status before it wakes polls.
    return this.reads.sessionsOf(me, from, limit);
  }

  /** `GET /v1/sessions/{id}/inbox`: with `wait`, an empty answer is held until an item is committed. */
  async inbox(): Promise<InboxAnswer> {
    const session = this.sessionForReader();
    const me = this.reader();
    const after = this.#integer('after', 0);
    const wait = Math.min(this.#integer('wait', 0), this.core.limits.maxWaitMs);
    const answer = await this.reads.inbox(session, me, after);
    if (answer.items.length > 0 || wait === 0) return answer;
    await this.#services.waiters.wait(inboxKey(session.idHex, me), wait, this.#signal);
    // Looked up again: the relay may have rebuilt its state meanwhile (relay-runtime.ts).
    return this.reads.inbox(this.sessionForReader(), me, after);
  }

  /** `GET /v1/sessions/{id}/transcript` (the admin only, checked by the route's auth). */
  async transcript(): Promise<Transcript> {
    const id = this.sessionId();
    const session = this.reads.session(id);
    if (!session) throw new RelayError('NO_SUCH_SESSION', `no session ${id}`);
    return this.reads.transcript(session, this.#services.witnessed());
  }

  sessionReceipt(): Receipt {
    const session = this.sessionForReader();
    const index = this.#integer('index', undefined, this.params.index);
    const receipt = this.reads.sessionReceipt(session, index);
    if (!receipt) throw new RelayError('NOT_FOUND', `entry ${index} is not a committed entry of this session`);
    return receipt;
  }

  inclusion(): InclusionAnswer {
    const size = this.#size('size');
    const leaf = this.query.get('leaf');
    let index: number;
    if (leaf !== null) {
      if (!/^[0-9a-f]{64}$/.test(leaf)) throw new RelayError('BAD_REQUEST', 'leaf must be 64 lowercase hex digits');
      const found = this.reads.leafIndex(fromHex(leaf), size);
      if (found === undefined) throw new RelayError('NOT_FOUND', `no leaf ${leaf} in the tree of size ${size}`);
      index = found;
    } else {
      index = this.#integer('index');
      if (index >= size) throw new RelayError('BAD_REQUEST', `index ${index} is not below the size ${size}`);
    }
    return this.reads.inclusion(index, size);
  }

  consistency(): ConsistencyAnswer {
    const to = this.#size('to');
    const from = this.#integer('from');
    if (from > to) throw new RelayError('BAD_REQUEST', `from ${from} is larger than to ${to}`);
    return this.reads.consistency(from, to);
  }

  entries(): Promise<LogEntries> {
    const start = this.#integer('start');
    const end = this.#integer('end');
    const committed = this.reads.latest.size;
    if (end < start || end - start > 1000)
      throw new RelayError('BAD_REQUEST', 'end must be from start to start + 1000');
    if (end > committed) throw new RelayError('BAD_REQUEST', `end ${end} is beyond the log size ${committed}`);
    return this.reads.logEntries(start, end);
  }

  /** A tree size from the query, at most the latest signed checkpoint's (default: that one). */
  #size(name: string): number {
    const latest = this.reads.latest.size;
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
