/**
 * The relay's proof round (spec/protocol.md §5.2 steps 4–6): the labs' coin reveals checked against
 * their commitments, the challenge seed σ and the positions of every chunk of hop ≥ 1, the chosen
 * inputs checked to lie in G, and each hop proof verified against the logged tags.
 *
 * Threat: a hop that did not apply its committed key (identity, random or copied points, nullified
 * final tags, u → 1/u). Nothing is released before every chunk's proof verifies, and every failure
 * names the lab that is at fault: the prover for its own outputs and proof, the producer for a
 * chosen input outside G. The coins fix σ only after every blind_result is in, so no one — the
 * relay included — can know the positions while a hop can still change its answer.
 */
import {
  challengeSeed,
  coinCommitment,
  equalBytes,
  type GroupCheck,
  type GroupCheckAnswer,
  type HopProofVerdict,
  type ProofMode,
  provenPositions,
  runGroupCheck,
  SPOT_POSITIONS,
} from '@overlap/crypto';
import { ProtocolError } from '../errors.js';
import type { HopProofMessage, SessionProposal } from './messages.js';
import { hopLab } from './schedule.js';
import { type ChunkPlace, placeKey, type TagArchive } from './tag-archive.js';
import { DEFAULT_CHUNK_SIZE, tagAt, tagCount } from './tags.js';

/** What the round needs from the session: its id, proposal, archive, and what the joins committed. */
export interface ProofRoundContext {
  sessionId: Uint8Array;
  proposal: SessionProposal;
  archive: TagArchive;
  /** Each lab's committed K and coin commitment. */
  commitments: ReadonlyMap<string, { key: Uint8Array; coin: Uint8Array }>;
  /** Each set's committed size, by owner and kind. */
  sizeOf: (owner: string, kind: string) => number;
  /** The payload digest D of the blind_result of a place of hop ≥ 1. */
  digestOf: (place: ChunkPlace) => Uint8Array;
}

/** A failure with the lab to blame. */
export interface Culprit {
  culprit: string;
  reason: string;
}

/**
 * The chosen inputs' in-G checks go out in parts of this many tags: a part is ~70 ms of one core
 * here, so a shell that schedules the parts (the relay's worker threads) can interleave them with
 * other labs' work. A 3 × 1,000,000 session has ~50,000 chosen inputs in 98 parts.
 */
export const IN_GROUP_PART = 512;

interface ProvenChunk {
  place: ChunkPlace;
  prover: string;
  /** The lab that produced the inputs: the previous hop's (the owner's at hop 1). */
  producer: string;
}

export class ProofRound {
  readonly #context: ProofRoundContext;
  readonly #mode: ProofMode;
  readonly #coins = new Map<string, Uint8Array>();
  /** Every chunk of hop ≥ 1, by place key; a chunk leaves once its proof has verified. */
  readonly #unproven = new Map<string, ProvenChunk>();
  #sigma: Uint8Array | undefined;

  constructor(context: ProofRoundContext) {
    this.#context = context;
    this.#mode = context.proposal.proofs ?? 'spot';
    const { labs, kinds } = context.proposal;
    const chunkSize = context.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
    for (const [ownerIndex, owner] of labs.entries()) {
      for (const kind of kinds) {
        const size = context.sizeOf(owner, kind);
        for (let hop = 1; hop < labs.length; hop++) {
          for (let first = 0; first < size; first += chunkSize) {
            const place = { owner, kind, hop, first };
            this.#unproven.set(placeKey(place), {
              place,
              prover: labs[hopLab(ownerIndex, hop, labs.length)] as string,
              producer: labs[hopLab(ownerIndex, hop - 1, labs.length)] as string,
            });
          }
        }
      }
    }
  }

  /** How many hop proofs the session needs (proof_request's `chunks`), before any has verified. */
  get chunks(): number {
    return this.#unproven.size;
  }

  get challenged(): boolean {
    return this.#sigma !== undefined;
  }

  get complete(): boolean {
    return this.challenged && this.#unproven.size === 0;
  }

  hasRevealed(lab: string): boolean {
    return this.#coins.has(lab);
  }

  /** Why a reveal from `from` is out of place (a second one), or undefined. */
  revealViolation(from: string): string | undefined {
    return this.#coins.has(from) ? `${from} revealed its coin twice` : undefined;
  }

  /** Records `from`'s coin if it opens its commitment; else the culprit. */
  reveal(from: string, coin: Uint8Array): Culprit | undefined {
    if (!this.#opens(from, coin)) {
      return { culprit: from, reason: `${from} revealed a coin that does not match its commitment` };
    }
    this.#coins.set(from, Uint8Array.from(coin));
    return undefined;
  }

  #opens(from: string, coin: Uint8Array): boolean {
    const { sessionId, commitments } = this.#context;
    const committed = commitments.get(from)?.coin;
    return committed !== undefined && equalBytes(coinCommitment(sessionId, from, coin), committed);
  }

  /**
   * The checks `challenge` will make if `coin` from `from` (not yet recorded) is the last coin and
   * opens its commitment: every chosen input's, in parts of IN_GROUP_PART; else undefined.
   */
  challengeChecks(from: string, coin: Uint8Array): GroupCheck[] | undefined {
    const { labs } = this.#context.proposal;
    if (this.#coins.has(from) || this.#coins.size + 1 !== labs.length || !this.#opens(from, coin)) return undefined;
    const coins = labs.map((lab) => (lab === from ? coin : (this.#coins.get(lab) as Uint8Array)));
    const inputs = this.#everyChosen(challengeSeed(this.#context.sessionId, coins)).flatMap((c) => c.inputs);
    const parts: GroupCheck[] = [];
    for (let at = 0; at < inputs.length; at += IN_GROUP_PART) {
      parts.push({ check: 'in-group', tags: inputs.slice(at, at + IN_GROUP_PART) });
    }
    return parts;
  }

  get allRevealed(): boolean {
    return this.#coins.size === this.#context.proposal.labs.length;
  }

  /**
   * Once every lab has revealed: σ, and every chosen input checked to lie in G. Returns the coins in
   * the order of the labs (the challenge's body), or the producer of an input outside G. `answers`
   * are those of `challengeChecks` for the last coin, computed elsewhere; without them the checks
   * run here.
   */
  challenge(answers?: readonly GroupCheckAnswer[]): { coins: Uint8Array[] } | Culprit {
    const { sessionId, proposal } = this.#context;
    const coins = proposal.labs.map((lab) => this.#coins.get(lab) as Uint8Array);
    const sigma = challengeSeed(sessionId, coins);
    const outside = answers === undefined ? this.#firstOutside(sigma) : this.#outsideByAnswers(answers);
    if (outside !== undefined) {
      // Found by its place among every chosen input, in the order they were checked.
      let offset = outside;
      for (const { chunk, positions } of this.#everyChosen(sigma)) {
        if (offset < positions.length) return this.#inputOutside(chunk, positions[offset] as number);
        offset -= positions.length;
      }
      // Never "every input in G" for a place beyond them: the answers and the chunks disagree.
      throw new ProtocolError('INVALID_MESSAGE', `input ${outside} outside G is not among the chosen inputs`);
    }
    this.#sigma = sigma;
    return { coins };
  }

  /**
   * Throws unless `answers` fit the checks `challengeChecks` gives for `from`'s reveal: it must be
   * the last one, and the answers one in-group answer per part, each naming -1 or a tag of its part.
   * Called before the coin is recorded, so that answers that do not fit change nothing.
   */
  checkChallengeAnswers(from: string, answers: readonly GroupCheckAnswer[]): void {
    const { labs } = this.#context.proposal;
    const wrong = (why: string) => new ProtocolError('INVALID_MESSAGE', `the challenge's answers ${why}`);
    if (this.#coins.has(from) || this.#coins.size + 1 !== labs.length)
      throw wrong(`came with a reveal that is not the last`);
    const total = this.#chosenTotal();
    const parts = Math.ceil(total / IN_GROUP_PART);
    if (answers.length !== parts) throw wrong(`are ${answers.length}, for ${parts} in-group checks`);
    for (const [part, answer] of answers.entries()) {
      const size = Math.min(IN_GROUP_PART, total - part * IN_GROUP_PART);
      if (answer.check !== 'in-group') throw wrong(`hold a ${answer.check} answer at part ${part}`);
      const { firstOutside } = answer;
      if (!Number.isSafeInteger(firstOutside) || firstOutside < -1 || firstOutside >= size) {
        throw wrong(`name tag ${firstOutside} of part ${part}, which holds ${size}`);
      }
    }
  }

  /** How many inputs the challenge chooses, counted from the sizes (no chunk is read). */
  #chosenTotal(): number {
    const chunkSize = this.#context.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
    let total = 0;
    for (const { place } of this.#unproven.values()) {
      const length = Math.min(chunkSize, this.#context.sizeOf(place.owner, place.kind) - place.first);
      total += this.#mode === 'full' ? length : Math.min(length, SPOT_POSITIONS);
    }
    return total;
  }

  /** The place among every chosen input of the first outside G, checked here. */
  #firstOutside(sigma: Uint8Array): number | undefined {
    let offset = 0;
    for (const { inputs } of this.#everyChosen(sigma)) {
      const answer = runGroupCheck({ check: 'in-group', tags: inputs });
      if (answer.check === 'in-group' && answer.firstOutside >= 0) return offset + answer.firstOutside;
      offset += inputs.length;
    }
    return undefined;
  }

  /** The same from the answers of `challengeChecks` (checked by checkChallengeAnswers first). */
  #outsideByAnswers(answers: readonly GroupCheckAnswer[]): number | undefined {
    for (const [part, answer] of answers.entries()) {
      if (answer.check === 'in-group' && answer.firstOutside >= 0) return part * IN_GROUP_PART + answer.firstOutside;
    }
    return undefined;
  }

  /** Why a hop proof from `from` is out of place, or undefined. */
  proofViolation(from: string, proof: HopProofMessage): string | undefined {
    if (!this.challenged) return `${from} sent a hop proof before the challenge`;
    const chunk = this.#unproven.get(placeKey(proof));
    if (chunk?.prover === from) return undefined;
    const { labs } = this.#context.proposal;
    const owner = labs.indexOf(proof.owner);
    const answered =
      owner >= 0 &&
      proof.hop < labs.length &&
      labs[hopLab(owner, proof.hop, labs.length)] === from &&
      this.#context.proposal.kinds.includes(proof.kind) &&
      proof.first < this.#context.sizeOf(proof.owner, proof.kind) &&
      proof.first % (this.#context.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE) === 0;
    return answered
      ? `${from} proved ${placeKey(proof)} twice`
      : `${from} sent a hop proof for ${placeKey(proof)}, a chunk it did not answer`;
  }

  /** The check `verify` makes of a hop proof whose place proofViolation found sound. */
  proofCheck(proof: HopProofMessage): GroupCheck {
    const chunk = this.#unproven.get(placeKey(proof)) as ProvenChunk;
    const { sessionId, commitments, archive, digestOf } = this.#context;
    const { inputs, positions } = this.#chosen(chunk, this.#sigma as Uint8Array);
    const outputs = archive.get(chunk.place);
    return {
      check: 'hop',
      key: (commitments.get(chunk.prover) as { key: Uint8Array }).key,
      context: { sessionId, digest: digestOf(chunk.place) },
      positions,
      inputs,
      outputs: positions.map((j) => tagAt(outputs, j).slice()),
      proof: { signs: proof.signs, proof: proof.proof },
    };
  }

  /**
   * Verifies one hop proof (its place already found sound by proofViolation); the culprit if it
   * fails. `answer` is that of `proofCheck`, computed elsewhere; without it the proof is verified here.
   */
  verify(proof: HopProofMessage, answer?: GroupCheckAnswer): Culprit | undefined {
    const key = placeKey(proof);
    const chunk = this.#unproven.get(key) as ProvenChunk;
    const { positions } = this.#chosen(chunk, this.#sigma as Uint8Array);
    const checked = answer ?? runGroupCheck(this.proofCheck(proof));
    if (checked.check !== 'hop') throw new ProtocolError('INVALID_MESSAGE', 'a hop proof needs a hop answer');
    const verdict: HopProofVerdict = checked.verdict;
    if (verdict.ok) {
      this.#unproven.delete(key);
      return undefined;
    }
    if (verdict.fault === 'input_not_in_group') return this.#inputOutside(chunk, positions[verdict.index] as number);
    if (verdict.fault === 'output_not_in_group') {
      const at = chunk.place.first + (positions[verdict.index] as number);
      return { culprit: chunk.prover, reason: `${chunk.prover} output a tag outside G at ${key} (position ${at})` };
    }
    const what = verdict.fault === 'malformed' ? 'is malformed' : 'does not verify';
    return { culprit: chunk.prover, reason: `${chunk.prover}'s hop proof for ${key} ${what}` };
  }

  /** The labs whose part is missing: coins not revealed, then (after the challenge) proofs not sent. */
  waitingOn(): Set<string> {
    if (!this.challenged) return new Set(this.#context.proposal.labs.filter((lab) => !this.#coins.has(lab)));
    return new Set([...this.#unproven.values()].map((chunk) => chunk.prover));
  }

  /** Every unproven chunk with its chosen positions and inputs under σ, in the order checked. */
  #everyChosen(sigma: Uint8Array): { chunk: ProvenChunk; positions: number[]; inputs: Uint8Array[] }[] {
    return [...this.#unproven.values()].map((chunk) => ({ chunk, ...this.#chosen(chunk, sigma) }));
  }

  /** The positions σ chooses in a chunk, and the input tags (the previous hop's) at them. */
  #chosen(chunk: ProvenChunk, sigma: Uint8Array): { positions: number[]; inputs: Uint8Array[] } {
    const { archive, digestOf } = this.#context;
    const previous = archive.get({ ...chunk.place, hop: chunk.place.hop - 1 });
    const positions = provenPositions(sigma, digestOf(chunk.place), tagCount(previous), this.#mode);
    // Copies, not views: a view keeps its whole chunk alive (and goes whole to a worker thread).
    return { positions, inputs: positions.map((j) => tagAt(previous, j).slice()) };
  }

  #inputOutside(chunk: ProvenChunk, offset: number): Culprit {
    const { place, producer } = chunk;
    const at = place.first + offset;
    return {
      culprit: producer,
      reason: `${producer} produced a tag outside G (hop ${place.hop - 1} of ${place.owner}'s ${place.kind} set, position ${at})`,
    };
  }
}
