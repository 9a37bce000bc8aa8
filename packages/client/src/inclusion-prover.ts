/**
 * Inclusion before action (spec/relay-api.md §7): a lab acts on nothing the relay hands it — a blind
 * task's source, a proof request, a challenge, result rows, an abort, the membership, a proposal —
 * until it has proven that envelope's bytes are at its log index in a checkpoint it verified and
 * proved consistent with the one it remembers (log-monitor.ts). An envelope the relay never logged
 * (a proxy holding the relay's key that rewrote an answer) cannot be proven, and is refused.
 *
 * With a witness policy, result rows and aborts (what a lab acts on outside the protocol) wait for a
 * checkpoint that covers them and carries cosignatures from `quorum` of the lab's witnesses: a relay
 * that shows this lab a history the others do not see needs a quorum of witnesses to cosign it too.
 * The checkpoint is `GET /v1/log/witnessed`, asked again every `pollMs` until `waitMs` has passed.
 */
import {
  type Checkpoint,
  checkWitnessPolicy,
  leafHash,
  policyCosigners,
  verifyInclusion,
  type WitnessPolicy,
} from '@overlap/log';
import { ClientError } from './errors.js';
import type { LogMonitor } from './log-monitor.js';
import { sleep } from './retry.js';

export type { WitnessPolicy };

export interface InclusionProverOptions {
  monitor: LogMonitor;
  /** The relay's latest signed checkpoint note. */
  latestNote: () => Promise<string>;
  /** The relay's witnessed checkpoint note, or undefined while it has none (404). */
  witnessedNote: () => Promise<string | undefined>;
  /** The inclusion proof of entry `index` in the tree of `size`. */
  inclusionProof: (index: number, size: number) => Promise<readonly Uint8Array[]>;
  policy?: WitnessPolicy;
  /** How long to wait for a witnessed checkpoint that covers an entry (default 10 minutes). */
  waitMs?: number;
  /** How often to ask again meanwhile (default 2 s). */
  pollMs?: number;
  signal?: AbortSignal;
}

export class InclusionProver {
  readonly #o: InclusionProverOptions;
  /** The newest checkpoint verified (and remembered): entries below its size need no new note. */
  #covering: Checkpoint | undefined;

  constructor(options: InclusionProverOptions) {
    if (options.policy !== undefined) {
      try {
        checkWitnessPolicy(options.policy); // a policy built by hand: quorum 0 or a witness twice would count for nothing
      } catch (cause) {
        throw new ClientError('BAD_ARGUMENT', (cause as Error).message, { cause });
      }
    }
    this.#o = options;
  }

  get policy(): WitnessPolicy | undefined {
    return this.#o.policy;
  }

  /**
   * Proves `bytes` are the log's entry `index`; `what` names it in errors. With `witnessed` and a
   * policy, in a checkpoint the policy's quorum cosigned. Returns the checkpoint it is proven in.
   */
  async prove(index: number, bytes: Uint8Array, what: string, witnessed = false): Promise<Checkpoint> {
    const checkpoint =
      witnessed && this.#o.policy !== undefined
        ? await this.#witnessedCovering(index, what)
        : await this.#latestCovering(index, what);
    const proof = await this.#o.inclusionProof(index, checkpoint.size);
    if (!verifyInclusion(leafHash(bytes), index, checkpoint.size, proof, checkpoint.rootHash)) {
      throw new ClientError(
        'NOT_INCLUDED',
        `the ${what} the relay handed out as log entry ${index} is not that entry of its log (checkpoint ${checkpoint.size}): refusing to act on it`,
      );
    }
    return checkpoint;
  }

  async #latestCovering(index: number, what: string): Promise<Checkpoint> {
    if (this.#covering !== undefined && this.#covering.size > index) return this.#covering;
    const checkpoint = await this.#o.monitor.checkNote(await this.#o.latestNote());
    if (checkpoint.size <= index) {
      throw new ClientError(
        'NOT_INCLUDED',
        `the relay handed out a ${what} as log entry ${index}, but its latest checkpoint has ${checkpoint.size} entries`,
      );
    }
    this.#covering = checkpoint;
    return checkpoint;
  }

  async #witnessedCovering(index: number, what: string): Promise<Checkpoint> {
    const policy = this.#o.policy as WitnessPolicy;
    const deadline = Date.now() + (this.#o.waitMs ?? 600_000);
    let last = 'the relay has no witnessed checkpoint yet';
    for (;;) {
      this.#o.signal?.throwIfAborted();
      const note = await this.#o.witnessedNote();
      if (note !== undefined) {
        const cosigned = policyCosigners(note, policy);
        const checkpoint = await this.#o.monitor.checkNote(note);
        if (checkpoint.size > index && cosigned.length >= policy.quorum) {
          if (this.#covering === undefined || this.#covering.size < checkpoint.size) this.#covering = checkpoint;
          return checkpoint;
        }
        last = `the newest witnessed checkpoint has ${checkpoint.size} entries, cosigned by ${cosigned.length === 0 ? 'none of them' : cosigned.join(', ')}`;
      }
      if (Date.now() >= deadline) {
        throw new ClientError(
          'WITNESS_QUORUM_UNMET',
          `no checkpoint covering the ${what} (log entry ${index}) was cosigned by ${policy.quorum} of this lab's witnesses (${policy.witnesses.map((w) => w.name).join(', ')}) within ${Math.round((this.#o.waitMs ?? 600_000) / 1000)} s: ${last}. Not acting on it`,
        );
      }
      await sleep(this.#o.pollMs ?? 2000, this.#o.signal);
    }
  }
}
