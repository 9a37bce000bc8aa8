/**
 * A lab's side of a session (spec/protocol.md §5), as a state machine: `start()` commits the set
 * sizes, the key and a coin, and uploads the lab's own set, hashed and blinded with a fresh session
 * key after a secret shuffle; `receive()` blinds the sets that the schedule routes through this lab,
 * reveals its coin when the relay asks, proves every hop it applied once the challenge fixes the
 * positions (§5.2), and at the end maps the result rows back to the lab's own indicators. The
 * session key is erased once the proofs are sent, or by `dispose()`.
 *
 * It checks what a lab can check: that a blind task is for a hop this lab owns, of a source the
 * previous hop signed (source-provenance.ts), that no tag is a low-order point, that the challenge
 * carries its own coin, and that every result row is for one of its own positions; anything else
 * aborts, naming the relay.
 *
 * Test seam: the protected methods `ownChunk`, `blindChunk`, `commitments`, `revealCoin` and
 * `proveChunk` are each one step of an honest lab. A test harness subclasses LabSession and
 * overrides one to build a cheating lab (copy a tag everywhere, skip the key, commit to another
 * key, withhold its coin, prove other positions); production code never overrides them.
 */
import {
  type BackendPreference,
  type BatchRunner,
  BlindingKey,
  blindBatch,
  CryptoError,
  challengeSeed,
  coinCommitment,
  equalBytes,
  fromHex,
  type HopProof,
  type HopProofContext,
  hashAndBlindBatch,
  keyCommitment,
  proveHop,
  provenPositions,
  sha256,
  toHex,
} from '@overlap/crypto';
import { type CborValue, encodeDeterministic } from '../cbor.js';
import { ProtocolError } from '../errors.js';
import { parseWithSchema } from '../validate.js';
import { itemsOf, shuffleWithPoints } from './hashed-sets.js';
import { type LabResult, readResultRows } from './lab-rows.js';
import type { LabSessionOptions, LabSessionState } from './lab-session-options.js';
import {
  type BlindTask,
  blindTaskSchema,
  challengeSchema,
  type Join,
  proofRequestSchema,
  type SessionMessage,
  type SessionProposal,
  sessionProposalSchema,
  type TagChunk,
} from './messages.js';
import { distinct } from './order.js';
import { hopLab } from './schedule.js';
import { provenanceProblem } from './source-provenance.js';
import type { StreamedResultRows } from './streamed-result-rows.js';
import { type ChunkPlace, InMemoryTagArchive, placeKey, type TagArchive } from './tag-archive.js';
import { DEFAULT_CHUNK_SIZE, eachTag, tagAt, tagCount } from './tags.js';

export type { LabResult } from './lab-rows.js';
export type { LabSessionOptions, LabSessionState } from './lab-session-options.js';

export class LabSession {
  readonly proposal: SessionProposal;
  readonly me: string;
  readonly #index: number;
  readonly #key: BlindingKey | undefined;
  readonly #coin: Uint8Array;
  readonly #shuffled = new Map<string, string[]>();
  /** Points of the own sets hashed ahead (options.hashed), in the secret order, until they are blinded. */
  readonly #hashed = new Map<string, Uint8Array>();
  readonly #results = new Map<string, LabResult[]>();
  readonly #chunkSize: number;
  readonly #pool: BatchRunner | undefined;
  readonly #backend: BackendPreference | undefined;
  readonly #sessionId: Uint8Array;
  readonly #publicKeyOf: (keyId: string) => Uint8Array | undefined;
  readonly #inputs: TagArchive;
  /** Blind tasks already answered, by owner|kind|hop|first, with their blind_result's digest D. */
  readonly #answered = new Map<string, { place: ChunkPlace; digest: Uint8Array }>();
  #revealed = false;
  #proved: boolean;
  #aborted: string | undefined;

  constructor(options: LabSessionOptions) {
    this.proposal = parseWithSchema(sessionProposalSchema, options.proposal, 'session proposal');
    this.me = options.me;
    this.#index = this.proposal.labs.indexOf(options.me);
    if (this.#index < 0) throw new ProtocolError('INVALID_MESSAGE', `${options.me} is not a lab of this session`);
    this.#chunkSize = this.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#pool = options.pool;
    this.#sessionId = Uint8Array.from(options.sessionId);
    this.#publicKeyOf = options.publicKeyOf;
    this.#backend = options.backend;
    this.#inputs = options.inputs ?? new InMemoryTagArchive();
    const { resume } = options;
    if (resume) {
      this.#proved = resume.proved;
      if (resume.key === undefined && !resume.proved) {
        throw new ProtocolError('INVALID_MESSAGE', 'the saved state has no key, and the proofs are not sent');
      }
      this.#key = resume.proved || resume.key === undefined ? undefined : BlindingKey.fromBytes(resume.key);
      this.#coin = Uint8Array.from(resume.coin);
      for (const kind of this.proposal.kinds) {
        const order = resume.order[kind];
        if (!order) throw new ProtocolError('INVALID_MESSAGE', `the saved state has no ${kind} set`);
        this.#shuffled.set(kind, [...order]);
      }
      for (const id of resume.answered) {
        const digest = resume.digests[id];
        if (digest === undefined) throw new ProtocolError('INVALID_MESSAGE', `the saved state has no digest for ${id}`);
        this.#answered.set(id, { place: placeOf(id), digest: fromHex(digest) });
      }
      for (const [kind, rows] of Object.entries(resume.results)) this.#results.set(kind, rows);
      return;
    }
    this.#proved = false;
    this.#key = BlindingKey.generate();
    this.#coin = globalThis.crypto.getRandomValues(new Uint8Array(32));
    for (const kind of this.proposal.kinds) {
      const values = distinct(Object.hasOwn(options.sets, kind) ? (options.sets[kind] ?? []) : []);
      if (values.length > this.proposal.maxItemsPerKind) {
        throw new ProtocolError(
          'INVALID_MESSAGE',
          `${values.length} ${kind} values exceed the cap of ${this.proposal.maxItemsPerKind}`,
        );
      }
      const { order, points } = shuffleWithPoints(values, options.hashed?.get(kind));
      this.#shuffled.set(kind, order);
      if (points !== undefined) this.#hashed.set(kind, points);
    }
  }

  /** The join (committed sizes, key and coin) and the lab's own set, hashed, blinded and chunked. */
  async start(): Promise<SessionMessage[]> {
    const out: SessionMessage[] = [];
    for await (const message of this.opening()) out.push(message);
    return out;
  }

  /**
   * What `start()` answers, one message at a time as the chunks fill: a caller that sends or
   * stores each chunk before asking for the next holds one chunk, not the whole set (32 MB per
   * million items). Hashing and blinding are deterministic given the key and the order, so a
   * lab resumed from `state()` produces the same tags again. Chunks are cut as the proposal
   * fixes (§5.1).
   */
  async *opening(): AsyncGenerator<SessionMessage, void, undefined> {
    const sizes: Join['sizes'] = {};
    for (const [kind, values] of this.#shuffled) sizes[kind] = values.length;
    yield { type: 'join', body: { sizes, ...this.commitments() } };
    for (const [kind, values] of this.#shuffled) {
      // Tags go straight into packed chunks: a million-item set is 32 MB of chunks, not a million
      // small arrays.
      let chunk = new Uint8Array(Math.min(this.#chunkSize, values.length) * 32);
      let filled = 0;
      let first = 0;
      const points = this.#hashed.get(kind);
      this.#hashed.delete(kind);
      const tags =
        points === undefined
          ? hashAndBlindBatch(this.blindingKey, itemsOf(kind, values), this.#batchOptions())
          : blindBatch(this.blindingKey, pointsOf(points), this.#batchOptions());
      for await (const tag of tags) {
        chunk.set(tag, filled * 32);
        filled++;
        if (filled * 32 === chunk.length) {
          yield { type: 'tag_chunk', body: this.ownChunk({ kind, owner: this.me, hop: 0, first, tags: chunk }) };
          first += filled;
          filled = 0;
          chunk = new Uint8Array(Math.min(this.#chunkSize, values.length - first) * 32);
        }
      }
    }
  }

  /**
   * Handles what the relay hands this lab. Result rows may come as the decoded payload or, for a
   * large set, as `StreamedResultRows` over the signed bytes (read one row at a time).
   */
  async receive(
    message: SessionMessage | { type: 'result_rows'; body: StreamedResultRows },
  ): Promise<SessionMessage[]> {
    if (this.#aborted !== undefined || this.done) {
      throw new ProtocolError(
        'INVALID_MESSAGE',
        `the session is ${this.#aborted === undefined ? 'done' : 'aborted'} for this lab`,
      );
    }
    switch (message.type) {
      case 'blind_task':
        return this.#blind(parseWithSchema(blindTaskSchema, message.body, 'blind task'));
      case 'proof_request':
        parseWithSchema(proofRequestSchema, message.body, 'proof request');
        return this.#reveal();
      case 'challenge':
        return this.#prove(parseWithSchema(challengeSchema, message.body, 'challenge').coins);
      case 'result_rows':
        return this.#rows(message.body);
      case 'abort':
        this.#aborted = message.body.reason;
        this.dispose();
        return [];
      default:
        throw new ProtocolError('INVALID_MESSAGE', `a lab does not receive ${message.type}`);
    }
  }

  /** Results per kind, once every kind's rows have arrived. */
  /**
   * The own sets' distinct values, and how many of them came hashed ahead (options.hashed) so that
   * `opening()` only blinds them; 0 once they are blinded.
   */
  get ownItems(): { distinct: number; hashedAhead: number } {
    let distinct = 0;
    for (const values of this.#shuffled.values()) distinct += values.length;
    let hashedAhead = 0;
    for (const points of this.#hashed.values()) hashedAhead += points.length / 32;
    return { distinct, hashedAhead };
  }

  get results(): ReadonlyMap<string, LabResult[]> {
    return this.#results;
  }

  get done(): boolean {
    return this.#results.size === this.proposal.kinds.length;
  }

  get abortReason(): string | undefined {
    return this.#aborted;
  }

  /** Blind tasks answered so far (owner|kind|hop|first): with `results`, what changes as a session goes on. */
  get answered(): string[] {
    return [...this.#answered.keys()];
  }

  /** The payload digest D (hex) of each answered task's blind_result, by task id: what resume needs with `answered`. */
  get digests(): Record<string, string> {
    return Object.fromEntries([...this.#answered].map(([id, { digest }]) => [id, toHex(digest)]));
  }

  /** Whether this lab has sent its hop proofs (its key is erased then). */
  get proved(): boolean {
    return this.#proved;
  }

  /** What a lab must keep to resume (see LabSessionState); the key is a copy the caller must wipe. */
  state(): LabSessionState {
    const key = this.#key !== undefined && !this.#key.disposed ? this.#key.exposeSecret() : undefined;
    return {
      ...(key && { key: Uint8Array.from(key) }),
      coin: Uint8Array.from(this.#coin),
      order: Object.fromEntries([...this.#shuffled].map(([kind, values]) => [kind, [...values]])),
      answered: this.answered,
      digests: this.digests,
      proved: this.#proved,
      results: Object.fromEntries(this.#results),
    };
  }

  /** Erases the session key. */
  dispose(): void {
    this.#key?.dispose();
  }

  // --- The test seam: each honest step, overridable by a test harness's cheating lab. ---

  /** The session id, for a subclass. */
  protected get sessionId(): Uint8Array {
    return this.#sessionId;
  }

  /** The session key, for a subclass (never exposed publicly); throws once it is erased. */
  protected get blindingKey(): BlindingKey {
    if (this.#key === undefined || this.#key.disposed) {
      throw new ProtocolError('INVALID_MESSAGE', "this lab's session key is erased");
    }
    return this.#key;
  }

  /** The hop-0 upload of one chunk of the lab's own set; honest: as hashed and blinded. */
  protected ownChunk(chunk: TagChunk): TagChunk {
    return chunk;
  }

  /** The output tags of a blind task (packed); honest: every input blinded with the session key. */
  protected async blindChunk(task: BlindTask): Promise<Uint8Array> {
    const out = new Uint8Array(task.tags.length);
    let i = 0;
    for await (const tag of blindBatch(this.blindingKey, eachTag(task.tags), this.#batchOptions())) {
      out.set(tag, i * 32);
      i++;
    }
    return out;
  }

  /** What `join` commits to; honest: K of the session key, and the commitment to the coin. */
  protected commitments(): { key: Uint8Array; coin: Uint8Array } {
    return {
      key: keyCommitment(this.blindingKey),
      coin: coinCommitment(this.#sessionId, this.me, this.#coin),
    };
  }

  /** The coin to reveal (undefined: reveal nothing); honest: the committed coin. */
  protected revealCoin(): Uint8Array | undefined {
    return Uint8Array.from(this.#coin);
  }

  /** The proof for one chunk at the chosen positions; honest: proveHop with the session key. */
  protected proveChunk(context: HopProofContext, positions: number[], inputs: Uint8Array[]): HopProof {
    return proveHop(this.blindingKey, context, positions, inputs);
  }

  // --- The steps. ---

  async #blind(task: BlindTask): Promise<SessionMessage[]> {
    const labs = this.proposal.labs;
    const owner = labs.indexOf(task.owner);
    if (this.#revealed) return this.#abort('the relay sent a blind task after asking for the proofs');
    if (
      owner < 0 ||
      task.hop === 0 ||
      task.hop >= labs.length ||
      hopLab(owner, task.hop, labs.length) !== this.#index
    ) {
      return this.#abort(`blind task for hop ${task.hop} of ${task.owner}'s set is not this lab's`);
    }
    if (!this.proposal.kinds.includes(task.kind))
      return this.#abort(`blind task of kind ${task.kind}, not in the session`);
    const place: ChunkPlace = { owner: task.owner, kind: task.kind, hop: task.hop, first: task.first };
    const id = placeKey(place);
    if (this.#answered.has(id)) return this.#abort(`blind task ${id} was already answered`);
    const previous = labs[hopLab(owner, task.hop - 1, labs.length)] as string;
    const problem = provenanceProblem(task, previous, this.#sessionId, this.#publicKeyOf);
    if (problem !== undefined) return this.#abort(`blind task ${id}: ${problem}`);
    let tags: Uint8Array;
    try {
      tags = await this.blindChunk(task);
    } catch (error) {
      if ((error as { code?: string }).code === 'LOW_ORDER_POINT')
        return this.#abort('a blind task carried a low-order point');
      throw error;
    }
    const body: TagChunk = { ...place, tags };
    // D as the shell will seal it: the SHA-256 of the payload's deterministic encoding, which is
    // what the relay reads in the envelope header and chooses the positions with.
    const digest = sha256(encodeDeterministic(body as unknown as CborValue));
    this.#inputs.put(place, task.tags);
    this.#answered.set(id, { place, digest });
    return [{ type: 'blind_result', body }];
  }

  #reveal(): SessionMessage[] {
    if (this.#revealed) return this.#abort('the relay asked for the proofs twice');
    this.#revealed = true;
    const coin = this.revealCoin();
    return coin === undefined ? [] : [{ type: 'reveal', body: { coin } }];
  }

  /** §5.2 step 5: the challenge checked, σ and the positions computed, one proof per answered task. */
  #prove(coins: Uint8Array[]): SessionMessage[] {
    if (this.#proved) return this.#abort('the relay sent the challenge twice');
    const mine = coins[this.#index];
    if (coins.length !== this.proposal.labs.length || mine === undefined || !equalBytes(mine, this.#coin)) {
      return this.#abort("the relay's challenge does not carry this lab's coin at its place");
    }
    const sigma = challengeSeed(this.#sessionId, coins);
    const mode = this.proposal.proofs ?? 'spot';
    const out: SessionMessage[] = [];
    for (const [id, { place, digest }] of this.#answered) {
      const previous = this.#inputs.get(place);
      const positions = provenPositions(sigma, digest, tagCount(previous), mode);
      let proof: HopProof;
      try {
        proof = this.proveChunk(
          { sessionId: this.#sessionId, digest },
          positions,
          positions.map((j) => tagAt(previous, j)),
        );
      } catch (error) {
        if (!(error instanceof CryptoError) || error.code !== 'NOT_IN_GROUP') throw error;
        // The relay should have caught it before the challenge; the producer signed the source.
        const labs = this.proposal.labs;
        const producer = labs[hopLab(labs.indexOf(place.owner), place.hop - 1, labs.length)] as string;
        return this.#abort(`an input of blind task ${id} is not in G`, producer);
      }
      out.push({ type: 'hop_proof', body: { ...place, signs: proof.signs, proof: proof.proof } });
    }
    this.#proved = true;
    // The key is needed for nothing more: whoever held it could test guesses against this lab's set.
    this.dispose();
    return out;
  }

  #rows(body: unknown): SessionMessage[] {
    const reading = readResultRows(
      body,
      this.me,
      this.proposal,
      (kind) => this.#shuffled.get(kind),
      (kind) => this.#results.has(kind),
    );
    if ('problem' in reading) return this.#abort(reading.problem);
    this.#results.set(reading.kind, reading.results);
    if (this.done) this.dispose();
    return [];
  }

  #abort(reason: string, culprit?: string): SessionMessage[] {
    this.#aborted = reason;
    this.dispose();
    return [{ type: 'abort', body: culprit === undefined ? { reason } : { reason, culprit } }];
  }

  #batchOptions() {
    if (this.#pool) return { pool: this.#pool };
    return this.#backend === undefined ? { workers: 0 } : { workers: 0, backend: this.#backend };
  }
}

function* pointsOf(points: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < points.length; at += 32) yield points.subarray(at, at + 32);
}

/** The place of a task id "owner|kind|hop|first" (kinds and key ids hold no "|"). */
function placeOf(id: string): ChunkPlace {
  const [owner, kind, hop, first] = id.split('|');
  return { owner: owner as string, kind: kind as string, hop: Number(hop), first: Number(first) };
}
