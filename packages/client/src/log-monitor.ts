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
 */
import {
  type Checkpoint,
  type NoteVerifier,
  parseCheckpoint,
  type Receipt,
  requireConsistent,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import { ClientError } from './errors.js';

/** Fetches the proof that the tree of size `from` is a prefix of the tree of size `to`. */
export type ConsistencyFetcher = (from: number, to: number) => Promise<readonly Uint8Array[]>;

export class LogMonitor {
  readonly #verifier: NoteVerifier;
  readonly #fetchConsistency: ConsistencyFetcher;
  #largest: Checkpoint | undefined;
  /** Updates run one at a time, so that the answers of concurrent requests cannot interleave them. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(verifier: NoteVerifier, fetchConsistency: ConsistencyFetcher) {
    this.#verifier = verifier;
    this.#fetchConsistency = fetchConsistency;
  }

  /** The largest checkpoint verified so far. */
  get largest(): Checkpoint | undefined {
    return this.#largest;
  }

  /** Verifies `receipt` for `leaf` (the bytes posted), then its checkpoint against the others. */
  async checkReceipt(leaf: Uint8Array, receipt: Receipt): Promise<Checkpoint> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = verifyReceipt(leaf, receipt, [this.#verifier]);
    } catch (cause) {
      throw new ClientError('RECEIPT_INVALID', `the receipt for log entry ${receipt.index} does not verify`, { cause });
    }
    await this.#observe(checkpoint);
    return checkpoint;
  }

  /** Verifies a signed checkpoint note, then checks it against the others. */
  async checkNote(note: string): Promise<Checkpoint> {
    let checkpoint: Checkpoint;
    try {
      const { text, verifiedBy } = verifySignedNote(note, [this.#verifier]);
      checkpoint = parseCheckpoint(text);
      // As verifyReceipt does: the log signs under its origin, and no key vouches for another log.
      if (!verifiedBy.includes(checkpoint.origin)) throw new Error(`not signed by a key named ${checkpoint.origin}`);
    } catch (cause) {
      throw new ClientError('RECEIPT_INVALID', 'the checkpoint does not verify against the log key', { cause });
    }
    await this.#observe(checkpoint);
    return checkpoint;
  }

  #observe(next: Checkpoint): Promise<void> {
    const run = this.#queue.then(() => this.#advance(next));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #advance(next: Checkpoint): Promise<void> {
    const last = this.#largest;
    if (last === undefined) {
      this.#largest = next;
      return;
    }
    const [older, newer] = next.size >= last.size ? [last, next] : [next, last];
    const proof = older.size > 0 && older.size < newer.size ? await this.#fetchConsistency(older.size, newer.size) : [];
    try {
      requireConsistent(older, newer, proof);
    } catch (cause) {
      throw new ClientError(
        'RECEIPT_INVALID',
        `checkpoint ${next.size} is not consistent with checkpoint ${last.size}: the log was rewritten or forked`,
        { cause },
      );
    }
    this.#largest = newer;
  }
}
