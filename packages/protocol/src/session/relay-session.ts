/**
 * The relay's side of a session, as a pure state machine: messages from labs in, messages to labs
 * out. It stores and forwards tags along the hop schedule, checks what it can (sizes, lengths,
 * low-order tags, who may send what), matches the fully blinded tags, and returns to each lab only
 * the rows for its own positions, under the session's reveal policy.
 *
 * What it holds is only ever blinded by at least one lab key (hop 0 is the owner's own blinding);
 * it never sends fully blinded tags to anyone. A lab that breaks the protocol aborts the session
 * with an abort message naming it; a message that is simply not allowed (unknown sender, wrong
 * state) is a ProtocolError for the shell to refuse.
 */
import { findUnsafeTag } from '@overlap/crypto';
import { ProtocolError } from '../errors.js';
import type { RevealPolicy } from '../reveal-policy.js';
import { parseWithSchema } from '../validate.js';
import { matchFinalTags } from './match.js';
import {
  abortSchema,
  type Join,
  joinSchema,
  type Outgoing,
  type ResultRow,
  type SessionMessage,
  type SessionProposal,
  sessionProposalSchema,
  type TagChunk,
  tagChunkSchema,
} from './messages.js';
import { hopLab } from './schedule.js';
import { TAG_LENGTH, tagCount } from './tags.js';

export type RelaySessionState = 'joining' | 'exchanging' | 'done' | 'aborted';

interface SetProgress {
  size: number;
  /** Hop 0..n−1: how many tags of this hop have arrived. */
  received: number[];
  /** Chunks issued as blind tasks and not yet answered, by "hop:first". */
  pending: Map<string, number>;
  /** The fully blinded tags, 32 bytes each at their position; allocated when the first arrive. */
  final: Uint8Array | undefined;
}

export class RelaySession {
  readonly proposal: SessionProposal;
  #state: RelaySessionState = 'joining';
  readonly #joins = new Map<string, Join>();
  readonly #sets = new Map<string, SetProgress>(); // by setKey(owner, kind)
  readonly #held: { chunk: TagChunk; envelope: Uint8Array }[] = []; // hop-0 chunks waiting for every join
  #abort: { reason: string; culprit?: string } | undefined;
  /** The message `violation()` last found sound, so `receive()` need not check it twice. */
  #approved: SessionMessage | undefined;

  constructor(proposal: unknown) {
    this.proposal = parseWithSchema(sessionProposalSchema, proposal, 'session proposal');
  }

  get state(): RelaySessionState {
    return this.#state;
  }

  get abortReason(): { reason: string; culprit?: string } | undefined {
    return this.#abort;
  }

  /**
   * Handles one message from lab `from` (a key id), given the bytes of the signed envelope it came
   * in (already opened and chain-checked by the shell); returns what to send, to whom. Tags are
   * forwarded with their envelope, so the next lab can check where they came from.
   */
  receive(from: string, message: SessionMessage, envelope?: Uint8Array): Outgoing[] {
    // Only the very message violation() just found sound, with nothing received in between.
    const approved = this.#approved === message;
    this.#approved = undefined;
    const index = this.#senderIndex(from);
    switch (message.type) {
      case 'join':
        return this.#join(from, parseWithSchema(joinSchema, message.body, 'join'));
      case 'tag_chunk':
      case 'blind_result':
        if (!(envelope instanceof Uint8Array)) {
          throw new ProtocolError('INVALID_MESSAGE', `${message.type} must come with the bytes of its envelope`);
        }
        return this.#tags(
          from,
          index,
          message.type,
          parseWithSchema(tagChunkSchema, message.body, message.type),
          envelope,
          approved,
        );
      case 'abort': {
        const body = parseWithSchema(abortSchema, message.body, 'abort');
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
   * first and answers the sender with the reason instead of aborting everyone's session. Throws
   * the same ProtocolErrors as `receive` for messages that are simply not allowed.
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
      case 'abort':
        parseWithSchema(abortSchema, message.body, 'abort');
        return undefined;
      default:
        throw new ProtocolError('INVALID_MESSAGE', `a lab does not send ${message.type}`);
    }
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
    for (const [kind, size] of Object.entries(join.sizes)) {
      this.#sets.set(setKey(from, kind), {
        size,
        received: new Array(this.proposal.labs.length).fill(0),
        pending: new Map(),
        final: undefined,
      });
    }
    this.#joins.set(from, join);
    if (this.#joins.size < this.proposal.labs.length) return [];
    this.#state = 'exchanging';
    const out: Outgoing[] = [];
    for (const { chunk, envelope } of this.#held.splice(0)) out.push(...this.#forward(chunk, envelope));
    return [...out, ...this.#finishIfComplete()];
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
    return undefined;
  }

  /** Why a tag chunk from `from` breaks the schedule or the commitments, if it does; changes nothing. */
  #tagViolation(from: string, index: number, type: 'tag_chunk' | 'blind_result', chunk: TagChunk): string | undefined {
    const labs = this.proposal.labs;
    const ownerIndex = labs.indexOf(chunk.owner);
    if (ownerIndex < 0) throw new ProtocolError('INVALID_MESSAGE', `owner ${chunk.owner} is not a lab of this session`);
    if (!this.#joins.has(from)) throw new ProtocolError('INVALID_MESSAGE', `${from} sent tags before joining`);
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
    } else if (set.received[0] !== chunk.first) {
      return `${from} uploaded chunk at ${chunk.first}; expected ${set.received[0]}`;
    }
    return undefined;
  }

  #tags(
    from: string,
    index: number,
    type: 'tag_chunk' | 'blind_result',
    chunk: TagChunk,
    envelope: Uint8Array,
    approved: boolean,
  ): Outgoing[] {
    const violation = approved ? undefined : this.#tagViolation(from, index, type, chunk);
    if (violation !== undefined) return this.#abortAll(violation, from);
    const set = this.#sets.get(setKey(chunk.owner, chunk.kind)) as SetProgress;
    if (type === 'blind_result') set.pending.delete(`${chunk.hop}:${chunk.first}`);
    set.received[chunk.hop] = (set.received[chunk.hop] as number) + tagCount(chunk.tags);
    if (chunk.hop === this.proposal.labs.length - 1) {
      set.final ??= new Uint8Array(set.size * TAG_LENGTH);
      set.final.set(chunk.tags, chunk.first * TAG_LENGTH);
      return this.#finishIfComplete();
    }
    if (this.#state === 'joining') {
      this.#held.push({ chunk, envelope });
      return [];
    }
    return this.#forward(chunk, envelope);
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

  #finishIfComplete(): Outgoing[] {
    if (this.#state !== 'exchanging') return [];
    const last = this.proposal.labs.length - 1;
    for (const set of this.#sets.values()) if (set.received[last] !== set.size) return [];
    this.#state = 'done';
    return computeResults(this.proposal, this.#sets);
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
   * The labs the session is waiting for: those that have not joined, whose own upload is
   * incomplete, or that hold a blind task not yet answered. A deadline names them.
   */
  waitingOn(): string[] {
    if (this.#state === 'aborted' || this.#state === 'done') return [];
    const labs = this.proposal.labs;
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

  #abortAll(reason: string, culprit?: string): Outgoing[] {
    this.#state = 'aborted';
    this.#abort = culprit === undefined ? { reason } : { reason, culprit };
    return this.proposal.labs.map((to) => ({
      to,
      message: { type: 'abort', body: { ...this.#abort } } as SessionMessage,
    }));
  }
}

/** The key of a lab's set of one kind in the relay's progress map. */
function setKey(owner: string, kind: string): string {
  return `${owner}|${kind}`;
}

/** Matches the final tags of every kind and builds each lab's rows under the policy. */
function computeResults(proposal: SessionProposal, sets: ReadonlyMap<string, SetProgress>): Outgoing[] {
  const out: Outgoing[] = [];
  const labs = proposal.labs;
  for (const kind of proposal.kinds) {
    const finals = labs.map((owner) => {
      const set = sets.get(setKey(owner, kind)) as SetProgress;
      return set.final ?? new Uint8Array(0);
    });
    const matched = matchFinalTags(finals);
    labs.forEach((owner, lab) => {
      const rows: ResultRow[] = [];
      // Only positions another lab also holds can give a row (every policy needs |H| ≥ 2).
      matched.forEachShared(lab, (position, others) => {
        const row = rowFor(
          proposal.policy,
          position,
          others.map((other) => labs[other] as string),
        );
        if (row) rows.push(row);
      });
      out.push({ to: owner, message: { type: 'result_rows', body: { kind, lab: owner, rows } } });
    });
  }
  return out;
}

function rowFor(policy: RevealPolicy, position: number, others: string[]): ResultRow | undefined {
  if (policy.kind === 'threshold') return others.length + 1 >= policy.t ? { position } : undefined;
  if (others.length === 0) return undefined;
  return policy.kind === 'labs' ? { position, labs: others.sort() } : { position, count: others.length };
}
