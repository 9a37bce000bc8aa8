/**
 * The relay's state and its one write path, independent of HTTP: membership, hosted sessions, each
 * sender's chain, and the log. Every accepted envelope goes through `#accept`: checked (sender,
 * idempotency, chain, then the message's own rules), given to the session engine, and appended with
 * what the engine produced (inbox items; the proof request, challenge, result and abort envelopes
 * the relay signs, relay-messages.ts); the caller gets the receipt once the log writer has
 * committed it. The session engines read accepted chunks back from the log (their archives).
 *
 * On start the state is rebuilt from the log alone (recovery.ts), so what the relay believes after a
 * crash is exactly what it had acknowledged.
 */
import { CryptoError, fromHex, type GroupCheckAnswer, toHex } from '@overlap/crypto';
import type { Receipt } from '@overlap/log';
import {
  type CborValue,
  type ChainState,
  EnvelopeChain,
  type MessageType,
  type OpenedEnvelope,
  type Outgoing,
  openEnvelope,
  parseMessage,
  type RelaySession,
  type SessionMessage,
} from '@overlap/protocol';
import { deadlineReason, joinDeadlineReason, refusalAborts, refusalReason } from './abort-reasons.js';
import { RelayError } from './errors.js';
import type { GroupCheckScheduler } from './group-check-scheduler.js';
import { HostedSession } from './hosted-session.js';
import type { RelayLimits } from './limits.js';
import { MEMBERSHIP_SESSION, type Membership } from './membership.js';
import { checkMessage, envelopeError } from './protocol-errors.js';
import { LAB_SESSION_TYPES, RELAY_SESSION_TYPES, relayMessages } from './relay-messages.js';
import { checkDeadlines, checkHeldQuota, checkOpenSessionQuota } from './session-admission.js';
import type { InboxWrite, LogWriter, NewEntry, NonceUse } from './store/log-writer.js';
import type { CommittedEnvelopeReader } from './store/stored-tag-archive.js';

/** What anyone may know of the relay's identity: its key (id) and its log's origin. */
export interface RelayPublicIdentity {
  keyId: string;
  publicKey: Uint8Array;
  origin: string;
}

export interface RelayIdentity extends RelayPublicIdentity {
  secretKey: Uint8Array;
}

export interface RelayCoreOptions {
  writer: LogWriter;
  membership: Membership;
  identity: RelayIdentity;
  limits: RelayLimits;
  now: () => number;
  /** Committed envelopes by hash, read back for the sessions' tag archives (store/stored-tag-archive.ts). */
  readEnvelope: CommittedEnvelopeReader;
  /**
   * Until when (ms, the relay's clock) writes are refused after a failed one (relay-runtime.ts):
   * the relay's own writes (a deadline's abort) wait for it too, so a full disk is not probed by
   * every expired session at once.
   */
  writesRefusedUntil?: () => number;
  /** Where hop proofs and a challenge's checks run; without it, on this thread (tests, tools). */
  checks?: GroupCheckScheduler;
  /** Charges time of the relay's threads to a key (KeyBudgets.chargeCpu). */
  chargeCpu?: (key: string, ms: number) => void;
}

export interface Accepted {
  receipt: Receipt;
  /** True when these exact bytes were already in the log (an idempotent resend). */
  duplicate: boolean;
}

export class RelayCore {
  readonly #options: RelayCoreOptions;
  readonly sessions = new Map<string, HostedSession>();
  /** "session hex|sender" -> last accepted envelope. */
  readonly chains = new Map<string, ChainState>();
  readonly identity: RelayPublicIdentity;

  /** When this state was built (at the start, or again after a failed write): join deadlines give labs a grace from then. */
  readonly #since: number;

  constructor(options: RelayCoreOptions) {
    this.#options = options;
    this.#since = options.now();
    const { keyId, publicKey, origin } = options.identity;
    this.identity = { keyId, publicKey, origin };
  }

  get membership(): Membership {
    return this.#options.membership;
  }

  get limits(): Readonly<RelayLimits> {
    return this.#options.limits;
  }

  /** The relay's clock, in milliseconds. */
  now(): number {
    return this.#options.now();
  }

  /** The latest signed checkpoint: what the relay has committed. */
  get latest(): { size: number; note: string } {
    return this.#options.writer.latest;
  }

  /** Whether this request nonce was used by this key (committed or in the next commit). */
  nonceUsed(keyId: string, nonce: string): boolean {
    return this.#options.writer.nonceUsed(keyId, nonce);
  }

  /** Resolves when every write queued so far is committed (before shutting down). */
  drain(): Promise<void> {
    return this.#options.writer.drain();
  }

  /** Stops every session's deadline timer (on shutdown). */
  stopDeadlines(): void {
    for (const session of this.sessions.values()) if (session.timer) clearTimeout(session.timer);
  }

  /** Committed envelopes by hash, for the tag archives of the sessions rebuilt in recovery. */
  get readEnvelope(): CommittedEnvelopeReader {
    return this.#options.readEnvelope;
  }

  /** Public key of any sender the relay knows: the admin, an enrolled lab, or itself. */
  publicKeyOf = (id: string): Uint8Array | undefined => {
    if (id === this.membership.adminKeyId) return this.membership.adminKey;
    if (id === this.#options.identity.keyId) return this.#options.identity.publicKey;
    return this.membership.signingKeyOf(id);
  };

  /** Opens an envelope from the network: BAD_CBOR or BAD_ENVELOPE when it does not (spec/errors.md §3). */
  open(bytes: Uint8Array, bytesSha256?: Uint8Array): OpenedEnvelope {
    try {
      return openEnvelope(bytes, this.publicKeyOf, undefined, bytesSha256);
    } catch (error) {
      throw envelopeError(error);
    }
  }

  /** An admin envelope (enrollment, revocation) signed by the admin key. */
  async submitAdmin(opened: OpenedEnvelope, auth: NonceUse): Promise<Accepted> {
    this.#requireSender(opened, auth);
    const duplicate = this.#duplicate(opened);
    if (duplicate !== undefined) return this.#resend(duplicate, auth);
    const problem = this.membership.problem(opened);
    if (problem !== undefined) throw new RelayError('PROTOCOL_VIOLATION', problem);
    this.#checkChain(opened);
    this.#advanceChain(opened);
    const { indices, committed } = this.#options.writer.append([this.#entry(opened)], auth);
    this.membership.apply(opened, indices[0] as number);
    return this.#acknowledge(indices[0] as number, committed);
  }

  /** A session proposal: creates the session. */
  async createSession(opened: OpenedEnvelope, auth: NonceUse): Promise<Accepted & { session: HostedSession }> {
    this.#requireSender(opened, auth);
    if (opened.header.type !== 'session_proposal') {
      throw new RelayError('PROTOCOL_VIOLATION', `expected a session_proposal envelope, got ${opened.header.type}`);
    }
    const idHex = toHex(opened.header.session);
    const duplicate = this.#duplicate(opened);
    if (duplicate !== undefined) {
      return { ...(await this.#resend(duplicate, auth)), session: this.sessions.get(idHex) as HostedSession };
    }
    if (this.sessions.has(idHex) || idHex === toHex(MEMBERSHIP_SESSION)) {
      throw new RelayError('SESSION_EXISTS', `session ${idHex} already exists`);
    }
    const proposal = checkMessage(() => parseMessage('session_proposal', opened.payload));
    if (!proposal.labs.includes(opened.header.sender)) {
      throw new RelayError('NOT_A_SESSION_LAB', 'a lab may only propose a session it is in');
    }
    const now = this.#options.now();
    for (const lab of proposal.labs) {
      const standing = this.membership.standing(lab, now);
      if (standing !== 'ok') throw new RelayError('PROTOCOL_VIOLATION', `lab ${lab} of the proposal is ${standing}`);
    }
    if (proposal.maxItemsPerKind > this.#options.limits.maxItemsPerSet) {
      throw new RelayError(
        'SET_TOO_LARGE',
        `maxItemsPerKind ${proposal.maxItemsPerKind} is over this relay's limit of ${this.#options.limits.maxItemsPerSet}`,
      );
    }
    const { limits } = this.#options;
    const { joinBy, deadline } = checkDeadlines(proposal, opened.header.created, now, limits);
    checkOpenSessionQuota(this.sessions.values(), opened.header.sender, limits);
    this.#checkChain(opened);
    this.#advanceChain(opened);
    const entry = { ...this.#entry(opened), sessionDeadline: deadline, sessionLabs: proposal.labs };
    const { indices, committed } = this.#options.writer.append([entry], auth);
    const session = new HostedSession(
      opened.header.session,
      indices[0] as number,
      opened.header.sender,
      opened.bytes,
      proposal,
      { joinBy, deadline },
      this.#options.readEnvelope,
    );
    this.sessions.set(idHex, session);
    session.showWhenCommitted(committed);
    this.scheduleDeadline(session);
    return { ...(await this.#acknowledge(indices[0] as number, committed)), session };
  }

  /**
   * A lab's message in a session: join, tag_chunk, blind_result, reveal, hop_proof, abort. One
   * lab's envelopes are taken in order (HostedSession.inTurnOf); the group checks a hop proof or
   * the last reveal needs run on the worker threads meanwhile (group-check-scheduler.ts).
   */
  async submitToSession(idHex: string, opened: OpenedEnvelope, auth: NonceUse): Promise<Accepted> {
    // Before the session is looked up (spec/errors.md §4), and before the envelope waits in its sender's turn.
    this.#requireSender(opened, auth);
    const session = this.sessions.get(idHex);
    if (!session) throw new RelayError('NO_SUCH_SESSION', `no session ${idHex}`);
    const { accepted } = await session.inTurnOf(opened.header.sender, () => this.#take(session, opened, auth));
    return accepted;
  }

  /** Takes one envelope in its sender's turn; answers its acknowledgement, awaited out of the turn. */
  async #take(
    session: HostedSession,
    opened: OpenedEnvelope,
    auth: NonceUse,
  ): Promise<{ accepted: Promise<Accepted> }> {
    this.#requireSender(opened, auth);
    const idHex = session.idHex;
    if (toHex(opened.header.session) !== idHex) {
      throw new RelayError('PROTOCOL_VIOLATION', `the envelope is for session ${toHex(opened.header.session)}`);
    }
    const from = opened.header.sender;
    if (!session.proposal.labs.includes(from)) {
      throw new RelayError('NOT_A_SESSION_LAB', `${from} is not a lab of session ${idHex}`);
    }
    const duplicate = this.#duplicate(opened);
    if (duplicate !== undefined) return { accepted: this.#resend(duplicate, auth) };
    // This thread's time for the envelope is its sender's (not the wait for a worker): also when refused.
    let started: number | undefined = performance.now();
    let checking = false;
    const charge = () => {
      if (started !== undefined) this.#chargeCpu(from, performance.now() - started);
      started = undefined;
    };
    try {
      let message = this.#checked(session, opened);
      if ('refused' in message) {
        charge(); // not the wait for the abort's commit
        throw await this.#refused(session, opened, message.refused);
      }
      const scheduler = this.#options.checks;
      const checks = scheduler && (session.engine as RelaySession).groupChecks(from, message.message);
      let answers: GroupCheckAnswer[] | undefined;
      if (scheduler !== undefined && checks !== undefined) {
        charge();
        // The challenge's checks are of every lab's inputs: each lab pays its share.
        const kind = message.message.type;
        const chargeTo = kind === 'reveal' ? session.proposal.labs : [from];
        // A deadline that comes meanwhile waits for this envelope (scheduleDeadline): it came in time.
        session.checksInFlight++;
        checking = true;
        answers = await scheduler.run(from, checks, chargeTo).catch((error: unknown) => {
          if (error instanceof CryptoError && error.code === 'WORKER_FAILED') {
            // A worker that died (its heap) or a pool closed for shutdown: nothing changed; sent again, it is checked again.
            throw new RelayError(
              'UNAVAILABLE',
              `the relay could not check this ${kind}: ${error.message}; send it again`,
              {
                retryAfter: 1,
              },
            );
          }
          throw new RelayError('INTERNAL', `the relay's check of this ${kind} failed: ${(error as Error).message}`, {
            cause: error,
          });
        });
        started = performance.now();
        // Meanwhile the session may have ended (its deadline), and the same request come again.
        this.#requireSender(opened, auth);
        message = this.#checked(session, opened);
        if ('refused' in message) {
          charge(); // not the wait for the abort's commit
          throw await this.#refused(session, opened, message.refused);
        }
      }
      // From here to the append, nothing is awaited: the engine's state is the one just checked.
      return { accepted: this.#receive(session, opened, auth, message.message, answers) };
    } finally {
      charge();
      if (checking) this.#checkSettled(session);
    }
  }

  /** One envelope's checks are over (taken or refused): a deadline that waited for them is judged now. */
  #checkSettled(session: HostedSession): void {
    session.checksInFlight--;
    if (session.checksInFlight > 0 || !session.deadlineDeferred) return;
    session.deadlineDeferred = false;
    this.scheduleDeadline(session);
  }

  /** The engine takes the checked envelope, and it is appended with what it causes; answers the acknowledgement. */
  #receive(
    session: HostedSession,
    opened: OpenedEnvelope,
    auth: NonceUse,
    message: SessionMessage,
    answers: GroupCheckAnswer[] | undefined,
  ): Promise<Accepted> {
    const from = opened.header.sender;
    const engine = session.engine as RelaySession;
    const outgoing = engine.receive(from, message, { bytes: opened.bytes, digest: opened.header.digest }, answers);
    this.#advanceChain(opened);
    this.#track(session, opened, message);
    const entries = [
      { ...this.#entry(opened), inbox: this.#blindTasks(session, outgoing, opened) },
      ...this.#relayEntries(session, outgoing),
    ];
    const { indices, committed } = this.#options.writer.append(entries, auth);
    // The chunks the engine just archived are read from the store once their envelopes are committed.
    const archived = session.archive.takeRecent();
    committed.then(
      () => session.archive.release(archived),
      () => {},
    );
    session.settle();
    session.showWhenCommitted(committed);
    return this.#acknowledge(indices[0] as number, committed);
  }

  /** The session envelope checked (#checkSessionEnvelope), or the refusal (changes nothing). */
  #checked(session: HostedSession, opened: OpenedEnvelope): { message: SessionMessage } | { refused: unknown } {
    try {
      return { message: this.#checkSessionEnvelope(session, opened) };
    } catch (refused) {
      return { refused };
    }
  }

  /** The error a refusal answers; one that proves a violation first aborts the session (#abortForRefusal). */
  async #refused(session: HostedSession, opened: OpenedEnvelope, error: unknown): Promise<unknown> {
    if (session.engine && refusalAborts(error, opened, this.#nextSeq(opened))) {
      return this.#abortForRefusal(session, opened, error);
    }
    return error;
  }

  #chargeCpu(key: string, ms: number): void {
    this.#options.chargeCpu?.(key, ms);
  }

  /**
   * The checks of a lab's session envelope after its sender's (type, payload, chain, state, the
   * session's cap, places, the engine's rules), in the order of spec/errors.md §4; changes nothing.
   */
  #checkSessionEnvelope(session: HostedSession, opened: OpenedEnvelope): SessionMessage {
    const from = opened.header.sender;
    const idHex = session.idHex;
    const type = opened.header.type;
    if (!(LAB_SESSION_TYPES as readonly string[]).includes(type)) {
      throw new RelayError('PROTOCOL_VIOLATION', `a lab does not send ${type} into a session`);
    }
    const message = { type, body: checkMessage(() => parseMessage(type, opened.payload)) } as SessionMessage;
    this.#checkChain(opened);
    const engine = session.engine;
    if (!engine) throw new RelayError('SESSION_CLOSED', `session ${idHex} is ${session.state}`);
    if (message.type === 'join') {
      for (const [kind, size] of Object.entries(message.body.sizes)) {
        if (size > session.proposal.maxItemsPerKind) {
          throw new RelayError(
            'SET_TOO_LARGE',
            `${size} ${kind} items are over the session's cap of ${session.proposal.maxItemsPerKind}`,
          );
        }
      }
    }
    if (message.type === 'tag_chunk' || message.type === 'blind_result') {
      const filled = session.places.get(HostedSession.placeKey(message.body));
      if (filled !== undefined) {
        throw new RelayError('CONFLICT', `that part of the exchange was already sent with other bytes (${filled})`);
      }
    }
    const violation = checkMessage(() => engine.violation(from, message));
    if (violation !== undefined) throw new RelayError('PROTOCOL_VIOLATION', violation);
    if (message.type === 'tag_chunk' && engine.state === 'joining')
      checkHeldQuota(this.sessions.values(), from, message.body.tags.length, this.#options.limits);
    return message;
  }

  /**
   * Aborts the session for a refused envelope that proves its sender broke the rules
   * (abort-reasons.ts): the relay's abort names the sender and carries the envelope as evidence
   * (spec/protocol.md §5). Returns the error to answer the sender with: the refusal, saying the
   * session was aborted once the abort committed (the refusal alone when it could not be written:
   * the runtime then rebuilds the state from the log, where the session is still open).
   */
  async #abortForRefusal(session: HostedSession, opened: OpenedEnvelope, error: RelayError): Promise<RelayError> {
    const engine = session.engine as RelaySession;
    const sender = opened.header.sender;
    const outgoing = engine.abort(refusalReason(opened, error), sender);
    let indices: number[];
    let committed: Promise<number[]>;
    try {
      ({ indices, committed } = this.#options.writer.append(
        this.#relayEntries(session, outgoing, { evidence: opened.bytes }),
      ));
    } catch {
      return error;
    }
    session.settle();
    session.showWhenCommitted(committed);
    try {
      await committed;
    } catch {
      return error;
    }
    return new RelayError(
      error.code,
      `${error.message}; the relay aborted the session naming ${sender} (its abort is log entry ${indices[0]})`,
      { cause: error },
    );
  }

  /** Records what an accepted session envelope changed outside the engine (also used in recovery). */
  #track(session: HostedSession, opened: OpenedEnvelope, message: SessionMessage): void {
    if (message.type === 'join') session.joined.add(opened.header.sender);
    if (message.type === 'tag_chunk' || message.type === 'blind_result') {
      session.places.set(HostedSession.placeKey(message.body), toHex(opened.hash));
    }
  }

  /**
   * Replays one committed envelope of a session during recovery (no checks, no writes). A lab's
   * envelope goes to the engine, which produces again what the relay answered it with then (its
   * blind tasks, proof request, challenge, results, an abort for a failed proof): those envelopes
   * of the relay are already in the log and are not sealed again. Only an abort the relay raised
   * from outside the engine (its deadline) is given to the engine as such.
   */
  replay(session: HostedSession, opened: OpenedEnvelope): void {
    const engine = session.engine;
    if (!engine) return;
    const type = opened.header.type;
    if (opened.header.sender === this.#options.identity.keyId) {
      if (!(RELAY_SESSION_TYPES as readonly string[]).includes(type)) {
        throw new RelayError('STORAGE_CORRUPT', `the relay does not send ${type} into a session`);
      }
      if (type === 'abort') {
        const body = parseMessage('abort', opened.payload);
        engine.abort(body.reason, body.culprit);
      }
    } else {
      const message = { type, body: parseMessage(type as 'join', opened.payload) } as SessionMessage;
      engine.receive(opened.header.sender, message, { bytes: opened.bytes, digest: opened.header.digest });
      this.#track(session, opened, message);
      // Everything replayed is committed: the store holds it.
      session.archive.release(session.archive.takeRecent());
    }
    session.settle();
  }

  /**
   * Arms the session's deadline timer: at its join deadline while some lab has not joined, else at
   * its deadline (re-armed in steps: timers top out at ~24.8 days). The abort is written then, or
   * when writes are allowed again if they are refused then.
   */
  scheduleDeadline(session: HostedSession): void {
    if (session.timer) clearTimeout(session.timer);
    session.timer = undefined;
    if (!session.open) return;
    const allJoined = () => session.joined.size === session.proposal.labs.length;
    const joinDue = Math.max(session.joinBy, this.#since + this.#options.limits.joinDeadlineGraceMs);
    const next = allJoined() ? session.deadline : Math.min(joinDue, session.deadline);
    const due = Math.max(next, this.#options.writesRefusedUntil?.() ?? 0);
    const delay = Math.min(due - this.#options.now(), 2 ** 31 - 1);
    session.timer = setTimeout(
      () => {
        if (!session.engine) return;
        const now = this.#options.now();
        if ((this.#options.writesRefusedUntil?.() ?? 0) > now) return this.scheduleDeadline(session);
        // An envelope that came in time is being checked: it is judged first (#checkSettled re-arms this).
        if (session.checksInFlight > 0) {
          session.deadlineDeferred = true;
          return;
        }
        // The audit tells the two apart by the abort's created (audit.md check 20): it is `now`.
        if (session.deadline <= now) {
          const waiting = session.engine.waitingOn();
          return this.#abortAtDeadline(session, now, deadlineReason(waiting), waiting[0]);
        }
        if (allJoined() || joinDue > now) return this.scheduleDeadline(session);
        const missing = session.proposal.labs.filter((lab) => !session.joined.has(lab));
        this.#abortAtDeadline(session, now, joinDeadlineReason(missing), missing[0]);
      },
      Math.max(0, delay),
    );
    session.timer.unref();
  }

  /** Writes the relay's abort of a session whose deadline (or join deadline) passed. */
  #abortAtDeadline(session: HostedSession, now: number, reason: string, culprit: string | undefined): void {
    const outgoing = (session.engine as RelaySession).abort(reason, culprit);
    const entries = this.#relayEntries(session, outgoing, { created: now });
    const { committed } = this.#options.writer.append(entries);
    committed.catch(() => {});
    session.settle();
    session.showWhenCommitted(committed);
  }

  /**
   * Seals, under the relay's key, the engine's messages to labs (relay-messages.ts): an abort with
   * the refused envelope as `evidence` when given, each `created` now or at `created`.
   */
  #relayEntries(
    session: HostedSession,
    outgoing: Outgoing[],
    { evidence, created }: { evidence?: Uint8Array; created?: number } = {},
  ): NewEntry[] {
    return relayMessages(outgoing).map(({ type, body, inbox }) => {
      const sealed = type === 'abort' && evidence !== undefined ? { ...(body as object), evidence } : body;
      return this.#sealAsRelay(session, type, sealed, inbox, created ?? this.#options.now());
    });
  }

  #sealAsRelay(
    session: HostedSession,
    type: MessageType,
    body: unknown,
    inbox: NewEntry['inbox'],
    created: number,
  ): NewEntry {
    const { identity } = this.#options;
    const key = `${session.idHex}|${identity.keyId}`;
    // The relay's own chain in the session continues from its last envelope (restored on recovery).
    const chain = new EnvelopeChain(
      session.id,
      { keyId: identity.keyId, secretKey: identity.secretKey },
      this.chains.get(key),
    );
    const sealed = chain.seal(type, body as CborValue, created);
    this.chains.set(key, chain.last as ChainState);
    return { ...this.#entry(sealed), ...(inbox && { inbox }) };
  }

  #entry(opened: OpenedEnvelope): NewEntry {
    const { header } = opened;
    return {
      bytes: opened.bytes,
      hash: opened.hash,
      type: header.type,
      sender: header.sender,
      session: header.session,
      seq: header.seq,
    };
  }

  #requireSender(opened: OpenedEnvelope, auth: NonceUse): void {
    if (opened.header.sender !== auth.keyId) {
      throw new RelayError(
        'SENDER_MISMATCH',
        `the envelope is signed by ${opened.header.sender}, the request by ${auth.keyId}`,
      );
    }
    // Checked again here, in the same turn as the append that spends it: the request's headers
    // were checked before its body arrived, and the same request may have come twice meanwhile.
    if (this.#options.writer.nonceUsed(auth.keyId, auth.nonce)) {
      throw new RelayError('NONCE_REPLAYED', 'this request was already received (its nonce is used)');
    }
  }

  #duplicate(opened: OpenedEnvelope): number | undefined {
    return this.#options.writer.indexOfHash(opened.hash);
  }

  async #resend(index: number, auth: NonceUse): Promise<Accepted> {
    // The nonce is still spent (stored in the next commit), so the same request cannot be replayed.
    const { committed } = this.#options.writer.append([], auth);
    // Both awaited together: a failed write rejects both, and neither may go unhandled.
    await Promise.all([this.#options.writer.whenCommitted(index), committed]);
    return { receipt: this.#options.writer.receipt(index), duplicate: true };
  }

  /** The seq the sender's next envelope in the envelope's session must have. */
  #nextSeq(opened: OpenedEnvelope): number {
    const previous = this.chains.get(`${toHex(opened.header.session)}|${opened.header.sender}`);
    return previous ? previous.seq + 1 : 0;
  }

  /** Sequence and previous-hash checks against the sender's last accepted envelope in the session. */
  #checkChain(opened: OpenedEnvelope): void {
    const { header } = opened;
    const key = `${toHex(header.session)}|${header.sender}`;
    const previous = this.chains.get(key);
    const expected = previous ? previous.seq + 1 : 0;
    if (header.seq < expected) {
      throw new RelayError('CONFLICT', `${header.sender} already sent envelope ${header.seq} with other bytes`);
    }
    if (header.seq > expected)
      throw new RelayError('CHAIN_BROKEN', `envelope ${header.seq} arrived; expected ${expected}`);
    if (toHex(header.prev) !== (previous ? toHex(previous.hash) : '0'.repeat(64))) {
      throw new RelayError('CHAIN_BROKEN', `envelope ${header.seq} does not follow ${header.sender}'s previous one`);
    }
  }

  #advanceChain(opened: OpenedEnvelope): void {
    const { header } = opened;
    this.chains.set(`${toHex(header.session)}|${header.sender}`, { seq: header.seq, hash: opened.hash });
  }

  /**
   * Inbox items for the blind tasks the engine issued. A task points at the log entry of its
   * source envelope: usually the one just received, but when the last join releases the chunks
   * held until then, the earlier tag_chunk entries.
   */
  #blindTasks(session: HostedSession, outgoing: Outgoing[], current: OpenedEnvelope): InboxWrite[] {
    const items: InboxWrite[] = [];
    for (const o of outgoing) {
      if (o.message.type !== 'blind_task') continue;
      const { hop, source } = o.message.body;
      // A released chunk's envelope is found by its place (its hash recorded when it was taken),
      // not by hashing its bytes again: at the last join of a large session that is many MB.
      const place = HostedSession.placeKey({ ...o.message.body, hop: hop - 1 });
      const sourceHash = source === current.bytes ? undefined : session.places.get(place);
      if (source !== current.bytes && sourceHash === undefined) {
        throw new RelayError('INTERNAL', `a blind task's source at ${place} was never taken`);
      }
      const entry = sourceHash === undefined ? undefined : this.#options.writer.indexOfHash(fromHex(sourceHash));
      items.push({ lab: o.to, type: 'blind_task', hop, ...(entry !== undefined && { entry }) });
    }
    return items;
  }

  async #acknowledge(index: number, committed: Promise<number[]>): Promise<Accepted> {
    await committed;
    return { receipt: this.#options.writer.receipt(index), duplicate: false };
  }
}

/** A duration in hours, for messages: `72 h`, `0.5 h`. */
