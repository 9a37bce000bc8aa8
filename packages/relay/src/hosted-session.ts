/**
 * One session as the relay hosts it: the pure engine (RelaySession), the places its tag chunks
 * have filled (so a chunk sent again is recognised and a different one for the same place is a
 * conflict, and the engine's archive finds each chunk's logged envelope), its deadline, and — once
 * it is over — only a small summary, so a finished session's final tags do not stay in memory.
 *
 * What readers are shown (`status`) is the session as of the last commit that changed it, never
 * the engine's state ahead of the log: a lab told `done` must find its results in its inbox, and a
 * write that fails (relay-runtime.ts) must not have shown a state the log never reached.
 */
import { toHex } from '@overlap/crypto';
import {
  type ChunkPlace,
  placeKey,
  RelaySession,
  type RelaySessionState,
  type SessionDeadlines,
  type SessionProposal,
  type SessionStatus,
} from '@overlap/protocol';
import { RelayError } from './errors.js';
import { type CommittedEnvelopeReader, StoredTagArchive } from './store/stored-tag-archive.js';

/** Envelopes of one lab in one session being taken or waiting their turn, at most (`inTurnOf`). */
export const MAX_TURN_QUEUE = 8;

export class HostedSession {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly proposalIndex: number;
  /** The key id of the lab that proposed it (its quota of open sessions counts it). */
  readonly proposer: string;
  /** The signed session_proposal as received: labs need it to learn the session and to check it. */
  readonly proposalEnvelope: Uint8Array;
  readonly proposal: SessionProposal;
  /** By when every lab must have joined (session-deadlines.ts), ms since the epoch. */
  readonly joinBy: number;
  readonly deadline: number;
  readonly joined = new Set<string>();
  engine: RelaySession | undefined;
  #final: { state: RelaySessionState; abort?: { reason: string; culprit?: string } } | undefined;
  /** "owner|kind|hop|first" -> hash (hex) of the envelope that filled it. */
  readonly places = new Map<string, string>();
  /** The engine's tags, read back from the logged envelopes (store/stored-tag-archive.ts). */
  readonly archive: StoredTagArchive;
  timer: NodeJS.Timeout | undefined;
  /** Envelopes of this session whose group checks are running: a deadline waits for them. */
  checksInFlight = 0;
  /** The deadline came while checks were running: it is judged again once they are over. */
  deadlineDeferred = false;
  #status: SessionStatus | undefined;
  /** Views taken, and the number of the one shown (commits resolve in log order; this makes sure). */
  #views = 0;
  #shownView = 0;
  /** Each lab's envelopes being taken, the last one's turn by sender (see `inTurnOf`). */
  readonly #turns = new Map<string, Promise<unknown>>();
  /** How many of each lab's envelopes are being taken or waiting their turn. */
  readonly #queued = new Map<string, number>();

  constructor(
    id: Uint8Array,
    proposalIndex: number,
    proposer: string,
    proposalEnvelope: Uint8Array,
    proposal: unknown,
    deadlines: SessionDeadlines,
    readEnvelope: CommittedEnvelopeReader,
  ) {
    this.id = id;
    this.idHex = toHex(id);
    this.proposalIndex = proposalIndex;
    this.proposer = proposer;
    this.proposalEnvelope = proposalEnvelope;
    this.archive = new StoredTagArchive(this.places, readEnvelope);
    this.engine = new RelaySession(proposal, { sessionId: id, archive: this.archive });
    this.proposal = this.engine.proposal;
    this.joinBy = deadlines.joinBy;
    this.deadline = deadlines.deadline;
  }

  get state(): RelaySessionState {
    return this.#final?.state ?? (this.engine as RelaySession).state;
  }

  get open(): boolean {
    return this.#final === undefined;
  }

  /** Call after every engine step: a finished session drops its engine (and its final tags). */
  settle(): void {
    const engine = this.engine;
    if (!engine || (engine.state !== 'done' && engine.state !== 'aborted')) return;
    const abort = engine.abortReason;
    this.#final = abort ? { state: engine.state, abort } : { state: engine.state };
    this.engine = undefined;
    this.archive.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The status readers are shown: as of the last commit that changed the session; none until its proposal commits. */
  get status(): SessionStatus | undefined {
    return this.#status;
  }

  /** Shows the session as it is now once `committed` resolves (after each step that appended to the log). */
  showWhenCommitted(committed: Promise<unknown>): void {
    const view = this.summary();
    const number = ++this.#views;
    committed.then(
      () => {
        if (number < this.#shownView) return;
        this.#shownView = number;
        this.#status = view;
      },
      () => {},
    );
  }

  /** Shows the session as it is now (in recovery, where everything replayed is committed). */
  showNow(): void {
    this.#shownView = ++this.#views;
    this.#status = this.summary();
  }

  /**
   * Runs `take` once every envelope of `sender` in this session that came before has been taken:
   * one lab's envelopes are taken in the order they came even when one waits for a worker thread
   * (a hop proof being verified), while the other labs' envelopes go on meanwhile. At most
   * `MAX_TURN_QUEUE` of one lab's envelopes (each holding its body) are taken or waiting at once;
   * one more is 503 BUSY, to send again (a lab's client sends one envelope at a time).
   */
  inTurnOf<T>(sender: string, take: () => Promise<T>): Promise<T> {
    const queued = this.#queued.get(sender) ?? 0;
    if (queued >= MAX_TURN_QUEUE) {
      return Promise.reject(
        new RelayError(
          'BUSY',
          `${MAX_TURN_QUEUE} envelopes of ${sender} for session ${this.idHex} are being taken already; send this one again`,
          { retryAfter: 1 },
        ),
      );
    }
    this.#queued.set(sender, queued + 1);
    const before = this.#turns.get(sender) ?? Promise.resolve();
    const mine = before.then(take, take);
    const settled = mine.then(
      () => {},
      () => {},
    );
    this.#turns.set(sender, settled);
    void settled.then(() => {
      if (this.#turns.get(sender) === settled) this.#turns.delete(sender);
      const left = (this.#queued.get(sender) ?? 1) - 1;
      if (left > 0) this.#queued.set(sender, left);
      else this.#queued.delete(sender);
    });
    return mine;
  }

  static placeKey(chunk: ChunkPlace): string {
    return placeKey(chunk);
  }

  /** The session's status now, in memory (readers get `status`: what committed; spec/relay-api.md §3). */
  summary(): SessionStatus {
    const abort = this.#final?.abort ?? this.engine?.abortReason;
    return {
      session: this.id,
      proposal: this.proposalIndex,
      proposal_envelope: this.proposalEnvelope,
      labs: [...this.proposal.labs],
      joined: this.proposal.labs.filter((lab) => this.joined.has(lab)),
      state: this.state,
      join_by: this.joinBy,
      deadline: this.deadline,
      waiting_on: this.engine?.waitingOn() ?? [],
      ...(abort && { abort: abort.culprit === undefined ? { reason: abort.reason } : { ...abort } }),
    };
  }
}
