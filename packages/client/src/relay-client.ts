/**
 * The typed HTTP client of the relay API (spec/relay-api.md, version 1): one method per endpoint,
 * every answer checked before use against its schema in @overlap/protocol (wire/relay-api.ts, the
 * declaration the relay encodes with), leniently about unknown fields (cbor-body.ts). Requests are
 * signed and retried by transport.ts; with the log's verifier key, every receipt and checkpoint is
 * verified by log-monitor.ts.
 *
 * Threat: the relay is not trusted with the log. A receipt must prove that the very bytes this
 * client posted are in a checkpoint signed by the log, and each checkpoint must extend the ones
 * seen before: a relay that dropped, rewrote or forked its history is caught (RECEIPT_INVALID).
 */
import { equalBytes } from '@overlap/crypto';
import type { Checkpoint, NoteVerifier, Receipt } from '@overlap/log';
import {
  type ConsistencyAnswer,
  consistencyAnswerSchema,
  decodeDeterministic,
  type InboxAnswer,
  type InclusionAnswer,
  inboxAnswerSchema,
  inclusionAnswerSchema,
  type LogEntries,
  logEntriesSchema,
  type MembershipList,
  membershipListSchema,
  type RelayAnswerSchema,
  type RelayInfo,
  receiptSchema,
  relayInfoSchema,
  type SessionCreated,
  type SessionList,
  type SessionStatus,
  sessionCreatedSchema,
  sessionListSchema,
  sessionStatusSchema,
} from '@overlap/protocol';
import { decodeAnswer } from './cbor-body.js';
import { ClientError } from './errors.js';
import { InclusionProver, type WitnessPolicy } from './inclusion-prover.js';
import { type CheckpointMemory, LogMonitor } from './log-monitor.js';
import { parseRelayUrl } from './relay-url.js';
import { type RetryOptions, retryPolicy } from './retry.js';
import { type RequestSigner, send, type TransportOptions } from './transport.js';

export interface RelayClientOptions {
  /** The relay's base URL, exactly as the relay was configured with it (it is part of what is signed). */
  url: string;
  /** The lab's (or the admin's) Ed25519 identity key, for signed requests. */
  signer?: RequestSigner;
  /** The log's note verifier: when given, every receipt and checkpoint is verified. */
  logVerifier?: NoteVerifier;
  /**
   * Where the lab remembers the log's checkpoint across runs and processes (its trust record):
   * with it, each checkpoint is proven against the remembered one, and a contradiction is kept as
   * evidence (log-monitor.ts).
   */
  checkpointMemory?: CheckpointMemory;
  /**
   * The witnesses this lab trusts and how many must have cosigned: result rows and aborts are acted
   * on only once a checkpoint so cosigned covers them (inclusion-prover.ts).
   */
  witnessPolicy?: WitnessPolicy;
  /** How long to wait for such a checkpoint (default 10 minutes). */
  witnessWaitMs?: number;
  retry?: RetryOptions;
  /** Aborts the request in flight and any backoff wait. */
  signal?: AbortSignal;
  /** The clock, in ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * One page of `GET /v1/sessions` (spec/relay-api.md §3). Every field may be left out, or given as
 * `undefined`, to keep the relay's default.
 */
export interface SessionsPageOptions {
  /**
   * Log index of the first proposal to list (default 0): a page's `next`, or the `proposal` of the
   * last session seen + 1.
   */
  from?: number | undefined;
  /** Sessions in the page, 1 to 1000 (the relay's default: 100). */
  limit?: number | undefined;
  /**
   * Milliseconds, at most 25,000, that the relay may hold an empty page until a proposal naming
   * this lab commits; the page is then read again (and may still be empty).
   */
  wait?: number | undefined;
}

const CBOR = 'application/cbor';
const MAX_WAIT_MS = 25_000;
const SESSIONS_PAGE_MAX = 1000;
const SESSION_HEX = /^[0-9a-f]{32}$/;

/** Largest signed note accepted (a checkpoint with its cosignatures is well under 1 KiB per witness). */
const MAX_NOTE_BYTES = 64 * 1024;

/** Largest inbox answer accepted: result rows of the largest sets the relay allows (2,000,000 items). */
const MAX_INBOX_ANSWER_BYTES = 512 * 1024 * 1024;

export class RelayClient {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  readonly #transport: TransportOptions;
  readonly #log: LogMonitor | undefined;
  readonly #prover: InclusionProver | undefined;

  constructor(options: RelayClientOptions) {
    this.url = parseRelayUrl(options.url).href.replace(/\/$/, '');
    this.#transport = {
      baseUrl: this.url,
      signer: options.signer,
      retry: retryPolicy(options.retry),
      signal: options.signal,
      now: options.now ?? Date.now,
    };
    this.#log =
      options.logVerifier === undefined
        ? undefined
        : new LogMonitor(
            options.logVerifier,
            async (from, to) => (await this.consistency(from, to)).proof,
            options.checkpointMemory,
          );
    this.#prover =
      this.#log === undefined
        ? undefined
        : new InclusionProver({
            monitor: this.#log,
            latestNote: () => this.#note('/v1/log/checkpoint'),
            witnessedNote: () => this.witnessed(),
            inclusionProof: async (index, size) => (await this.inclusion(index, size)).proof,
            ...(options.witnessPolicy && { policy: options.witnessPolicy }),
            ...(options.witnessWaitMs !== undefined && { waitMs: options.witnessWaitMs }),
            ...(options.signal && { signal: options.signal }),
          });
  }

  /**
   * Proves that `bytes` are the log's entry `index` (what the relay handed out as such) before the
   * lab acts on it; with `witnessed`, in a checkpoint the witness policy's quorum cosigned. Without
   * a log verifier there is nothing to prove against: it returns at once.
   */
  async proveIncluded(index: number, bytes: Uint8Array, what: string, witnessed = false): Promise<void> {
    await this.#prover?.prove(index, bytes, what, witnessed);
  }

  /** The newest checkpoint the relay's witnesses cosigned (its note, with their lines), or undefined while none has. */
  async witnessed(): Promise<string | undefined> {
    try {
      return await this.#note('/v1/log/witnessed');
    } catch (error) {
      if (error instanceof ClientError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The largest checkpoint verified so far (undefined without a log verifier, or before the first). */
  get lastCheckpoint(): Checkpoint | undefined {
    return this.#log?.largest;
  }

  async relayInfo(): Promise<RelayInfo> {
    return this.#getCbor('/v1/relay', false, relayInfoSchema, 'GET /v1/relay');
  }

  async membership(): Promise<MembershipList> {
    return this.#getCbor('/v1/membership', true, membershipListSchema, 'GET /v1/membership');
  }

  /** Posts an enrollment or revocation envelope signed by the admin key; the client's signer must be the admin's. */
  async postAdmin(envelope: Uint8Array): Promise<Receipt> {
    const receipt = await this.#postCbor('/v1/admin', envelope, receiptSchema, 'POST /v1/admin');
    await this.#checkReceipt(envelope, receipt);
    return receipt;
  }

  /** Posts a session proposal envelope; answers the session id (the proposal header's `session`). */
  async createSession(envelope: Uint8Array): Promise<SessionCreated> {
    const answer = await this.#postCbor('/v1/sessions', envelope, sessionCreatedSchema, 'POST /v1/sessions');
    const proposed = sessionOfEnvelope(envelope);
    if (proposed !== undefined && !equalBytes(proposed, answer.session)) {
      throw new ClientError('BAD_RESPONSE', 'the relay answered a session id other than the proposal names');
    }
    await this.#checkReceipt(envelope, answer.receipt);
    return answer;
  }

  /** Posts a join, tag_chunk, blind_result or abort envelope of a session. */
  async postEnvelope(sessionHex: string, envelope: Uint8Array): Promise<Receipt> {
    const path = `/v1/sessions/${sessionPath(sessionHex)}/envelopes`;
    const receipt = await this.#postCbor(path, envelope, receiptSchema, `POST ${path}`);
    await this.#checkReceipt(envelope, receipt);
    return receipt;
  }

  async sessionStatus(sessionHex: string): Promise<SessionStatus> {
    const path = `/v1/sessions/${sessionPath(sessionHex)}`;
    return this.#getCbor(path, true, sessionStatusSchema, `GET ${path}`);
  }

  /**
   * The sessions the signer's lab is in. Without options, every page (`GET /v1/sessions` answers
   * at most 100 at a time, `next` saying where the next page starts), gathered into one list. With
   * options, the one page they ask for, its `next` kept: with `wait`, an empty page is held by the
   * relay until a proposal naming this lab commits (a watcher's long poll; each listed session's
   * `proposal` is its log index, so the next `from` is the last one's + 1).
   */
  async listSessions(options?: SessionsPageOptions): Promise<SessionList> {
    if (options !== undefined) return this.#sessionsPage(options);
    const sessions: SessionList['sessions'] = [];
    for (let from: number | undefined = 0; from !== undefined; ) {
      const page = await this.#sessionsPage({ from });
      sessions.push(...page.sessions);
      from = page.next;
    }
    return { sessions };
  }

  async #sessionsPage(options: SessionsPageOptions): Promise<SessionList> {
    const from = uintArgument(options.from ?? 0, 'from');
    let query = `?from=${from}`;
    if (options.limit !== undefined) {
      if (uintArgument(options.limit, 'limit') < 1 || options.limit > SESSIONS_PAGE_MAX) {
        throw new ClientError('BAD_ARGUMENT', `limit must be from 1 to ${SESSIONS_PAGE_MAX}, got ${options.limit}`);
      }
      query += `&limit=${options.limit}`;
    }
    if (options.wait !== undefined) {
      if (uintArgument(options.wait, 'wait') > MAX_WAIT_MS) {
        throw new ClientError('BAD_ARGUMENT', `wait must be at most ${MAX_WAIT_MS}, got ${options.wait}`);
      }
      query += `&wait=${options.wait}`;
    }
    // As the inbox's long poll: no timeout of its own here (the transport cuts no attempt short,
    // retry.ts), so a held answer is waited for; `signal` ends it.
    const path = `/v1/sessions${query}`;
    const page = await this.#getCbor(path, true, sessionListSchema, `GET ${path}`);
    checkPageOrder(page, from, `GET ${path}`);
    return page;
  }

  /**
   * The lab's inbox items from number `after` on; with `waitMs` (at most 25,000) the relay holds an
   * empty answer until an item arrives or the time passes.
   */
  async inbox(sessionHex: string, after: number, waitMs?: number): Promise<InboxAnswer> {
    const base = `/v1/sessions/${sessionPath(sessionHex)}/inbox`;
    let query = `?after=${uintArgument(after, 'after')}`;
    if (waitMs !== undefined) {
      if (uintArgument(waitMs, 'waitMs') > MAX_WAIT_MS) {
        throw new ClientError('BAD_ARGUMENT', `waitMs must be at most ${MAX_WAIT_MS}, got ${waitMs}`);
      }
      query += `&wait=${waitMs}`;
    }
    // Blind tasks come at most 8 MiB an answer, but one result_rows envelope holds a whole kind's
    // rows (a million-item set sharing 30% is ~20 MB under the labs policy): allow those.
    const answer = await send(this.#transport, {
      method: 'GET',
      path: `${base}${query}`,
      signed: true,
      accept: CBOR,
      what: `GET ${base}`,
      maxBytes: MAX_INBOX_ANSWER_BYTES,
    });
    return decodeAnswer(answer.body, inboxAnswerSchema, `GET ${base}`);
  }

  /**
   * The receipt of an entry of a session (for an envelope whose answer was lost, say). When the
   * envelope bytes are given and the client has a log verifier, the receipt is verified against them.
   */
  async sessionReceipt(sessionHex: string, index: number, envelope?: Uint8Array): Promise<Receipt> {
    const path = `/v1/sessions/${sessionPath(sessionHex)}/receipts/${uintArgument(index, 'index')}`;
    const receipt = await this.#getCbor(path, true, receiptSchema, `GET ${path}`);
    if (receipt.index !== index)
      throw new ClientError('BAD_RESPONSE', `asked for receipt ${index}, got ${receipt.index}`);
    if (envelope !== undefined) await this.#checkReceipt(envelope, receipt);
    return receipt;
  }

  /** The latest signed checkpoint note; verified and checked for consistency when the client has a log verifier. */
  async checkpoint(): Promise<string> {
    const note = await this.#note('/v1/log/checkpoint');
    await this.#log?.checkNote(note);
    return note;
  }

  /**
   * Checks a checkpoint note the relay handed out another way (a transcript's) as every checkpoint
   * is: signed by the log key, and proven consistent with the largest one seen (and remembered).
   */
  async checkCheckpoint(note: string): Promise<void> {
    if (this.#log === undefined)
      throw new ClientError('BAD_ARGUMENT', 'a checkpoint cannot be checked without the log key');
    await this.#log.checkNote(note);
  }

  /** A signed note the relay serves as text. */
  async #note(path: string): Promise<string> {
    const what = `GET ${path}`;
    const answer = await send(this.#transport, {
      method: 'GET',
      path,
      signed: false,
      accept: 'text/plain',
      what,
      maxBytes: MAX_NOTE_BYTES,
    });
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(answer.body);
    } catch (cause) {
      throw new ClientError('BAD_RESPONSE', `the answer to ${what} is not UTF-8 text`, { cause });
    }
  }

  async inclusion(index: number, size: number): Promise<InclusionAnswer> {
    const query = `?index=${uintArgument(index, 'index')}&size=${uintArgument(size, 'size')}`;
    const answer = await this.#getCbor(
      `/v1/log/inclusion${query}`,
      false,
      inclusionAnswerSchema,
      'GET /v1/log/inclusion',
    );
    if (answer.index !== index || answer.size !== size) {
      throw new ClientError(
        'BAD_RESPONSE',
        `asked for inclusion of ${index} in ${size}, got ${answer.index} in ${answer.size}`,
      );
    }
    return answer;
  }

  async consistency(from: number, to: number): Promise<ConsistencyAnswer> {
    const query = `?from=${uintArgument(from, 'from')}&to=${uintArgument(to, 'to')}`;
    const answer = await this.#getCbor(
      `/v1/log/consistency${query}`,
      false,
      consistencyAnswerSchema,
      'GET /v1/log/consistency',
    );
    if (answer.from !== from || answer.to !== to) {
      throw new ClientError('BAD_RESPONSE', `asked for consistency ${from}→${to}, got ${answer.from}→${answer.to}`);
    }
    return answer;
  }

  /**
   * A session's transcript as the relay sends it (deterministic CBOR, spec/relay-api.md §3): for
   * the forum's auditors, so the client's signer must be the admin key. The bytes are kept as they
   * are, to be written to a file and verified by `overlap audit verify`.
   */
  async transcript(sessionHex: string, maxBytes = 1024 * 1024 * 1024): Promise<Uint8Array> {
    const path = `/v1/sessions/${sessionPath(sessionHex)}/transcript`;
    const answer = await send(this.#transport, {
      method: 'GET',
      path,
      signed: true,
      accept: CBOR,
      what: `GET ${path}`,
      maxBytes,
    });
    return answer.body;
  }

  /** Log entries `start` ≤ index < `end` (the relay serves at most 1,000 per request). */
  async entries(start: number, end: number): Promise<LogEntries> {
    const query = `?start=${uintArgument(start, 'start')}&end=${uintArgument(end, 'end')}`;
    return this.#getCbor(`/v1/log/entries${query}`, true, logEntriesSchema, 'GET /v1/log/entries');
  }

  async #getCbor<T>(path: string, signed: boolean, schema: RelayAnswerSchema<T>, what: string): Promise<T> {
    const answer = await send(this.#transport, { method: 'GET', path, signed, accept: CBOR, what });
    return decodeAnswer(answer.body, schema, what);
  }

  async #postCbor<T>(path: string, body: Uint8Array, schema: RelayAnswerSchema<T>, what: string): Promise<T> {
    const answer = await send(this.#transport, { method: 'POST', path, body, signed: true, accept: CBOR, what });
    return decodeAnswer(answer.body, schema, what);
  }

  async #checkReceipt(leaf: Uint8Array, receipt: Receipt): Promise<void> {
    await this.#log?.checkReceipt(leaf, receipt);
  }
}

function sessionPath(sessionHex: string): string {
  if (typeof sessionHex !== 'string' || !SESSION_HEX.test(sessionHex)) {
    throw new ClientError('BAD_ARGUMENT', 'a session id is 32 lowercase hex digits');
  }
  return sessionHex;
}

/**
 * A page's order comes from the relay, and a caller's cursor from it: sessions from `from` on in
 * log order of their proposals, and a `next` beyond them. A page that goes back would have a
 * watcher see a proposal twice, or loop for ever.
 */
function checkPageOrder(page: SessionList, from: number, what: string): void {
  let after = from - 1;
  for (const status of page.sessions) {
    if (status.proposal <= after) {
      throw new ClientError(
        'BAD_RESPONSE',
        `${what}: a session's proposal at ${status.proposal} is listed after ${after}, not in log order from ${from}`,
      );
    }
    after = status.proposal;
  }
  const last = Math.max(after, from);
  if (page.next !== undefined && page.next <= last) {
    throw new ClientError('BAD_RESPONSE', `${what}: the next page starts at ${page.next}, not after ${last}`);
  }
}

function uintArgument(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ClientError('BAD_ARGUMENT', `${name} must be a whole number ≥ 0, got ${value}`);
  }
  return value;
}

/** The `session` of an envelope's header, read without checking the signature (our own bytes). */
function sessionOfEnvelope(envelope: Uint8Array): Uint8Array | undefined {
  try {
    const outer = decodeDeterministic(envelope) as { h?: unknown };
    if (!(outer.h instanceof Uint8Array)) return undefined;
    const session = (decodeDeterministic(outer.h) as { session?: unknown }).session;
    return session instanceof Uint8Array ? session : undefined;
  } catch {
    return undefined;
  }
}
