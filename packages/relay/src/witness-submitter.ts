/**
 * The relay's side of its witnesses (C2SP tlog-witness, spec/log.md §7): in the background, each
 * newest checkpoint is sent to every witness the forum configured, with a consistency proof from
 * the size that witness holds, and the cosignatures that come back are verified and kept with
 * the checkpoint; `GET /v1/log/witnessed` serves the newest checkpoint with them.
 *
 * Rounds: one checkpoint at a time is sent to all the witnesses at once, so that their
 * cosignatures are on the same checkpoint (a lab's policy counts k of them on one note). Commits
 * never wait for a round: a checkpoint committed meanwhile is the next round's (the ones between
 * are skipped — uploads may make thousands a minute). A witness that does not answer (down,
 * unreachable, past `timeoutMs`) is skipped for a while that doubles each time, up to a minute, so
 * a dead witness costs the rounds nothing; one that refuses (403, 404, 422, a 409 after its size was
 * tried) is reported, and tried again at the next checkpoint.
 *
 * Threat: none here against the labs — a relay can only collect what witnesses sign; the witnesses
 * and the labs' policies are what make a split view need a dishonest quorum.
 */
import {
  type CosignatureVerifier,
  ED25519_COSIGNATURE_TYPE,
  formatAddCheckpointRequest,
  formatSignedNote,
  type NoteSignature,
  parseSignatureLines,
  parseSignedNote,
  parseVerifierKey,
  verifySignedNote,
} from '@overlap/log';
import { RelayError } from './errors.js';

/** A witness the forum runs the relay with: where it listens and the key it cosigns with. */
export interface RelayWitness {
  /** Its base URL; `add-checkpoint` is posted to `<url>/add-checkpoint`. */
  url: string;
  /** Its cosigner verifier key (C2SP vkey, signature type 0x04): its name is the key's. */
  vkey: string;
}

export interface WitnessedCheckpoint {
  size: number;
  /** The log's signed note with the witnesses' cosignature lines added. */
  note: string;
  /** The witnesses whose cosignatures it carries. */
  cosignedBy: string[];
}

export interface WitnessEvent {
  witness: string;
  /** `cosigned`, or why not. */
  outcome: 'cosigned' | 'unreachable' | 'refused' | 'bad_answer';
  status?: number;
  detail?: string;
  size: number;
}

export interface WitnessSubmitterOptions {
  witnesses: readonly RelayWitness[];
  /** The newest committed checkpoint. */
  latest: () => { size: number; note: string };
  /** The consistency proof between two committed sizes. */
  consistencyProof: (from: number, to: number) => Uint8Array[];
  /** Per request (default 5 s). */
  timeoutMs?: number;
  onEvent?: (event: WitnessEvent) => void;
  fetch?: typeof fetch;
}

interface WitnessState {
  witness: RelayWitness;
  name: string;
  verifier: CosignatureVerifier;
  /** The size it holds, as far as the relay knows (0 until it says). */
  size: number;
  /** Skipped until then (ms since the epoch) after failing to answer; the skip doubles. */
  skipUntil: number;
  skipMs: number;
}

const MAX_SKIP_MS = 60_000;

export class WitnessSubmitter {
  readonly #o: WitnessSubmitterOptions;
  readonly #states: WitnessState[];
  #witnessed: WitnessedCheckpoint | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #aborts = new Set<AbortController>();
  /** Cosignatures collected and failures, by witness name, for /metrics. */
  readonly cosigned = new Map<string, number>();
  readonly failed = new Map<string, number>();

  constructor(options: WitnessSubmitterOptions) {
    this.#o = options;
    const names = new Set<string>();
    this.#states = options.witnesses.map((witness, i) => {
      let verifier: CosignatureVerifier;
      try {
        verifier = parseVerifierKey(witness.vkey, ED25519_COSIGNATURE_TYPE);
      } catch (cause) {
        throw new RelayError('BAD_CONFIG', `witness ${i + 1}: ${(cause as Error).message}`, { cause });
      }
      if (names.has(verifier.name)) throw new RelayError('BAD_CONFIG', `witness ${verifier.name} is configured twice`);
      names.add(verifier.name);
      try {
        new URL(witness.url);
      } catch (cause) {
        throw new RelayError('BAD_CONFIG', `witness ${verifier.name}: ${witness.url} is not a URL`, { cause });
      }
      return { witness, name: verifier.name, verifier, size: 0, skipUntil: 0, skipMs: 1000 };
    });
  }

  /** The witnesses' names, in configuration order. */
  get names(): string[] {
    return this.#states.map((s) => s.name);
  }

  /** The newest checkpoint at least one witness cosigned, with every cosignature of its round. */
  get witnessed(): WitnessedCheckpoint | undefined {
    return this.#witnessed;
  }

  /** A checkpoint was committed: a round starts now, or after the one running. */
  notify(): void {
    if (this.#closed || this.#states.length === 0) return;
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    this.#round = this.#run()
      .catch((error: unknown) => {
        // The state may be rebuilding after a failed write: the next commit starts another round.
        this.#o.onEvent?.({
          witness: '(every witness)',
          outcome: 'unreachable',
          detail: `no round: ${(error as Error).message}`,
          size: 0,
        });
      })
      .finally(() => {
        this.#round = undefined;
        if (this.#again) {
          this.#again = false;
          this.notify();
        }
      });
  }

  /** Resolves once the round in flight (if any) is over, and no other is due. */
  async settled(): Promise<void> {
    while (this.#round !== undefined) await this.#round;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const abort of this.#aborts) abort.abort();
    await this.#round?.catch(() => {});
  }

  async #run(): Promise<void> {
    const { size, note } = this.#o.latest();
    if (size === 0 || (this.#witnessed !== undefined && this.#witnessed.size >= size)) return;
    const signed = parseSignedNote(note);
    const now = Date.now();
    const answers = await Promise.all(
      this.#states.map((state) => (state.skipUntil > now ? undefined : this.#submit(state, size, note, signed.text))),
    );
    const cosignatures = answers.flatMap((lines) => lines ?? []);
    if (cosignatures.length === 0 || this.#closed) return;
    this.#witnessed = {
      size,
      note: formatSignedNote({ text: signed.text, signatures: [...signed.signatures, ...cosignatures] }),
      cosignedBy: this.#states.filter((_, i) => answers[i] !== undefined).map((s) => s.name),
    };
  }

  /** One witness's cosignature(s) of the checkpoint, verified; undefined if none. */
  async #submit(state: WitnessState, size: number, note: string, text: string): Promise<NoteSignature[] | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const old = state.size <= size ? state.size : 0;
      let answer: { status: number; body: string; type: string | null };
      try {
        answer = await this.#post(state, old, size, note);
      } catch (error) {
        state.skipUntil = Date.now() + state.skipMs;
        state.skipMs = Math.min(MAX_SKIP_MS, state.skipMs * 2);
        return this.#report(state, { outcome: 'unreachable', detail: (error as Error).message, size });
      }
      state.skipMs = 1000;
      if (answer.status === 409 && answer.type?.startsWith('text/x.tlog.size') && attempt === 0) {
        const held = /^(0|[1-9][0-9]*)\n$/.exec(answer.body);
        if (held === null)
          return this.#report(state, { outcome: 'bad_answer', status: 409, detail: 'not a size', size });
        state.size = Number(held[1]);
        if (state.size > size) {
          // The witness holds a larger tree than this relay has: it saw another history of this log.
          return this.#report(state, {
            outcome: 'refused',
            status: 409,
            detail: `the witness holds size ${state.size}, larger than the relay's ${size}`,
            size,
          });
        }
        continue;
      }
      if (answer.status !== 200) {
        return this.#report(state, {
          outcome: 'refused',
          status: answer.status,
          detail: answer.body.trim().slice(0, 200),
          size,
        });
      }
      let lines: NoteSignature[];
      try {
        lines = parseSignatureLines(answer.body);
        const { verifiedBy } = verifySignedNote(`${text}\n${answer.body}`, [state.verifier]);
        if (!verifiedBy.includes(state.name)) throw new Error('no cosignature of its key');
      } catch (error) {
        return this.#report(state, { outcome: 'bad_answer', status: 200, detail: (error as Error).message, size });
      }
      state.size = size;
      this.cosigned.set(state.name, (this.cosigned.get(state.name) ?? 0) + 1);
      this.#o.onEvent?.({ witness: state.name, outcome: 'cosigned', size });
      // Only its own key's lines (verified above): anything else it sent is not the relay's to pass on.
      return lines.filter((line) => line.name === state.name);
    }
    return undefined;
  }

  async #post(state: WitnessState, old: number, size: number, note: string) {
    const proof = old === 0 || old === size ? [] : this.#o.consistencyProof(old, size);
    const abort = new AbortController();
    this.#aborts.add(abort);
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${this.#o.timeoutMs ?? 5000} ms`)),
      this.#o.timeoutMs ?? 5000,
    );
    try {
      const response = await (this.#o.fetch ?? fetch)(`${state.witness.url.replace(/\/$/, '')}/add-checkpoint`, {
        method: 'POST',
        body: formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: note }),
        signal: abort.signal,
      });
      const body = (await response.text()).slice(0, 64 * 1024);
      return { status: response.status, body, type: response.headers.get('content-type') };
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(abort);
    }
  }

  #report(state: WitnessState, event: Omit<WitnessEvent, 'witness'>): undefined {
    this.failed.set(state.name, (this.failed.get(state.name) ?? 0) + 1);
    this.#o.onEvent?.({ witness: state.name, ...event });
    return undefined;
  }
}
