/**
 * The relay's in-memory state (the Merkle tree, the log writer, the core's sessions, chains and
 * membership, the read model), built from the database — and built again when a write fails.
 *
 * A write that fails (a full disk, an I/O error) leaves the memory ahead of the database: the tree
 * holds entries that did not commit, the sessions and chains have moved past them. Rather than
 * serve that state, or refuse everything until an operator restarts the relay, the runtime throws
 * it away and rebuilds it from the database at once (recovery.ts, the same replay a start does;
 * it only reads). What the relay then believes is exactly what it has committed, so a client's
 * retry of the very bytes that failed is accepted as if they were new.
 *
 * While it rebuilds, every request but `/metrics` and `/openapi.json` is answered 503
 * `STORAGE_UNAVAILABLE`. After a failure, writes are refused with the same code and a
 * `Retry-After` for a while (1 s, doubling with each failure in a row up to 30 s): each failed
 * write costs a rebuild, and a full disk stays full for a while. The first write after that wait is
 * the probe: it commits (the relay is writable again, the count of failures in a row goes back to
 * 0) or fails (another rebuild, a longer wait). Reads keep working throughout, from the rebuilt
 * state. `/healthz` answers 503 while the relay cannot write, and `/metrics` counts the failures.
 * The relay's own writes (a deadline's abort) wait out the refusal too (RelayCore's
 * `writesRefusedUntil`), so a rebuilt state's expired sessions do not each probe a full disk.
 *
 * A state that cannot be rebuilt (the database cannot be read back) is fatal: nothing could be
 * served truthfully any more, so the runtime says so once (`onFatal`) and the server stops, instead
 * of answering 503 for ever. A write that fails while the relay shuts down starts no rebuild.
 */
import type { MerkleTree, NoteSigner } from '@overlap/log';
import { RelayError } from './errors.js';
import type { GroupCheckScheduler } from './group-check-scheduler.js';
import type { RelayLimits } from './limits.js';
import { Membership } from './membership.js';
import { RelayCore, type RelayIdentity } from './relay.js';
import type { BlobFiles } from './store/blob-files.js';
import type { Db } from './store/database.js';
import { type CommitVisible, LogWriter, storageReason } from './store/log-writer.js';
import { ReadModel } from './store/read-model.js';
import { loadTree, replayLog } from './store/recovery.js';
import { committedEnvelopeReader } from './store/stored-tag-archive.js';

const FIRST_WAIT_S = 1;
const LONGEST_WAIT_S = 30;

export interface RelayRuntimeOptions {
  db: Db;
  blobs: BlobFiles;
  identity: RelayIdentity;
  signer: NoteSigner;
  adminPublicKey: Uint8Array;
  limits: RelayLimits;
  now: () => number;
  /** Where the expensive checks run (group-check-scheduler.ts); kept across rebuilds. */
  checks?: GroupCheckScheduler;
  /** Charges time of the relay's threads to a key (KeyBudgets.chargeCpu). */
  chargeCpu?: (key: string, ms: number) => void;
  /** Inbox items and session proposals a commit made visible (the long polls to wake). */
  onCommitted: (visible: CommitVisible) => void;
  /** What the operator is told: a write failed, the state was rebuilt, writes work again. */
  onEvent: (line: string) => void;
  /** The state cannot be rebuilt: the relay must stop (server.ts closes it and reports the error). */
  onFatal: (error: RelayError) => void;
}

interface State {
  tree: MerkleTree;
  writer: LogWriter;
  core: RelayCore;
  reads: ReadModel;
}

export class RelayRuntime {
  readonly #o: RelayRuntimeOptions;
  #state: State;
  #rebuilding: Promise<void> | undefined;
  /** Failed writes since the last one that committed. */
  #failuresInARow = 0;
  #failuresTotal = 0;
  /** Until when (ms, the relay's clock) writes are refused after a failure. */
  #refuseUntil = 0;
  /** The last failure's short reason (an error code, never a path or a value). */
  #reason: string | undefined;
  /** Set by `close`: a failure then is recorded, not rebuilt from. */
  #closing = false;
  #fatal: RelayError | undefined;

  private constructor(o: RelayRuntimeOptions, state: State) {
    this.#o = o;
    this.#state = state;
  }

  /** The state of the database, in memory. */
  static async open(o: RelayRuntimeOptions): Promise<RelayRuntime> {
    const runtime = new RelayRuntime(o, undefined as unknown as State);
    runtime.#state = await runtime.#build();
    return runtime;
  }

  get core(): RelayCore {
    this.#assertBuilt();
    return this.#state.core;
  }

  get reads(): ReadModel {
    this.#assertBuilt();
    return this.#state.reads;
  }

  /** What /metrics shows; answered while rebuilding too (from the state being replaced, whose log size is what committed). */
  gauges(): { logSize: number; sessions: Record<string, number>; writable: boolean; storageFailures: number } {
    const { reads } = this.#state;
    return {
      logSize: reads.latest.size,
      sessions: reads.sessionCounts(),
      writable: this.writable,
      storageFailures: this.#failuresTotal,
    };
  }

  /** Whether the last write committed (or none has failed since the start). */
  get writable(): boolean {
    return this.#failuresInARow === 0 && this.#rebuilding === undefined;
  }

  /** Throws 503 STORAGE_UNAVAILABLE, with a Retry-After, while writes are refused. */
  assertWritable(): void {
    this.#assertBuilt();
    const waitMs = this.#refuseUntil - this.#o.now();
    if (waitMs > 0) {
      throw new RelayError(
        'STORAGE_UNAVAILABLE',
        `the relay cannot write its log (${this.#reason}); writes are refused for now, reads work`,
        { retryAfter: Math.ceil(waitMs / 1000) },
      );
    }
  }

  /** Throws 503 STORAGE_UNAVAILABLE while the relay cannot write (for /healthz). */
  assertHealthy(): void {
    this.#assertBuilt();
    if (this.#failuresInARow > 0) {
      throw new RelayError(
        'STORAGE_UNAVAILABLE',
        `the relay cannot write its log (${this.#reason}; ${this.#failuresInARow} failed write${this.#failuresInARow === 1 ? '' : 's'} in a row)`,
        { retryAfter: Math.max(1, Math.ceil((this.#refuseUntil - this.#o.now()) / 1000)) },
      );
    }
  }

  /**
   * Shuts down: stops the sessions' deadline timers and resolves when every write queued so far is
   * committed or failed (a failure now starts no rebuild). Never rejects.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#state.core.stopDeadlines();
    await this.#rebuilding?.catch(() => {});
    await this.#state.core.drain().catch(() => {});
  }

  /** Throws 503 STORAGE_UNAVAILABLE while the state is being rebuilt (every route that reads it). */
  assertBuilt(): void {
    this.#assertBuilt();
  }

  #assertBuilt(): void {
    if (this.#fatal !== undefined) {
      throw new RelayError('STORAGE_UNAVAILABLE', 'the relay cannot read its own database back and is stopping', {
        retryAfter: 30,
      });
    }
    if (this.#rebuilding !== undefined) {
      throw new RelayError(
        'STORAGE_UNAVAILABLE',
        `the relay is rebuilding its state after a failed write (${this.#reason})`,
        { retryAfter: 1 },
      );
    }
  }

  async #build(): Promise<State> {
    const { db, blobs, identity, signer, limits, now } = this.#o;
    const tree = loadTree(db);
    const writer = new LogWriter({
      db,
      blobs,
      tree,
      signer,
      origin: identity.origin,
      now,
      onCommitted: (visible) => {
        if (this.#failuresInARow > 0) this.#o.onEvent('a write committed: the relay can write its log again');
        this.#failuresInARow = 0;
        this.#refuseUntil = 0;
        this.#o.onCommitted(visible);
      },
      onFailed: (error) => this.#failed(writer, error),
    });
    const membership = new Membership(this.#o.adminPublicKey);
    const readEnvelope = committedEnvelopeReader(db, blobs);
    const core = new RelayCore({
      writer,
      membership,
      identity,
      limits,
      now,
      readEnvelope,
      writesRefusedUntil: () => this.#refuseUntil,
      ...(this.#o.checks && { checks: this.#o.checks }),
      ...(this.#o.chargeCpu && { chargeCpu: this.#o.chargeCpu }),
    });
    await replayLog(core, db, blobs, membership);
    const reads = new ReadModel({
      db,
      blobs,
      tree,
      writer,
      membership,
      sessions: core.sessions,
      identity: core.identity,
      limits,
    });
    return { tree, writer, core, reads };
  }

  #failed(writer: LogWriter, error: unknown): void {
    if (writer !== this.#state.writer) return; // a writer already replaced
    this.#failuresInARow++;
    this.#failuresTotal++;
    this.#reason = storageReason(error);
    const waitS = Math.min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** (this.#failuresInARow - 1));
    this.#refuseUntil = this.#o.now() + waitS * 1000;
    this.#state.core.stopDeadlines();
    const failure = `a write failed (${(error as Error)?.message ?? error})`;
    if (this.#closing) {
      // Shutting down: nothing will be served from a rebuilt state; the next start replays what committed.
      this.#o.onEvent(`${failure} while shutting down; the next start replays what committed`);
      return;
    }
    this.#o.onEvent(`${failure}; rebuilding the state from the database, writes refused for ${waitS} s`);
    const rebuilding = this.#build().then(
      (state) => {
        this.#state = state;
        this.#rebuilding = undefined;
        this.#o.onEvent(`state rebuilt from the database: log size ${state.writer.latest.size}`);
      },
      (cause) => {
        // The database cannot be read back either: nothing can be served truthfully any more.
        this.#fatal = new RelayError(
          'STORAGE_CORRUPT',
          `the relay's state cannot be rebuilt from its database after a failed write: ${(cause as Error)?.message ?? cause}`,
          { cause },
        );
        this.#rebuilding = undefined;
        this.#o.onFatal(this.#fatal);
      },
    );
    this.#rebuilding = rebuilding;
  }
}
