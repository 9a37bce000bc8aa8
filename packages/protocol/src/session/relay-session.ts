/**
 * The relay's side of a session (spec/protocol.md §5), as a pure state machine: messages from labs
 * in, messages to labs out. It stores and forwards tags along the hop schedule, checks what it can
 * (commitments, sizes, the cut of the chunks, lengths, low-order tags, who may send what, the
 * distinctness of every hop), runs the proof round (proof-round.ts), and only once every hop proof
 * has verified matches the fully blinded tags and returns to each lab the rows for its own
 * positions, under the session's reveal policy.
 *
 * What it holds is only ever blinded by at least one lab key (hop 0 is the owner's own blinding);
 * it never sends fully blinded tags to anyone. A lab that breaks the protocol in a way that cannot
 * be taken back aborts the session with an abort naming it; a message that is simply not allowed
 * (unknown sender, wrong state) is a ProtocolError for the shell to refuse, and `violation()` lets
 * a shell refuse the rest (422) before anything changes.
 */
import {
  equalBytes,
  findUnsafeTag,
  type GroupCheck,
  type GroupCheckAnswer,
  keyCommitmentProblem,
} from '@overlap/crypto';
import { ProtocolError } from '../errors.js';
import { parseWithSchema } from '../validate.js';
import { archiveReader, duplicateCulprit, newFingerprints, recordFingerprints } from './distinctness.js';
import {
  abortSchema,
  type HopProofMessage,
  hopProofSchema,
  type Join,
  joinSchema,
  type Outgoing,
  revealSchema,
  type SessionMessage,
  type SessionProposal,
  sessionProposalSchema,
  type TagChunk,
  tagChunkSchema,
} from './messages.js';
import { ProofRound } from './proof-round.js';
import { computeResults } from './results.js';
import { hopLab } from './schedule.js';
import { type ChunkPlace, InMemoryTagArchive, placeKey, type TagArchive } from './tag-archive.js';
import { DEFAULT_CHUNK_SIZE, TAG_LENGTH, tagCount } from './tags.js';

export type RelaySessionState = 'joining' | 'exchanging' | 'proving' | 'done' | 'aborted';

export interface RelaySessionOptions {
  /** The session's 16-byte id: coin commitments, σ and the proofs are bound to it. */
  sessionId: Uint8Array;
  /** Where accepted chunks are kept for the proofs and the blame (default: in memory). */
  archive?: TagArchive;
}

/** The envelope a tag chunk came in: its bytes (the next blind task's source) and its payload digest D. */
export interface ReceivedEnvelope {
  bytes: Uint8Array;
  digest: Uint8Array;
}

interface SetProgress {
  size: number;
  /** Hop 0..n−1: how many tags of this hop have arrived. */
  received: number[];
  /** Chunks issued as blind tasks and not yet answered, by "hop:first". */
  pending: Map<string, number>;
  /** Per hop, the fingerprints of the tags so far (distinctness.ts); dropped once the hop is checked. */
  fingerprints: (BigUint64Array | undefined)[];
  /** The fully blinded tags, 32 bytes each at their position; allocated when the first arrive. */
  final: Uint8Array | undefined;
}

export class RelaySession {
  readonly proposal: SessionProposal;
  readonly #sessionId: Uint8Array;
  readonly #archive: TagArchive;
  readonly #chunkSize: number;
  #state: RelaySessionState = 'joining';
  readonly #joins = new Map<string, Join>();
  readonly #sets = new Map<string, SetProgress>(); // by setKey(owner, kind)
  /** The payload digest D of every accepted blind_result, by place key. */
  readonly #digests = new Map<string, Uint8Array>();
  /**
   * Hop-0 chunks waiting for every join, by place: their tags and envelopes are read back from the
   * archive when they are sent on (the relay's is its store), not held in memory until then.
   */
  readonly #held: ChunkPlace[] = [];
  #round: ProofRound | undefined;
  #abort: { reason: string; culprit?: string } | undefined;
  /** The message `violation()` last found sound, so `receive()` need not check it twice. */
  #approved: SessionMessage | undefined;

  constructor(proposal: unknown, options: RelaySessionOptions) {
    this.proposal = parseWithSchema(sessionProposalSchema, proposal, 'session proposal');
    this.#sessionId = Uint8Array.from(options.sessionId);
    this.#archive = options.archive ?? new InMemoryTagArchive();
    this.#chunkSize = this.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  get state(): RelaySessionState {
    return this.#state;
  }

  get abortReason(): { reason: string; culprit?: string } | undefined {
    return this.#abort;
  }

  /**
   * Handles one message from lab `from` (a key id); returns what to send, to whom. A tag_chunk or
   * blind_result comes with its envelope (already opened and chain-checked by the shell): its
   * bytes go on as the next blind task's `source`, its payload digest chooses the proven positions.
   */
  receive(
    from: string,
    message: SessionMessage,
    envelope?: ReceivedEnvelope,
    answers?: readonly GroupCheckAnswer[],
  ): Outgoing[] {
    // Only the very message violation() just found sound, with nothing received in between.
    const approved = this.#approved === message;
    this.#approved = undefined;
    const index = this.#senderIndex(from);
    switch (message.type) {
      case 'join':
        return this.#join(from, parseWithSchema(joinSchema, message.body, 'join'));
      case 'tag_chunk':
      case 'blind_result': {
        if (!(envelope?.bytes instanceof Uint8Array) || !(envelope.digest instanceof Uint8Array)) {
          throw new ProtocolError('INVALID_MESSAGE', `${message.type} must come with its envelope's bytes and digest`);
        }
        const chunk = parseWithSchema(tagChunkSchema, message.body, message.type);
        const violation = approved ? undefined : this.#tagViolation(from, index, message.type, chunk);
        if (violation !== undefined) return this.#abortAll(violation, from);
        return this.#tags(message.type, chunk, envelope);
      }
      case 'reveal': {
        const { coin } = parseWithSchema(revealSchema, message.body, 'reveal');
        const violation = this.#revealViolation(from);
        if (violation !== undefined) return this.#abortAll(violation, from);
        return this.#reveal(from, coin, answers);
      }
      case 'hop_proof': {
        const proof = parseWithSchema(hopProofSchema, message.body, 'hop_proof');
        const violation = this.#proofViolation(from, proof);
        if (violation !== undefined) return this.#abortAll(violation, from);
        if (answers !== undefined && (answers.length !== 1 || answers[0]?.check !== 'hop')) {
          throw new ProtocolError('INVALID_MESSAGE', `a hop proof needs one hop answer, got ${answers.length}`);
        }
        return this.#hopProof(proof, answers?.[0]);
      }
      case 'abort': {
        const body = parseWithSchema(abortSchema, message.body, 'abort');
        if (body.evidence !== undefined) {
          return this.#abortAll(`${from} sent an abort with evidence, which only the relay's aborts carry`, from);
        }
        // The sender is the source; a culprit it names is its claim, reported as such.
        const claim = body.culprit === undefined ? '' : ` (it names ${body.culprit})`;
        return this.#abortAll(`${from} aborted: ${body.reason}${claim}`);
      }
      default:
        throw new ProtocolError('INVALID_MESSAGE', `a lab does not send ${message.type}`);
    }
  }

  /**
   * Why `message` from `from` would break the protocol (what `receive` would abort the session
   * for), or undefined; changes nothing. A shell that can refuse a request (the HTTP relay) asks
   * first and answers the sender with the reason (422) instead of aborting everyone's session.
   * Throws the same ProtocolErrors as `receive` for messages that are simply not allowed.
   */
  violation(from: string, message: SessionMessage): string | undefined {
    this.#approved = undefined;
    const index = this.#senderIndex(from);
    switch (message.type) {
      case 'join':
        return this.#joinViolation(from, parseWithSchema(joinSchema, message.body, 'join'));
      case 'tag_chunk':
      case 'blind_result': {
        const chunk = parseWithSchema(tagChunkSchema, message.body, message.type);
        const violation = this.#tagViolation(from, index, message.type, chunk);
        if (violation === undefined) this.#approved = message;
        return violation;
      }
      case 'reveal':
        parseWithSchema(revealSchema, message.body, 'reveal');
        return this.#revealViolation(from);
      case 'hop_proof':
        return this.#proofViolation(from, parseWithSchema(hopProofSchema, message.body, 'hop_proof'));
      case 'abort':
        if (parseWithSchema(abortSchema, message.body, 'abort').evidence !== undefined) {
          return `${from} sent an abort with evidence, which only the relay's aborts carry`;
        }
        return undefined;
      default:
        throw new ProtocolError('INVALID_MESSAGE', `a lab does not send ${message.type}`);
    }
  }

  /**
   * The group checks `receive` would make of this message — every chosen input's in-G check when
   * it is the last reveal (the challenge), a hop proof's verification — for a shell to run off its
   * request thread (the relay's worker threads) and give back to `receive` as `answers`, in order.
   * Undefined for a message that needs none, or one that is out of place (`receive` then aborts
   * without them). Changes nothing; call it right before `receive`, with nothing received between.
   */
  groupChecks(from: string, message: SessionMessage): GroupCheck[] | undefined {
    if (this.#state === 'aborted' || this.#state === 'done' || this.#round === undefined) return undefined;
    if (message.type === 'reveal') {
      if (this.#revealViolation(from) !== undefined) return undefined;
      return this.#round.challengeChecks(from, parseWithSchema(revealSchema, message.body, 'reveal').coin);
    }
    if (message.type === 'hop_proof') {
      const proof = parseWithSchema(hopProofSchema, message.body, 'hop_proof');
      return this.#proofViolation(from, proof) === undefined ? [this.#round.proofCheck(proof)] : undefined;
    }
    return undefined;
  }

  /** The sender's place in the session's labs; throws for an outsider or a session that is over. */
  #senderIndex(from: string): number {
    const index = this.proposal.labs.indexOf(from);
    if (index < 0) throw new ProtocolError('INVALID_MESSAGE', `${from} is not a lab of this session`);
    if (this.#state === 'aborted' || this.#state === 'done') {
      throw new ProtocolError('INVALID_MESSAGE', `the session is ${this.#state}`);
    }
    return index;
  }

  #join(from: string, join: Join): Outgoing[] {
    const violation = this.#joinViolation(from, join);
    if (violation !== undefined) return this.#abortAll(violation, from);
    // The held chunks are read back before anything changes: a read that fails (the relay's store)
    // leaves the session as it was, and the same join can be taken again.
    const last = this.#joins.size + 1 === this.proposal.labs.length;
    const released = last
      ? this.#held.map((place) => ({
          chunk: { ...place, tags: this.#archive.get(place) },
          source: this.#sourceOf(place),
        }))
      : [];
    for (const [kind, size] of Object.entries(join.sizes)) {
      this.#sets.set(setKey(from, kind), {
        size,
        received: new Array(this.proposal.labs.length).fill(0),
        pending: new Map(),
        fingerprints: new Array(this.proposal.labs.length).fill(undefined),
        final: undefined,
      });
    }
    this.#joins.set(from, join);
    if (this.#joins.size < this.proposal.labs.length) return [];
    this.#state = 'exchanging';
    this.#held.length = 0;
    const out: Outgoing[] = [];
    for (const { chunk, source } of released) out.push(...this.#forward(chunk, source));
    return [...out, ...this.#requestProofsIfComplete()];
  }

  #joinViolation(from: string, join: Join): string | undefined {
    if (this.#joins.has(from)) throw new ProtocolError('INVALID_MESSAGE', `${from} already joined`);
    const kinds = Object.keys(join.sizes).sort();
    if (kinds.join() !== [...this.proposal.kinds].sort().join()) {
      return `${from} committed sizes for kinds ${kinds.join(', ')}, not the session's`;
    }
    for (const [kind, size] of Object.entries(join.sizes)) {
      if (size > this.proposal.maxItemsPerKind) {
        return `${from} committed ${size} ${kind} items, over the cap of ${this.proposal.maxItemsPerKind}`;
      }
    }
    // The key commitment comes from the lab: K = ±B or outside G would let an identity hop prove.
    const problem = keyCommitmentProblem(join.key);
    if (problem !== undefined) return `${from} committed an unacceptable key (${problem.replaceAll('_', ' ')})`;
    for (const [other, theirs] of this.#joins) {
      if (equalBytes(theirs.key, join.key)) return `${from} committed the same key as ${other}`;
    }
    return undefined;
  }

  /** Why a tag chunk from `from` breaks the schedule, the cut or the commitments, if it does; changes nothing. */
  #tagViolation(from: string, index: number, type: 'tag_chunk' | 'blind_result', chunk: TagChunk): string | undefined {
    const labs = this.proposal.labs;
    const ownerIndex = labs.indexOf(chunk.owner);
    if (ownerIndex < 0) throw new ProtocolError('INVALID_MESSAGE', `owner ${chunk.owner} is not a lab of this session`);
    if (!this.#joins.has(from)) throw new ProtocolError('INVALID_MESSAGE', `${from} sent tags before joining`);
    if (this.#state === 'proving') return `${from} sent tags after every hop was in`;
    if (!this.proposal.kinds.includes(chunk.kind)) return `${from} sent tags of kind ${chunk.kind}, not in the session`;
    const set = this.#sets.get(setKey(chunk.owner, chunk.kind));
    if (!set) return `${from} sent tags for ${chunk.owner}, which has not joined`;
    if (type === 'tag_chunk' ? chunk.hop !== 0 || chunk.owner !== from : chunk.hop === 0) {
      return `${from} sent ${type} for hop ${chunk.hop} of ${chunk.owner}'s set`;
    }
    if (chunk.hop >= labs.length || hopLab(ownerIndex, chunk.hop, labs.length) !== index) {
      return `${from} is not the lab for hop ${chunk.hop} of ${chunk.owner}'s set`;
    }
    const count = tagCount(chunk.tags);
    if (chunk.first + count > set.size) {
      return `${from} sent tags beyond the committed size ${set.size} of ${chunk.owner}'s ${chunk.kind} set`;
    }
    const unsafe = findUnsafeTag(chunk.tags);
    if (unsafe?.reason === 'low_order') return `${from} sent a low-order tag (at ${chunk.first + unsafe.index})`;
    if (unsafe) return `${from} sent a tag that is not canonically encoded (at ${chunk.first + unsafe.index})`;
    if (type === 'blind_result') {
      const expected = set.pending.get(`${chunk.hop}:${chunk.first}`);
      if (expected === undefined) return `${from} answered a blind task it was not given`;
      if (expected !== count) return `${from} returned ${count} tags for a task of ${expected}`;
    } else {
      if (set.received[0] !== chunk.first)
        return `${from} uploaded chunk at ${chunk.first}; expected ${set.received[0]}`;
      // §5.1: the proposal fixes the cut, so no lab can make the others prove more chunks.
      const length = Math.min(this.#chunkSize, set.size - chunk.first);
      if (count !== length) return `${from} uploaded ${count} tags at ${chunk.first}; the chunk there has ${length}`;
    }
    return undefined;
  }

  /** An accepted chunk: archived, fingerprinted, its hop checked when complete, then sent on. */
  #tags(type: 'tag_chunk' | 'blind_result', chunk: TagChunk, envelope: ReceivedEnvelope): Outgoing[] {
    const place: ChunkPlace = { owner: chunk.owner, kind: chunk.kind, hop: chunk.hop, first: chunk.first };
    // A hop-0 chunk that arrives before the last join waits, held by place (#held): its envelope
    // goes to the archive with its tags, to be read back when it is sent on.
    const held = this.#state === 'joining' && chunk.hop < this.proposal.labs.length - 1;
    this.#archive.put(place, chunk.tags, held ? envelope.bytes : undefined);
    const set = this.#sets.get(setKey(chunk.owner, chunk.kind)) as SetProgress;
    if (type === 'blind_result') {
      set.pending.delete(`${chunk.hop}:${chunk.first}`);
      this.#digests.set(placeKey(place), Uint8Array.from(envelope.digest));
    }
    set.fingerprints[chunk.hop] ??= newFingerprints(set.size);
    const fingerprints = set.fingerprints[chunk.hop] as BigUint64Array;
    recordFingerprints(fingerprints, chunk.first, chunk.tags);
    set.received[chunk.hop] = (set.received[chunk.hop] as number) + tagCount(chunk.tags);
    if (set.received[chunk.hop] === set.size) {
      set.fingerprints[chunk.hop] = undefined;
      const read = archiveReader(this.#archive, chunk.owner, chunk.kind, this.#chunkSize);
      const duplicate = duplicateCulprit(this.proposal.labs, chunk, fingerprints, read);
      if (duplicate) return this.#abortAll(duplicate.reason, duplicate.culprit);
    }
    if (chunk.hop === this.proposal.labs.length - 1) {
      set.final ??= new Uint8Array(set.size * TAG_LENGTH);
      set.final.set(chunk.tags, chunk.first * TAG_LENGTH);
      return this.#requestProofsIfComplete();
    }
    if (held) {
      this.#held.push(place);
      return [];
    }
    return this.#forward(chunk, envelope.bytes);
  }

  /** The envelope a held chunk came in, from the archive. */
  #sourceOf(place: ChunkPlace): Uint8Array {
    const source = this.#archive.source?.(place);
    // The relay's own fault, not the lab's: no ProtocolError (which the relay answers as the lab's).
    if (source === undefined) throw new Error(`the archive keeps no envelope for ${placeKey(place)}`);
    return source;
  }

  /** Sends a chunk on to the lab of its next hop, with the envelope it arrived in. */
  #forward(chunk: TagChunk, envelope: Uint8Array): Outgoing[] {
    const labs = this.proposal.labs;
    const owner = labs.indexOf(chunk.owner);
    const hop = chunk.hop + 1;
    const set = this.#sets.get(setKey(chunk.owner, chunk.kind)) as SetProgress;
    set.pending.set(`${hop}:${chunk.first}`, tagCount(chunk.tags));
    const to = labs[hopLab(owner, hop, labs.length)] as string;
    return [{ to, message: { type: 'blind_task', body: { ...chunk, hop, source: envelope } } }];
  }

  /** §5.2 step 3: every hop of every set is in (and distinct): ask every lab for its coin. */
  #requestProofsIfComplete(): Outgoing[] {
    if (this.#state !== 'exchanging') return [];
    const last = this.proposal.labs.length - 1;
    for (const set of this.#sets.values()) if (set.received[last] !== set.size) return [];
    this.#state = 'proving';
    const commitments = new Map([...this.#joins].map(([lab, join]) => [lab, { key: join.key, coin: join.coin }]));
    this.#round = new ProofRound({
      sessionId: this.#sessionId,
      proposal: this.proposal,
      archive: this.#archive,
      commitments,
      sizeOf: (owner, kind) => (this.#sets.get(setKey(owner, kind)) as SetProgress).size,
      digestOf: (place) => this.#digests.get(placeKey(place)) as Uint8Array,
    });
    return this.#toEveryLab({ type: 'proof_request', body: { chunks: this.#round.chunks } });
  }

  #revealViolation(from: string): string | undefined {
    if (this.#round === undefined) return `${from} revealed its coin before the proof request`;
    return this.#round.revealViolation(from);
  }

  #reveal(from: string, coin: Uint8Array, answers?: readonly GroupCheckAnswer[]): Outgoing[] {
    const round = this.#round as ProofRound;
    // Answers that do not fit are refused before the coin is recorded: nothing changes.
    if (answers !== undefined) round.checkChallengeAnswers(from, answers);
    const wrong = round.reveal(from, coin);
    if (wrong) return this.#abortAll(wrong.reason, wrong.culprit);
    if (!round.allRevealed) return [];
    const challenge = round.challenge(answers);
    if ('culprit' in challenge) return this.#abortAll(challenge.reason, challenge.culprit);
    const out = this.#toEveryLab({ type: 'challenge', body: challenge });
    return round.complete ? [...out, ...this.#results()] : out;
  }

  #proofViolation(from: string, proof: HopProofMessage): string | undefined {
    if (this.#round === undefined) return `${from} sent a hop proof before the proof request`;
    return this.#round.proofViolation(from, proof);
  }

  #hopProof(proof: HopProofMessage, answer?: GroupCheckAnswer): Outgoing[] {
    const round = this.#round as ProofRound;
    const failed = round.verify(proof, answer);
    if (failed) return this.#abortAll(failed.reason, failed.culprit);
    return round.complete ? this.#results() : [];
  }

  #results(): Outgoing[] {
    this.#state = 'done';
    return computeResults(
      this.proposal,
      (owner, kind) => this.#sets.get(setKey(owner, kind))?.final ?? new Uint8Array(0),
    );
  }

  /**
   * Aborts the session from the outside (the shell's deadline, an operator): every lab is told,
   * naming the culprit if there is one.
   */
  abort(reason: string, culprit?: string): Outgoing[] {
    this.#approved = undefined;
    if (this.#state === 'aborted' || this.#state === 'done') {
      throw new ProtocolError('INVALID_MESSAGE', `the session is ${this.#state}`);
    }
    return this.#abortAll(reason, culprit);
  }

  /**
   * Tags of `owner`'s hop-0 chunks held until the last join: all it has uploaded while the session
   * is joining, none after (spec/relay-api.md §5: the relay's quota of held bytes counts them).
   */
  heldTags(owner: string): number {
    if (this.#state !== 'joining') return 0;
    let tags = 0;
    for (const kind of this.proposal.kinds) tags += this.#sets.get(setKey(owner, kind))?.received[0] ?? 0;
    return tags;
  }

  /**
   * The labs the session is waiting for: those that have not joined, whose own upload is
   * incomplete, or that hold a blind task not yet answered; while proving, those that have not
   * revealed their coin, then those whose hop proofs are not all in. A deadline names them.
   */
  waitingOn(): string[] {
    if (this.#state === 'aborted' || this.#state === 'done') return [];
    const labs = this.proposal.labs;
    if (this.#round) {
      const waiting = this.#round.waitingOn();
      return labs.filter((lab) => waiting.has(lab));
    }
    const waiting = new Set(labs.filter((lab) => !this.#joins.has(lab)));
    for (const [key, set] of this.#sets) {
      const owner = key.slice(0, key.indexOf('|'));
      if (set.received[0] !== set.size) waiting.add(owner);
      for (const task of set.pending.keys()) {
        const hop = Number(task.slice(0, task.indexOf(':')));
        waiting.add(labs[hopLab(labs.indexOf(owner), hop, labs.length)] as string);
      }
    }
    return labs.filter((lab) => waiting.has(lab));
  }

  /** One message for every lab, with the same body (one envelope in every inbox). */
  #toEveryLab(message: SessionMessage): Outgoing[] {
    return this.proposal.labs.map((to) => ({ to, message }));
  }

  #abortAll(reason: string, culprit?: string): Outgoing[] {
    this.#state = 'aborted';
    this.#abort = culprit === undefined ? { reason } : { reason, culprit };
    return this.#toEveryLab({ type: 'abort', body: { ...this.#abort } });
  }
}

/** The key of a lab's set of one kind in the relay's progress map. */
function setKey(owner: string, kind: string): string {
  return `${owner}|${kind}`;
}
