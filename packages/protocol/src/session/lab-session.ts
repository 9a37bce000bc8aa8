/**
 * A lab's side of a session, as a state machine: `start()` commits the set sizes and uploads the
 * lab's own set, hashed and blinded with a fresh session key after a secret shuffle; `receive()`
 * blinds the sets that the schedule routes through this lab and, at the end, maps the result rows
 * back to the lab's own indicators. The session key is erased by `dispose()`.
 *
 * It checks what a lab can check: that a blind task is for a hop this lab owns and has the size the
 * commitment allows, that no tag is a low-order point, and that every result row is for one of its
 * own positions; anything else aborts, naming the relay.
 */
import {
  type BackendPreference,
  type BatchRunner,
  BlindingKey,
  blindBatch,
  equalBytes,
  hashAndBlindBatch,
} from '@overlap/crypto';
import { openEnvelope } from '../envelope.js';
import { ProtocolError } from '../errors.js';
import { parseWithSchema } from '../validate.js';
import {
  type BlindTask,
  blindTaskSchema,
  type Join,
  type ResultRow,
  resultRowSchema,
  resultRowsShapeSchema,
  type SessionMessage,
  type SessionProposal,
  sessionProposalSchema,
  type TagChunk,
  tagChunkSchema,
} from './messages.js';
import { distinct, shuffleInPlace } from './order.js';
import { hopLab } from './schedule.js';
import { StreamedResultRows } from './streamed-result-rows.js';
import { eachTag, packTags } from './tags.js';

export interface LabResult {
  value: string;
  /** `labs` policy: the other labs holding it. */
  labs?: string[];
  /** `count` policy: how many other labs hold it. */
  count?: number;
}

export interface LabSessionOptions {
  /** This lab's key id. */
  me: string;
  /** The session's 16-byte id (every envelope of the session carries it). */
  sessionId: Uint8Array;
  /** Public signing keys of the session's labs, by key id (from their enrollments). */
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
  proposal: unknown;
  /** Canonical values per kind (duplicates are merged). */
  sets: Record<string, readonly string[]>;
  /** Tags per chunk (default 4096). */
  chunkSize?: number;
  /** Where to hash and blind: a BatchPool of @overlap/crypto/node (default: on the calling thread). */
  pool?: BatchRunner;
  /** Crypto backend when no pool is given (default: OVERLAP_CRYPTO_BACKEND or auto). */
  backend?: BackendPreference;
  /**
   * Resume from a state saved by `state()` (a lab process that stopped mid-session): the same
   * session key, the same secret order, the tasks already answered and the results so far. `sets`
   * is then ignored: the order holds the values.
   */
  resume?: LabSessionState;
}

/** What a lab must keep to resume a session: secret (the key and the order); keep it 0600, erase it at the end. */
export interface LabSessionState {
  /** The session's blinding key (32 bytes). A copy: wipe it when stored. */
  key: Uint8Array;
  /** The lab's values per kind in their secret shuffled order (position i is value i). */
  order: Record<string, string[]>;
  /** Blind tasks already answered, by owner|kind|hop|first. */
  answered: string[];
  /** Result rows received so far, mapped to values. */
  results: Record<string, LabResult[]>;
}

export class LabSession {
  readonly proposal: SessionProposal;
  readonly me: string;
  readonly #index: number;
  readonly #key: BlindingKey;
  readonly #shuffled = new Map<string, string[]>();
  readonly #results = new Map<string, LabResult[]>();
  readonly #chunkSize: number;
  readonly #pool: BatchRunner | undefined;
  readonly #backend: BackendPreference | undefined;
  readonly #sessionId: Uint8Array;
  readonly #publicKeyOf: (keyId: string) => Uint8Array | undefined;
  /** Blind tasks already answered, by owner|kind|hop|first: each is answered once. */
  readonly #answered = new Set<string>();
  #aborted: string | undefined;

  constructor(options: LabSessionOptions) {
    this.proposal = parseWithSchema(sessionProposalSchema, options.proposal, 'session proposal');
    this.me = options.me;
    this.#index = this.proposal.labs.indexOf(options.me);
    if (this.#index < 0) throw new ProtocolError('INVALID_MESSAGE', `${options.me} is not a lab of this session`);
    this.#chunkSize = options.chunkSize ?? 4096;
    this.#pool = options.pool;
    this.#sessionId = options.sessionId;
    this.#publicKeyOf = options.publicKeyOf;
    this.#backend = options.backend;
    if (options.resume) {
      const { resume } = options;
      this.#key = BlindingKey.fromBytes(resume.key);
      for (const kind of this.proposal.kinds) {
        const order = resume.order[kind];
        if (!order) throw new ProtocolError('INVALID_MESSAGE', `the saved state has no ${kind} set`);
        this.#shuffled.set(kind, [...order]);
      }
      for (const id of resume.answered) this.#answered.add(id);
      for (const [kind, rows] of Object.entries(resume.results)) this.#results.set(kind, rows);
      return;
    }
    this.#key = BlindingKey.generate();
    for (const kind of this.proposal.kinds) {
      const values = distinct(Object.hasOwn(options.sets, kind) ? (options.sets[kind] ?? []) : []);
      if (values.length > this.proposal.maxItemsPerKind) {
        throw new ProtocolError(
          'INVALID_MESSAGE',
          `${values.length} ${kind} values exceed the cap of ${this.proposal.maxItemsPerKind}`,
        );
      }
      this.#shuffled.set(kind, shuffleInPlace(values));
    }
  }

  /** The join (committed sizes) and the lab's own set, hashed, blinded and chunked. */
  async start(): Promise<SessionMessage[]> {
    const out: SessionMessage[] = [];
    for await (const message of this.opening()) out.push(message);
    return out;
  }

  /**
   * What `start()` answers, one message at a time as the chunks fill: a caller that sends or
   * stores each chunk before asking for the next holds one chunk, not the whole set (32 MB per
   * million items). Hashing and blinding are deterministic given the key and the order, so a
   * lab resumed from `state()` produces the same tags again.
   */
  async *opening(): AsyncGenerator<SessionMessage, void, undefined> {
    const sizes: Join['sizes'] = {};
    for (const [kind, values] of this.#shuffled) sizes[kind] = values.length;
    yield { type: 'join', body: { sizes } };
    for (const [kind, values] of this.#shuffled) {
      // Tags go straight into packed chunks: a million-item set is 32 MB of chunks, not a million
      // small arrays.
      let chunk = new Uint8Array(Math.min(this.#chunkSize, values.length) * 32);
      let filled = 0;
      let first = 0;
      const items = (function* () {
        for (const value of values) yield { kind, value };
      })();
      for await (const tag of hashAndBlindBatch(this.#key, items, this.#batchOptions())) {
        chunk.set(tag, filled * 32);
        filled++;
        if (filled * 32 === chunk.length) {
          yield { type: 'tag_chunk', body: { kind, owner: this.me, hop: 0, first, tags: chunk } };
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
    return [...this.#answered];
  }

  /** What a lab must keep to resume (see LabSessionState); the key is a copy the caller must wipe. */
  state(): LabSessionState {
    return {
      key: Uint8Array.from(this.#key.exposeSecret()),
      order: Object.fromEntries([...this.#shuffled].map(([kind, values]) => [kind, [...values]])),
      answered: [...this.#answered],
      results: Object.fromEntries(this.#results),
    };
  }

  /** Erases the session key. */
  dispose(): void {
    this.#key.dispose();
  }

  async #blind(task: BlindTask): Promise<SessionMessage[]> {
    const labs = this.proposal.labs;
    const owner = labs.indexOf(task.owner);
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
    const id = `${task.owner}|${task.kind}|${task.hop}|${task.first}`;
    if (this.#answered.has(id)) return this.#abort(`blind task ${id} was already answered`);
    const problem = this.#provenanceProblem(task, labs[hopLab(owner, task.hop - 1, labs.length)] as string);
    if (problem !== undefined) return this.#abort(`blind task ${id}: ${problem}`);
    this.#answered.add(id);
    const blinded: Uint8Array[] = [];
    try {
      for await (const tag of blindBatch(this.#key, eachTag(task.tags), this.#batchOptions())) blinded.push(tag);
    } catch (error) {
      if ((error as { code?: string }).code === 'LOW_ORDER_POINT')
        return this.#abort('a blind task carried a low-order point');
      throw error;
    }
    const { source: _source, ...chunk } = task;
    return [{ type: 'blind_result', body: { ...chunk, tags: packTags(blinded) } }];
  }

  /**
   * Why the task's tags did not provably come from the previous hop, or undefined if they did: its
   * `source` must be an envelope of this session, signed by the previous hop's lab, of the right
   * type, carrying exactly these tags at the same place of the same set.
   */
  #provenanceProblem(task: BlindTask, previousLab: string): string | undefined {
    let source: ReturnType<typeof openEnvelope>;
    try {
      source = openEnvelope(task.source, this.#publicKeyOf);
    } catch (error) {
      return `its source envelope does not open (${(error as Error).message})`;
    }
    const { header } = source;
    const expectedType = task.hop === 1 ? 'tag_chunk' : 'blind_result';
    if (!equalBytes(header.session, this.#sessionId)) return 'its source is from another session';
    if (header.sender !== previousLab)
      return `its source is signed by ${header.sender}, not by the previous hop ${previousLab}`;
    if (header.type !== expectedType) return `its source is a ${header.type}, not a ${expectedType}`;
    let chunk: TagChunk;
    try {
      chunk = parseWithSchema(tagChunkSchema, source.payload, 'source chunk');
    } catch {
      return 'its source does not carry a tag chunk';
    }
    if (
      chunk.kind !== task.kind ||
      chunk.owner !== task.owner ||
      chunk.first !== task.first ||
      chunk.hop !== task.hop - 1
    ) {
      return 'its source is another part of the exchange';
    }
    if (!equalBytes(chunk.tags, task.tags)) {
      return 'its tags are not the tags its source carries';
    }
    return undefined;
  }

  /**
   * Result rows, checked here: the caller may hand over the relay's payload as decoded. The rows are
   * checked one at a time, and each result keeps the value and the session's own copy of each lab
   * id, so that the decoded rows (~20 MB for 300,000 shared items) can go as soon as this returns.
   */
  #rows(body: unknown): SessionMessage[] {
    let kind: string;
    let lab: string;
    let rows: Iterable<unknown>;
    try {
      if (body instanceof StreamedResultRows) {
        ({ kind, lab } = parseWithSchema(resultRowsShapeSchema, body.head, 'result rows'));
        rows = body.rows();
      } else ({ kind, lab, rows } = parseWithSchema(resultRowsShapeSchema, body, 'result rows'));
    } catch (error) {
      return this.#abort((error as Error).message);
    }
    if (lab !== this.me) return this.#abort(`result rows of kind ${kind} for ${lab}, not for this lab`);
    const values = this.#shuffled.get(kind);
    if (!values) return this.#abort(`result rows for kind ${kind}, which is not in the session`);
    if (this.#results.has(kind)) return this.#abort(`result rows for kind ${kind} arrived twice`);
    const others = new Map(this.proposal.labs.filter((lab) => lab !== this.me).map((lab) => [lab, lab]));
    const policy = this.proposal.policy;
    const seen = new Uint8Array(values.length);
    // Rows name few distinct lists of labs: results share one array per list (frozen), made of
    // the session's own lab id strings.
    const lists = new Map<string, string[]>();
    const sameLabs = (labs: readonly string[]): string[] => {
      const key = labs.join();
      let list = lists.get(key);
      if (list === undefined) {
        list = Object.freeze(labs.map((lab) => others.get(lab) as string)) as string[];
        lists.set(key, list);
      }
      return list;
    };
    const results: LabResult[] = [];
    let i = 0;
    for (const item of rows) {
      let row: ResultRow;
      try {
        row = parseWithSchema(resultRowSchema, item, `result row ${i++} of ${kind}`);
      } catch (error) {
        return this.#abort((error as Error).message);
      }
      if (row.position >= values.length || seen[row.position] === 1) {
        return this.#abort(`a result row for position ${row.position}, which this lab does not own (or twice)`);
      }
      seen[row.position] = 1;
      // Exactly the fields the policy allows, with values that can be true.
      const labsOk =
        policy.kind === 'labs'
          ? row.labs !== undefined &&
            row.labs.length >= 1 &&
            row.labs.every((lab, j) => others.has(lab) && (j === 0 || (row.labs?.[j - 1] as string) < lab))
          : row.labs === undefined;
      const countOk =
        policy.kind === 'count' ? row.count !== undefined && row.count <= others.size : row.count === undefined;
      if (!labsOk || !countOk)
        return this.#abort(`a result row for position ${row.position} does not fit the ${policy.kind} policy`);
      const result: LabResult = { value: values[row.position] as string };
      if (row.labs !== undefined) result.labs = sameLabs(row.labs);
      if (row.count !== undefined) result.count = row.count;
      results.push(result);
    }
    this.#results.set(kind, results);
    if (this.done) this.dispose();
    return [];
  }

  #abort(reason: string): SessionMessage[] {
    this.#aborted = reason;
    this.dispose();
    return [{ type: 'abort', body: { reason } }];
  }

  #batchOptions() {
    if (this.#pool) return { pool: this.#pool };
    return this.#backend === undefined ? { workers: 0 } : { workers: 0, backend: this.#backend };
  }
}
