/**
 * A witness: judges each `add-checkpoint` (add-checkpoint.ts) against its state, records an
 * accepted checkpoint durably, then cosigns it (C2SP tlog-cosignature/v1, Ed25519, signature type
 * 0x04) with its own key. Requests are judged one at a time, each judgement and its write
 * together, so that two requests can never both pass against the same old checkpoint (the race
 * c2sp.org/tlog-witness warns of, which would roll the witness back).
 *
 * A witness whose state cannot be written stops cosigning (every later request is answered 503)
 * until it is restarted: its memory and its disk would otherwise disagree.
 */

import { signingPublicKey } from '@overlap/crypto';
import { ED25519_COSIGNATURE_TYPE, ed25519Cosigner, formatVerifierKey, parseSignedNote, signNote } from '@overlap/log';
import { judgeAddCheckpoint, type TrustedLog } from './add-checkpoint.js';
import { WitnessError } from './errors.js';
import type { WitnessState } from './witness-state.js';

export interface WitnessOptions {
  /** The witness's name (its cosignatures' key name), e.g. `witness.lab-a.example`. */
  name: string;
  /** The witness's Ed25519 secret key (what @overlap/crypto's signing key pair holds). */
  secretKey: Uint8Array;
  /** The logs it witnesses. */
  logs: readonly TrustedLog[];
  state: WitnessState;
  /** The clock of its timestamps (default: the system's). */
  now?: () => Date;
  /** Told of every refusal and every evidence kept, for the operator's log. */
  onRefusal?: (refusal: { status: number; reason: string; origin?: string; evidenceKept?: boolean }) => void;
}

export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** The verifier key (C2SP vkey, signature type 0x04) of the cosignatures made under `name` with `secretKey`. */
export function witnessVkey(name: string, secretKey: Uint8Array): string {
  try {
    return formatVerifierKey(name, signingPublicKey(secretKey), ED25519_COSIGNATURE_TYPE);
  } catch (cause) {
    throw new WitnessError('BAD_CONFIG', `cannot use the witness name or key: ${(cause as Error).message}`, { cause });
  }
}

export class Witness {
  readonly name: string;
  /** The verifier key of its cosignatures (C2SP vkey, signature type 0x04), to give to the log and its readers. */
  readonly vkey: string;
  readonly #secretKey: Uint8Array;
  readonly #logs: ReadonlyMap<string, TrustedLog>;
  readonly #state: WitnessState;
  readonly #now: () => Date;
  readonly #onRefusal: NonNullable<WitnessOptions['onRefusal']>;
  #queue: Promise<unknown> = Promise.resolve();
  #failed: WitnessError | undefined;
  #closing = false;

  constructor(options: WitnessOptions) {
    const logs = new Map<string, TrustedLog>();
    for (const log of options.logs) {
      if (logs.has(log.origin)) throw new WitnessError('BAD_CONFIG', `the log ${log.origin} is configured twice`);
      logs.set(log.origin, log);
    }
    this.vkey = witnessVkey(options.name, options.secretKey);
    if (options.state.vkey !== this.vkey)
      throw new WitnessError(
        'STATE_MISMATCH',
        `the state in ${options.state.dir} belongs to the witness ${options.state.vkey}, not to ${this.vkey}: each witness key has a state of its own`,
      );
    this.name = options.name;
    this.#secretKey = options.secretKey;
    this.#logs = logs;
    this.#state = options.state;
    this.#now = options.now ?? (() => new Date());
    this.#onRefusal = options.onRefusal ?? (() => {});
  }

  /**
   * Stops taking requests and resolves once the one being judged (and its write) is done: only
   * then may its state directory be let go, or a successor could read the state before that write.
   */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#queue;
  }

  /** Answers one `add-checkpoint` body; requests are taken one at a time. */
  addCheckpoint(body: string): Promise<WitnessAnswer> {
    const run = this.#queue.then(() => this.#addCheckpoint(body));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #addCheckpoint(body: string): Promise<WitnessAnswer> {
    if (this.#closing) return text(503, 'the witness is stopping');
    if (this.#failed !== undefined)
      return text(503, 'the witness cannot write its state; its operator must restart it');
    const judgement = judgeAddCheckpoint(body, this.#logs, (origin) => this.#state.latest(origin));
    if (judgement.status !== 200) {
      let evidenceKept: boolean | undefined;
      if (judgement.evidence !== undefined) {
        evidenceKept = await this.#state
          .keepEvidence(judgement.evidence.origin, judgement.evidence.cosigned, body, this.#now())
          .catch(() => false);
      }
      this.#onRefusal({
        status: judgement.status,
        reason: judgement.reason,
        ...(judgement.evidence && { origin: judgement.evidence.origin }),
        ...(evidenceKept !== undefined && { evidenceKept }),
      });
      // Either 409 (an old size that is not the witness's, or another root at its size) says the
      // size the witness holds, as C2SP requires of the first, so that a log can retry from it.
      if (judgement.latestSize !== undefined) {
        return { status: 409, contentType: 'text/x.tlog.size', body: `${judgement.latestSize}\n` };
      }
      return text(judgement.status, judgement.reason);
    }
    try {
      await this.#state.record({ checkpoint: judgement.checkpoint, note: judgement.note });
    } catch (error) {
      this.#failed = error instanceof WitnessError ? error : new WitnessError('STORAGE_FAILED', String(error));
      // The detail (a path, an errno) is the operator's: told through onRefusal, not to the client.
      this.#onRefusal({ status: 503, reason: this.#failed.message });
      return text(503, 'the witness cannot write its state; its operator must restart it');
    }
    const timestamp = Math.floor(this.#now().getTime() / 1000);
    const { text: checkpointText } = parseSignedNote(judgement.note);
    const cosigned = signNote(checkpointText, [ed25519Cosigner(this.name, this.#secretKey, timestamp)]);
    // The answer is the signature lines alone: what follows the note's blank line.
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: cosigned.slice(checkpointText.length + 1) };
  }
}

function text(status: number, message: string): WitnessAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
}
