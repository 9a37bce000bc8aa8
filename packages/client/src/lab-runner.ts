/**
 * One lab's side of a session over the relay's HTTP API (spec/relay-api.md): the LabSession engine
 * of @overlap/protocol, its messages sealed in the lab's envelope chain (EnvelopeChain) and posted
 * with RelayClient, and the lab's inbox read until the session is done or aborted.
 *
 * `LabRunner` is the driver, in named steps: `open` (resume or start the state), `sendOwnSets`
 * (hash, blind and upload the lab's own sets), `exchange` (read the inbox, answer every blind task,
 * reveal the coin when the relay asks for the proofs, prove every hop once the challenge comes, take
 * the results: spec/protocol.md §5.2), and the helpers they share: `#seal`, `#persist`, `#flush`,
 * `#messageOf`.
 *
 * Resumable (spec §4): the chain lives in memory, every sealed envelope stays queued until the relay
 * gave its receipt, and the inbox is read again from the last item handled. If the relay restarts
 * mid-way, the client's retries re-post the same bytes (the relay answers them with the original
 * receipt) and the loop carries on. With a store, the inputs of every answered task are on disk
 * before progress records the answer (lab-input-archive.ts), so a lab killed before its proofs
 * still proves; the key file goes as soon as progress records the proofs.
 *
 * What the relay hands out is checked as a lab would (inbox-message.ts): a blind task's source
 * envelope must open under the previous hop's key (LabSession checks the rest of its provenance),
 * and the proof request, the challenge, result rows and aborts must be envelopes of this session
 * signed by the relay's key.
 *
 * Test seam: `createSession` builds the engine (default: an honest LabSession), so a harness can run
 * a cheating subclass in a real lab process; production code never passes it.
 */
import { fromHex, toHex } from '@overlap/crypto';
import {
  type CborValue,
  type ChainState,
  EnvelopeChain,
  type InboxItem,
  LabSession,
  type LabSessionOptions,
  type MessageType,
  type SessionMessage,
} from '@overlap/protocol';
import { ClientError } from './errors.js';
import { inboxMessage, type LabInput } from './inbox-message.js';
import { DiskTagArchive } from './lab-input-archive.js';
import type { LabProgress, LabRun, LabRunOptions } from './lab-run-options.js';
import type { LabStateStore } from './lab-state-store.js';

export type { LabProgress, LabRun, LabRunOptions } from './lab-run-options.js';

/** Runs this lab's side of the session to its end: its results, or why it was aborted. */
export async function runLabSession(options: LabRunOptions): Promise<LabRun> {
  const runner = await LabRunner.open(options);
  return runner.run();
}

/** A sealed envelope without a receipt yet; its bytes leave memory once the outbox holds them. */
interface Unacknowledged {
  seq: number;
  bytes?: Uint8Array;
}

/** Where a resumed lab was: what its store recorded at the last checkpoint. */
type Resumed = Awaited<ReturnType<LabStateStore['loadProgress']>>;

class LabRunner {
  readonly #options: LabRunOptions;
  readonly #sessionHex: string;
  readonly #store: LabStateStore | undefined;
  readonly #lab: LabSession;
  readonly #chain: EnvelopeChain;
  readonly #resumed: Resumed | undefined;
  /** The inputs of the tasks answered, on disk until the proofs (with a store only). */
  readonly #inputs: DiskTagArchive | undefined;
  /** Whether the key file is gone (the proofs are recorded as sent). */
  #keyErased: boolean;
  /**
   * Sealed envelopes without a receipt yet, in chain order. With a store, an envelope's bytes are
   * dropped from memory once the outbox holds them and read back to be sent: a million-item set's
   * chunks are not held twice.
   */
  readonly #unacknowledged: Unacknowledged[];
  /** Sequence numbers below this are in the outbox already (written, or loaded from it on resume). */
  #outboxUpTo: number;
  /** Whether the lab's join was sealed (it is sent before the own sets are hashed). */
  #joined: boolean;
  /** Whether the lab's own sets were sealed (its opening messages). */
  #started: boolean;
  /** The next inbox item this lab will handle. */
  #after: number;
  /** An abort this driver raised itself (the relay handed out something a lab must refuse). */
  #ownAbort: string | undefined;
  /** The relay answered SESSION_CLOSED to a post: the session ended; nothing more is sent. */
  #closed = false;

  private constructor(
    options: LabRunOptions,
    lab: LabSession,
    resumed: Resumed | undefined,
    unacknowledged: Unacknowledged[],
    inputs: DiskTagArchive | undefined,
  ) {
    this.#options = options;
    this.#sessionHex = toHex(options.sessionId);
    this.#store = options.store;
    this.#lab = lab;
    this.#resumed = resumed;
    this.#chain = new EnvelopeChain(
      options.sessionId,
      { keyId: options.me, secretKey: options.secretKey },
      lastSealed(resumed, options.previous),
    );
    this.#unacknowledged = unacknowledged;
    this.#outboxUpTo = unacknowledged.reduce((top, { seq }) => Math.max(top, seq + 1), 0);
    this.#joined = resumed?.joined ?? false;
    this.#started = resumed?.started ?? false;
    this.#after = resumed?.inboxAfter ?? 0;
    this.#inputs = inputs;
    this.#keyErased = false;
  }

  /**
   * Step 1: resume from the store (key, coin, secret order, chain, outbox, inbox position, the
   * tasks answered and their inputs) or start afresh.
   */
  static async open(options: LabRunOptions): Promise<LabRunner> {
    const store = options.store;
    const resumed = store !== undefined && (await store.exists()) ? await store.loadProgress() : undefined;
    const secrets = resumed && store ? await store.loadSecrets(resumed.proved) : undefined;
    const inputs = store ? new DiskTagArchive(store.inputsDir) : undefined;
    const createSession = options.createSession ?? ((labOptions: LabSessionOptions) => new LabSession(labOptions));
    const lab = createSession({
      me: options.me,
      sessionId: options.sessionId,
      publicKeyOf: options.publicKeyOf,
      proposal: options.proposal,
      sets: options.sets,
      ...(options.hashed && { hashed: options.hashed }),
      ...(options.pool && { pool: options.pool }),
      ...(inputs && { inputs }),
      ...(resumed &&
        secrets && {
          resume: {
            ...(secrets.key && { key: secrets.key }),
            coin: secrets.coin,
            order: secrets.order,
            answered: resumed.answered,
            digests: resumed.digests,
            proved: resumed.proved,
            // Results come back in `run`, from the result rows envelopes the store kept.
            results: {},
          },
        }),
    });
    secrets?.key?.fill(0);
    secrets?.coin.fill(0);
    const unacknowledged = resumed && store ? (await store.outbox(resumed.seq)).map((seq) => ({ seq })) : [];
    if (store && !resumed) {
      const state = lab.state();
      await store.saveSecrets(state.key as Uint8Array, state.coin, state.order);
      state.key?.fill(0);
      state.coin.fill(0);
    }
    const runner = new LabRunner(options, lab, resumed, unacknowledged, inputs);
    if (resumed?.proved) await runner.#eraseKey();
    return runner;
  }

  async run(): Promise<LabRun> {
    const progress = this.#options.onProgress ?? (() => {});
    if (this.#resumed) {
      progress({
        phase: 'resuming',
        unacknowledged: this.#unacknowledged.length,
        inboxAfter: this.#after,
        started: this.#started,
      });
    }
    try {
      await this.#replayKeptResults();
      await this.#sendOwnSets(progress);
      await this.#exchange(progress);
      await this.#flush();
      // The session is over for this lab: its key and state go (results are the caller's to keep),
      // now or, with keepStore, once the caller has delivered them.
      if (this.#options.keepStore === true) await this.#eraseKey();
      else await this.#store?.erase();
    } finally {
      this.#lab.dispose();
    }
    const lab = this.#lab;
    const abortReason = lab.abortReason ?? this.#ownAbort;
    progress({ phase: 'done', aborted: abortReason !== undefined });
    return abortReason === undefined ? { results: lab.results } : { results: lab.results, abortReason };
  }

  /**
   * On resume: the result rows already handled, from the relay's envelopes the store kept (not
   * their decoding). One kept for an item that progress had not yet moved past comes again from the inbox.
   */
  async #replayKeptResults(): Promise<void> {
    if (!this.#store || !this.#resumed) return;
    for (const kept of await this.#store.results()) {
      if (kept.n >= this.#after) continue;
      const message = this.#messageOf({ n: kept.n, type: 'result_rows', index: -1, envelope: kept.envelope });
      if (message !== undefined) await this.#lab.receive(message);
    }
  }

  /**
   * Step 2: send the join first (its sizes and commitments need no hashing), so that the session's
   * join deadline measures whether this lab takes part, not how long its set takes to hash
   * (spec/protocol.md §5); then hash and blind the lab's own sets into chunks, each into the outbox
   * as it fills, and upload them.
   */
  async #sendOwnSets(progress: (event: LabProgress) => void): Promise<void> {
    if (!this.#started) {
      const opening = this.#lab.opening();
      const join = await opening.next();
      if (!this.#joined) {
        // Recorded before it is sent: a lab resumed after this sends the same envelope, never another join.
        this.#seal(join.value as SessionMessage);
        this.#joined = true;
        await this.#persist();
        await this.#flush();
        if (this.#closed) return;
      }
      const items = Object.values(this.#options.sets).reduce((n, set) => n + set.length, 0);
      const { distinct, hashedAhead } = this.#lab.ownItems;
      progress({ phase: 'hashing', items, ...(hashedAhead > 0 && { hashedAhead, distinct }) });
      // Progress records the chunks all at once, so a lab that dies half-way through hashes its
      // set afresh (the same tags: the key and the order are kept), after the join it sent.
      for await (const message of opening) {
        this.#seal(message);
        await this.#toOutbox();
      }
      this.#started = true;
      await this.#persist();
    }
    const total = this.#unacknowledged.length;
    progress({ phase: 'uploading', sent: 0, total });
    await this.#flush(() => progress({ phase: 'uploading', sent: total - this.#unacknowledged.length, total }));
  }

  /** Step 3: read the inbox until the session is over for this lab, answering every item in order. */
  async #exchange(progress: (event: LabProgress) => void): Promise<void> {
    const { client, signal } = this.#options;
    progress({ phase: 'waiting' });
    let tasks = 0;
    let tags = 0;
    while (!this.#finished()) {
      signal?.throwIfAborted();
      const inbox = await client.inbox(this.#sessionHex, this.#after, this.#options.pollWaitMs ?? 2000);
      for (const item of inbox.items) {
        if (item.n < this.#after) continue; // already handled (an answer repeated after a restart)
        if (item.n > this.#after) throw new Error(`inbox item ${item.n} arrived before item ${this.#after}`);
        const message = await this.#handle(item);
        if (message?.type === 'blind_task') {
          tasks++;
          tags += message.body.tags.length / 32;
          progress({ phase: 'blinding', tasks, tags });
        }
        if (message?.type === 'proof_request') progress({ phase: 'proving', proofs: 0 });
        if (message?.type === 'challenge') progress({ phase: 'proving', proofs: this.#lab.answered.length });
        if (this.#finished()) break;
      }
      if (inbox.items.length === 0 && (inbox.state === 'done' || inbox.state === 'aborted') && !this.#finished()) {
        // Every lab is sent its result rows or the abort, as log entries: a relay that says the
        // session ended without either is taken at no word. Nothing is acted on, and this lab's
        // state is kept (the run throws before erasing it), to resume or to abort from.
        throw new ClientError(
          'BAD_RESPONSE',
          `the relay reports the session ${this.#sessionHex} ${inbox.state}, but serves this lab neither its result rows nor an abort (inbox after item ${this.#after}): nothing is acted on, and this lab's state is kept`,
        );
      }
    }
  }

  /** One inbox item: checked, given to the engine, its replies sealed, progress recorded, replies sent. */
  async #handle(item: InboxItem): Promise<LabInput | undefined> {
    // Inclusion before action: the item is proven an entry of the relay's log (result rows and an
    // abort, in a checkpoint the lab's witness policy cosigned) before anything is done with it.
    const acts = item.type === 'result_rows' || item.type === 'abort';
    await this.#options.client.proveIncluded(item.index, item.envelope, item.type, acts);
    const message = this.#messageOf(item);
    if (message?.type === 'result_rows') await this.#store?.putResult(item.n, item.envelope);
    if (message !== undefined) for (const reply of await this.#lab.receive(message)) this.#seal(reply);
    // An abort is never recorded as handled: a lab stopped after it and before its state is erased
    // reads it again from the inbox, rather than find only the relay's bare "aborted" (no entry,
    // which it would not act on).
    if (message?.type !== 'abort') {
      this.#after = item.n + 1;
      await this.#persist();
    }
    // The proofs are in the outbox and progress says so: the key is needed for nothing more.
    if (this.#lab.proved) await this.#eraseKey();
    await this.#flush();
    return message;
  }

  async #eraseKey(): Promise<void> {
    if (this.#keyErased) return;
    await this.#store?.eraseKey();
    this.#keyErased = true;
  }

  #finished(): boolean {
    return this.#lab.done || this.#lab.abortReason !== undefined || this.#ownAbort !== undefined;
  }

  #seal(message: SessionMessage): void {
    const envelope = this.#chain.seal(message.type as MessageType, message.body as CborValue, Date.now());
    this.#unacknowledged.push({ seq: envelope.header.seq, bytes: envelope.bytes });
  }

  /** Refuses what the relay handed out: this lab aborts the session, naming why. */
  #refuse(reason: string): void {
    this.#ownAbort = reason;
    this.#seal({ type: 'abort', body: { reason } });
  }

  /** Moves what was sealed and not yet stored into the outbox (and out of memory). */
  async #toOutbox(): Promise<void> {
    if (!this.#store) return;
    for (const entry of this.#unacknowledged) {
      if (entry.seq < this.#outboxUpTo || entry.bytes === undefined) continue;
      await this.#store.putOutbox(entry.seq, entry.bytes);
      delete entry.bytes;
    }
    this.#outboxUpTo = this.#chain.nextSeq;
  }

  /**
   * Writes the inputs of the tasks just answered and what was just sealed to the outbox, then
   * records the progress (write-ahead).
   */
  async #persist(): Promise<void> {
    await this.#inputs?.flush();
    await this.#toOutbox();
    if (!this.#store) return;
    const last = this.#chain.last;
    await this.#store.saveProgress({
      seq: this.#chain.nextSeq,
      ...(last && { prev: toHex(last.hash) }),
      joined: this.#joined,
      started: this.#started,
      inboxAfter: this.#after,
      answered: this.#lab.answered,
      digests: this.#lab.digests,
      proved: this.#lab.proved,
    });
  }

  /**
   * Posts every envelope without a receipt, in chain order (the relay answers a resend with the
   * original receipt). A 409 SESSION_CLOSED means the session ended meanwhile (another lab aborted
   * it, its deadline passed): nothing more can be sent, and the inbox says how it ended.
   */
  async #flush(onSent?: () => void): Promise<void> {
    const { client, signal } = this.#options;
    if (this.#closed) this.#unacknowledged.length = 0;
    while (this.#unacknowledged.length > 0) {
      signal?.throwIfAborted();
      const next = this.#unacknowledged[0] as Unacknowledged;
      const bytes = next.bytes ?? (await (this.#store as LabStateStore).readOutbox(next.seq));
      try {
        await client.postEnvelope(this.#sessionHex, bytes);
      } catch (error) {
        if (error instanceof ClientError && error.relayCode === 'QUOTA_EXCEEDED') {
          // The chunks this lab holds at the relay for sessions not all joined are at its quota
          // (spec/relay-api.md §5): the same chunk is taken once this session's labs have joined.
          await this.#waitForJoins();
          continue;
        }
        if (!(error instanceof ClientError && error.relayCode === 'SESSION_CLOSED')) throw error;
        this.#closed = true;
        this.#unacknowledged.length = 0;
        return;
      }
      this.#unacknowledged.shift();
      await this.#store?.dropOutbox(next.seq);
      onSent?.();
    }
  }

  /**
   * Waits until the session is no longer joining (every lab joined, or it ended: the next post then
   * says so). Polled: no answer of the relay says when a lab joins.
   */
  async #waitForJoins(): Promise<void> {
    const { client, signal } = this.#options;
    for (;;) {
      signal?.throwIfAborted();
      if ((await client.sessionStatus(this.#sessionHex)).state !== 'joining') return;
      await new Promise((resolve) => setTimeout(resolve, JOIN_POLL_MS));
    }
  }

  /** The message an inbox item stands for (inbox-message.ts), or undefined after refusing it. */
  #messageOf(item: InboxItem): LabInput | undefined {
    const message = inboxMessage(item, this.#options);
    if ('refused' in message) {
      this.#refuse(message.refused);
      return undefined;
    }
    return message;
  }
}

/** How often a lab whose held chunks are at the relay's quota asks whether the session's labs have joined. */
const JOIN_POLL_MS = 2_000;

/** The lab's last sealed envelope: as the store recorded it on resume, else the proposal (for the proposer), else none. */
function lastSealed(resumed: Resumed | undefined, previous: ChainState | undefined): ChainState | undefined {
  if (resumed) return resumed.prev === undefined ? undefined : { seq: resumed.seq - 1, hash: fromHex(resumed.prev) };
  return previous;
}
