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
 * tried) is reported, and tried again at the next checkpoint. A round that leaves some witness out
 * is followed, while no checkpoint is newer, by top-up rounds (after 1 s, doubling up to a minute)
 * that ask only the witnesses missing, and add their cosignatures to the same note: a lab whose
 * policy needs a witness that was down is not kept waiting for the next upload.
 *
 * A witness that says it holds a smaller size than one it cosigned for this relay has forgotten (or
 * lies): it is reported, never brought back up with a proof from its smaller size — that would
 * have it cosign this log again from a point it had passed.
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
  verifiedLineOf,
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
  /** The largest size it cosigned for this relay (0: none yet, this run). */
  cosignedSize: number;
  /** Skipped until then (ms since the epoch) after failing to answer; the skip doubles. */
  skipUntil: number;
  skipMs: number;
}

const MAX_SKIP_MS = 60_000;
/** Answers are read up to this many bytes (a cosignature line is under 200). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The checkpoint being cosigned: the log's signed note and the cosignatures collected for it. */
interface Round {
  size: number;
  text: string;
  logSignatures: NoteSignature[];
  cosignatures: Map<string, NoteSignature[]>;
}

export class WitnessSubmitter {
  readonly #o: WitnessSubmitterOptions;
  readonly #states: WitnessState[];
  #witnessed: Round | undefined;
  #round: Promise<void> | undefined;
  #topUp: NodeJS.Timeout | undefined;
  #topUpMs = 1000;
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
      return { witness, name: verifier.name, verifier, size: 0, cosignedSize: 0, skipUntil: 0, skipMs: 1000 };
    });
  }

  /** The witnesses' names, in configuration order. */
  get names(): string[] {
    return this.#states.map((s) => s.name);
  }

  /** The newest checkpoint at least one witness cosigned, with every cosignature of its round. */
  get witnessed(): WitnessedCheckpoint | undefined {
    const round = this.#witnessed;
    if (round === undefined) return undefined;
    const cosignedBy = this.#states.filter((s) => round.cosignatures.has(s.name)).map((s) => s.name);
    const cosignatures = cosignedBy.flatMap((name) => round.cosignatures.get(name) ?? []);
    return {
      size: round.size,
      note: formatSignedNote({ text: round.text, signatures: [...round.logSignatures, ...cosignatures] }),
      cosignedBy,
    };
  }

  /** A checkpoint was committed: a round starts now, or after the one running. */
  notify(): void {
    if (this.#closed || this.#states.length === 0) return;
    clearTimeout(this.#topUp);
    this.#topUp = undefined;
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
    clearTimeout(this.#topUp);
    for (const abort of this.#aborts) abort.abort();
    await this.#round?.catch(() => {});
  }

  async #run(): Promise<void> {
    const latest = this.#o.latest();
    let round = this.#witnessed;
    if (round === undefined || round.size < latest.size) {
      if (latest.size === 0) return;
      const signed = parseSignedNote(latest.note);
      round = { size: latest.size, text: signed.text, logSignatures: signed.signatures, cosignatures: new Map() };
    }
    const target = round;
    const note = formatSignedNote({ text: target.text, signatures: target.logSignatures });
    const now = Date.now();
    const asked = this.#states.filter((s) => !target.cosignatures.has(s.name) && s.skipUntil <= now);
    const answers = await Promise.all(asked.map((state) => this.#submit(state, target.size, note, target.text)));
    if (this.#closed) return;
    asked.forEach((state, i) => {
      const lines = answers[i];
      if (lines !== undefined) target.cosignatures.set(state.name, lines);
    });
    if (target !== this.#witnessed && target.cosignatures.size > 0) this.#witnessed = target;
    this.#scheduleTopUp(target);
  }

  /** While some witness has not cosigned the newest checkpoint, asks again later (unless a commit does first). */
  #scheduleTopUp(round: Round): void {
    if (round.cosignatures.size === this.#states.length) {
      this.#topUpMs = 1000;
      return;
    }
    const delay = this.#topUpMs;
    this.#topUpMs = Math.min(MAX_SKIP_MS, this.#topUpMs * 2);
    this.#topUp = setTimeout(() => this.notify(), delay);
    this.#topUp.unref();
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
        const heldSize = Number(held[1]);
        if (heldSize < state.cosignedSize) {
          // It cosigned a larger checkpoint of this log: it has lost its state (or lies). Not resynced.
          return this.#report(state, {
            outcome: 'bad_answer',
            status: 409,
            detail: `the witness says it holds size ${heldSize}, but it cosigned size ${state.cosignedSize}: it has lost its state`,
            size,
          });
        }
        state.size = heldSize;
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
      // Exactly one line is passed on: one of its own key that verifies on its own. Anything else it
      // sent (more lines under its name, other keys' lines) is not the relay's to pass on: it could
      // push the served note over the signature limit, or cancel the witness's own cosignature.
      let line: NoteSignature | undefined;
      try {
        line = verifiedLineOf(text, parseSignatureLines(answer.body), state.verifier);
      } catch (error) {
        return this.#report(state, { outcome: 'bad_answer', status: 200, detail: (error as Error).message, size });
      }
      if (line === undefined)
        return this.#report(state, { outcome: 'bad_answer', status: 200, detail: 'no cosignature of its key', size });
      state.size = size;
      state.cosignedSize = Math.max(state.cosignedSize, size);
      this.cosigned.set(state.name, (this.cosigned.get(state.name) ?? 0) + 1);
      this.#o.onEvent?.({ witness: state.name, outcome: 'cosigned', size });
      return [line];
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
      const body = await readCapped(response, MAX_ANSWER_BYTES);
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

/** The answer's body as text, reading no more than `max` bytes of it (the rest is cancelled). */
async function readCapped(response: Response, max: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}
