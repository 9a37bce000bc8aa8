/**
 * What a lab checks of the relay's log (spec/log.md §6, spec/relay-api.md §3): every receipt is an
 * inclusion proof of the bytes the lab posted in a checkpoint signed by the log's key, and every
 * checkpoint the lab sees is consistent with the largest one it has seen before. Threat: a relay
 * that drops, rewrites or forks its history, or shows different labs different logs, cannot
 * produce these proofs for both histories.
 *
 * A receipt may carry a checkpoint older than the last one seen (the relay answers a re-sent
 * envelope with its original receipt), so the smaller tree is proven a prefix of the larger,
 * whichever came first, and the larger is kept.
 *
 * With a memory (trust-store.ts), the checkpoint kept is the lab's, across runs and processes: each
 * new one is proven against the remembered one (and written only if no other process moved it
 * meanwhile, trust-store.ts), and one that contradicts it
 * — a proof that fails (a fork), or a relay that cannot prove a size it signed before (a rollback)
 * — is written as evidence (log-evidence.ts) and is `LOG_INCONSISTENT`, naming the file.
 */
import {
  type Checkpoint,
  type NoteVerifier,
  type Receipt,
  requireConsistent,
  verifyCheckpointNote,
  verifyReceipt,
} from '@overlap/log';
import { ClientError } from './errors.js';
import { writeLogEvidence } from './log-evidence.js';
import type { TrustStore } from './trust-store.js';

/** Fetches the proof that the tree of size `from` is a prefix of the tree of size `to`. */
export type ConsistencyFetcher = (from: number, to: number) => Promise<readonly Uint8Array[]>;

/** Where a lab remembers the log's checkpoint (its trust record for this relay), and keeps evidence. */
export interface CheckpointMemory {
  store: TrustStore;
  relayUrl: string;
  /** The log key the checkpoints are verified under (written into evidence). */
  logKey: string;
  evidenceDir: string;
}

interface Seen {
  checkpoint: Checkpoint;
  note: string;
}

export class LogMonitor {
  readonly #verifier: NoteVerifier;
  readonly #fetchConsistency: ConsistencyFetcher;
  readonly #memory: CheckpointMemory | undefined;
  #largest: Seen | undefined;
  /** Updates run one at a time, so that the answers of concurrent requests cannot interleave them. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(verifier: NoteVerifier, fetchConsistency: ConsistencyFetcher, memory?: CheckpointMemory) {
    this.#verifier = verifier;
    this.#fetchConsistency = fetchConsistency;
    this.#memory = memory;
  }

  /** The largest checkpoint verified so far (by this process). */
  get largest(): Checkpoint | undefined {
    return this.#largest?.checkpoint;
  }

  /** Verifies `receipt` for `leaf` (the bytes posted), then its checkpoint against the others. */
  async checkReceipt(leaf: Uint8Array, receipt: Receipt): Promise<Checkpoint> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = verifyReceipt(leaf, receipt, [this.#verifier]);
    } catch (cause) {
      throw new ClientError('RECEIPT_INVALID', `the receipt for log entry ${receipt.index} does not verify`, { cause });
    }
    await this.#observe({ checkpoint, note: receipt.checkpoint });
    return checkpoint;
  }

  /** Verifies a signed checkpoint note, then checks it against the others. */
  async checkNote(note: string): Promise<Checkpoint> {
    const checkpoint = this.#verifyNote(note);
    await this.#observe({ checkpoint, note });
    return checkpoint;
  }

  #verifyNote(note: string): Checkpoint {
    try {
      return verifyCheckpointNote(note, [this.#verifier]);
    } catch (cause) {
      throw new ClientError('RECEIPT_INVALID', 'the checkpoint does not verify against the log key', { cause });
    }
  }

  #observe(next: Seen): Promise<void> {
    const run = this.#queue.then(() => this.#advance(next));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #advance(next: Seen): Promise<void> {
    const memory = this.#memory;
    if (memory === undefined) {
      this.#largest = await this.#larger(this.#largest, next);
      return;
    }
    await memory.store.updateCheckpoint(memory.relayUrl, memory.logKey, async (rememberedNote) => {
      const remembered =
        rememberedNote === undefined
          ? undefined
          : { checkpoint: this.#verifyNote(rememberedNote), note: rememberedNote };
      const kept = await this.#larger(remembered, next);
      this.#largest = kept;
      return kept.note;
    });
  }

  /** The larger of two checkpoints once the smaller is proven its prefix; else the log contradicts itself. */
  async #larger(last: Seen | undefined, next: Seen): Promise<Seen> {
    if (last === undefined) return next;
    const [older, newer] = next.checkpoint.size >= last.checkpoint.size ? [last, next] : [next, last];
    const sizes = [older.checkpoint.size, newer.checkpoint.size] as const;
    let proof: readonly Uint8Array[] = [];
    if (sizes[0] > 0 && sizes[0] < sizes[1]) {
      try {
        proof = await this.#fetchConsistency(sizes[0], sizes[1]);
      } catch (cause) {
        // The relay signed a tree of this size and says it has no such tree (400: beyond its latest
        // checkpoint): its log went back. Any other failure (unreachable, another refusal) is no
        // proof of that, and is raised as it is.
        if (cause instanceof ClientError && cause.code === 'RELAY_REFUSED' && cause.status === 400) {
          throw await this.#contradiction(
            last,
            next,
            null,
            'rollback',
            `the relay cannot prove checkpoint ${sizes[0]} a prefix of checkpoint ${sizes[1]}, which it signed: ${cause.message}`,
            cause,
          );
        }
        throw cause;
      }
    }
    try {
      requireConsistent(older.checkpoint, newer.checkpoint, proof);
    } catch (cause) {
      throw await this.#contradiction(
        last,
        next,
        proof,
        'fork',
        `checkpoint ${next.checkpoint.size} is not consistent with checkpoint ${last.checkpoint.size}: the log was rewritten or forked`,
        cause,
      );
    }
    return newer;
  }

  async #contradiction(
    remembered: Seen,
    received: Seen,
    proof: readonly Uint8Array[] | null,
    kind: 'fork' | 'rollback',
    detail: string,
    cause: unknown,
  ): Promise<ClientError> {
    const memory = this.#memory;
    if (memory === undefined) return new ClientError('RECEIPT_INVALID', detail, { cause });
    const path = await writeLogEvidence(memory.evidenceDir, {
      relay: memory.relayUrl,
      log_key: memory.logKey,
      kind,
      remembered: remembered.note,
      received: received.note,
      proof,
      detail,
      found_at: new Date().toISOString(),
    });
    return new ClientError(
      'LOG_INCONSISTENT',
      `${detail}; evidence written to ${path} (check it: overlap audit evidence --file ${path})`,
      { cause },
    );
  }
}
