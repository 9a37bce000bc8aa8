/**
 * The session half of `overlap audit verify`, over envelopes whose signatures already verified:
 *
 * - session terms: one proposal, first, by one of its labs; one join per lab committing a size for
 *   exactly the session's kinds; only the labs and the relay speak, each only its own messages.
 * - hops: every chunk at every hop of every set is signed by the lab the hop schedule names; each
 *   hop tiles the set's committed length exactly once, at the same places as the hop before; so
 *   each final set carries exactly one hop from every lab.
 * - results: the matching recomputed from the logged final tags (a plain map from tag to owners,
 *   independent of the relay's matcher) gives, under the policy, exactly the rows the relay signed
 *   for each lab and kind.
 */
import { toHex } from '@overlap/crypto';
import {
  hopLab,
  type OpenedEnvelope,
  parseMessage,
  type ResultRow,
  type RevealPolicy,
  type SessionProposal,
  TAG_LENGTH,
  type TagChunk,
  tagCount,
} from '@overlap/protocol';

export interface SessionView {
  relayKeyId: string;
  /** The session's envelopes that verified, in log order. */
  envelopes: { index: number; envelope: OpenedEnvelope }[];
}

export interface SessionFacts {
  proposal: SessionProposal;
  /** Committed sizes: lab → kind → size. */
  sizes: Map<string, Record<string, number>>;
  abort?: { by: string; reason: string; index: number };
}

type Verdict = { ok: boolean; detail: string };

const LAB_TYPES = new Set(['session_proposal', 'join', 'tag_chunk', 'blind_result', 'abort']);
const RELAY_TYPES = new Set(['result_rows', 'abort']);

export function checkTerms(view: SessionView): { check: Verdict; session?: SessionFacts } {
  try {
    const first = view.envelopes[0];
    if (first?.envelope.header.type !== 'session_proposal') {
      throw new Error('the first envelope is not the session proposal');
    }
    const proposal = parseMessage('session_proposal', first.envelope.payload);
    if (!proposal.labs.includes(first.envelope.header.sender)) {
      throw new Error(`the proposal is signed by ${first.envelope.header.sender}, not one of its labs`);
    }
    const sizes = new Map<string, Record<string, number>>();
    let abort: SessionFacts['abort'];
    for (const { index, envelope } of view.envelopes.slice(1)) {
      const { sender, type } = envelope.header;
      const allowed = sender === view.relayKeyId ? RELAY_TYPES : proposal.labs.includes(sender) ? LAB_TYPES : undefined;
      if (!allowed) throw new Error(`log index ${index}: ${sender} is not a lab of the session`);
      if (!allowed.has(type) || type === 'session_proposal') {
        throw new Error(`log index ${index}: a ${type} from ${sender === view.relayKeyId ? 'the relay' : sender}`);
      }
      if (type === 'join') {
        if (sizes.has(sender)) throw new Error(`log index ${index}: ${sender} joined twice`);
        const join = parseMessage('join', envelope.payload).sizes;
        const kinds = Object.keys(join).sort();
        if (kinds.join() !== [...proposal.kinds].sort().join()) {
          throw new Error(`log index ${index}: ${sender} committed sizes for ${kinds.join(', ') || 'no kind'}`);
        }
        for (const [kind, size] of Object.entries(join)) {
          if (size > proposal.maxItemsPerKind) {
            throw new Error(
              `log index ${index}: ${sender} committed ${size} ${kind}, over ${proposal.maxItemsPerKind}`,
            );
          }
        }
        sizes.set(sender, join);
      }
      if (type === 'abort' && abort === undefined) {
        abort = { by: sender, reason: parseMessage('abort', envelope.payload).reason, index };
      }
    }
    const missing = proposal.labs.filter((lab) => !sizes.has(lab));
    if (missing.length > 0 && abort === undefined) throw new Error(`${missing.join(', ')} never joined`);
    const session: SessionFacts = abort ? { proposal, sizes, abort } : { proposal, sizes };
    const ended = abort ? `aborted at log index ${abort.index} by ${abort.by}: ${abort.reason}` : 'every lab joined';
    return {
      check: { ok: true, detail: `${proposal.labs.length} labs, kinds ${proposal.kinds.join(', ')}; ${ended}` },
      session,
    };
  } catch (error) {
    return { check: { ok: false, detail: (error as Error).message } };
  }
}

/** Final tags per kind, by the owner's index in the lab list: `size × 32` bytes in position order. */
export type FinalTags = Map<string, Uint8Array[]>;

export function checkHops(view: SessionView, s: SessionFacts): { check: Verdict; finals?: FinalTags } {
  const { labs, kinds } = s.proposal;
  const n = labs.length;
  try {
    /** owner|kind|hop → first → tag count. */
    const places = new Map<string, Map<number, number>>();
    const finals: FinalTags = new Map(kinds.map((kind) => [kind, labs.map(() => new Uint8Array(0))]));
    let chunks = 0;
    for (const { index, envelope } of view.envelopes) {
      const { type, sender } = envelope.header;
      if (type !== 'tag_chunk' && type !== 'blind_result') continue;
      const chunk: TagChunk = parseMessage(type, envelope.payload);
      const owner = labs.indexOf(chunk.owner);
      const at = `log index ${index}`;
      if (owner < 0 || !kinds.includes(chunk.kind)) throw new Error(`${at}: a chunk of ${chunk.owner}'s ${chunk.kind}`);
      if (chunk.hop >= n || (chunk.hop === 0) !== (type === 'tag_chunk'))
        throw new Error(`${at}: a ${type} at hop ${chunk.hop}`);
      const expected = labs[hopLab(owner, chunk.hop, n)] as string;
      if (sender !== expected) {
        throw new Error(
          `${at}: hop ${chunk.hop} of ${chunk.owner}'s ${chunk.kind} is signed by ${sender}, not ${expected}`,
        );
      }
      const size = s.sizes.get(chunk.owner)?.[chunk.kind];
      const count = tagCount(chunk.tags);
      if (size === undefined || chunk.first + count > size) {
        throw new Error(
          `${at}: tags ${chunk.first}…${chunk.first + count - 1} of a set of committed size ${size ?? 'none'}`,
        );
      }
      const key = `${chunk.owner}|${chunk.kind}|${chunk.hop}`;
      const here = places.get(key) ?? new Map<number, number>();
      if (here.has(chunk.first)) throw new Error(`${at}: the place ${key}|${chunk.first} is filled twice`);
      here.set(chunk.first, count);
      places.set(key, here);
      if (chunk.hop === n - 1) {
        const perOwner = finals.get(chunk.kind) as Uint8Array[];
        if ((perOwner[owner] as Uint8Array).length === 0) perOwner[owner] = new Uint8Array(size * TAG_LENGTH);
        (perOwner[owner] as Uint8Array).set(chunk.tags, chunk.first * TAG_LENGTH);
      }
      chunks++;
    }
    // Each hop tiles [0, size) once, at the places of the hop before it.
    for (const owner of labs) {
      const signers = new Set(Array.from({ length: n }, (_, hop) => labs[hopLab(labs.indexOf(owner), hop, n)]));
      if (signers.size !== n) throw new Error(`the hop schedule of ${owner}'s sets does not name every lab once`);
      for (const kind of kinds) {
        const size = s.sizes.get(owner)?.[kind];
        if (size === undefined) continue; // never joined (aborted session)
        for (let hop = 0; hop < n; hop++) {
          const key = `${owner}|${kind}|${hop}`;
          const here = places.get(key) ?? new Map<number, number>();
          const covered = tile(here, size);
          if (covered !== undefined && s.abort === undefined) {
            throw new Error(`hop ${hop} of ${owner}'s ${kind} (committed ${size}): ${covered}`);
          }
          if (hop === 0) continue;
          const before = places.get(`${owner}|${kind}|${hop - 1}`) ?? new Map<number, number>();
          for (const [first, count] of here) {
            if (before.get(first) !== count) {
              throw new Error(
                `hop ${hop} of ${owner}'s ${kind} has ${count} tags at ${first}, which hop ${hop - 1} does not`,
              );
            }
          }
        }
      }
    }
    const summary = `${chunks} chunks; every set of ${labs.length} labs × ${kinds.length} kinds`;
    if (s.abort) return { check: { ok: true, detail: `${summary} consistent as far as the aborted session went` } };
    return {
      check: { ok: true, detail: `${summary} carries exactly one hop from every lab, at its committed length` },
      finals,
    };
  } catch (error) {
    return { check: { ok: false, detail: (error as Error).message } };
  }
}

/** Why the places do not tile [0, size) exactly, or undefined when they do. */
function tile(places: Map<number, number>, size: number): string | undefined {
  let next = 0;
  for (const first of [...places.keys()].sort((a, b) => a - b)) {
    if (first > next) return `tags ${next}…${first - 1} are missing`;
    if (first < next) return `tags from ${first} overlap the chunk before`;
    next = first + (places.get(first) as number);
  }
  return next === size ? undefined : `tags ${next}…${size - 1} are missing`;
}

export function checkResults(view: SessionView, s: SessionFacts, finals: FinalTags): Verdict {
  const { labs, kinds, policy } = s.proposal;
  try {
    const given = new Map<string, { index: number; rows: ResultRow[] }>();
    for (const { index, envelope } of view.envelopes) {
      if (envelope.header.type !== 'result_rows') continue;
      const body = parseMessage('result_rows', envelope.payload);
      const key = `${body.lab}|${body.kind}`;
      if (!labs.includes(body.lab) || !kinds.includes(body.kind)) {
        throw new Error(`log index ${index}: result rows of ${body.kind} for ${body.lab}, not of this session`);
      }
      if (given.has(key)) throw new Error(`log index ${index}: a second set of ${body.kind} rows for ${body.lab}`);
      given.set(key, { index, rows: body.rows });
    }
    if (s.abort) {
      if (given.size > 0) throw new Error('result rows in an aborted session');
      return { ok: true, detail: 'no results: the session was aborted' };
    }
    let rows = 0;
    for (const kind of kinds) {
      const expected = recompute(finals.get(kind) as Uint8Array[], labs, policy);
      for (const [owner, lab] of labs.entries()) {
        const signed = given.get(`${lab}|${kind}`);
        if (!signed) throw new Error(`no ${kind} result rows for ${lab}`);
        const mine = expected[owner] as Map<number, ResultRow>;
        const seen = new Set<number>();
        for (const row of signed.rows) {
          const want = mine.get(row.position);
          if (seen.has(row.position)) throw new Error(`log index ${signed.index}: position ${row.position} twice`);
          seen.add(row.position);
          if (!want || !sameRow(want, row)) {
            throw new Error(
              `log index ${signed.index}: ${lab}'s ${kind} row ${JSON.stringify(row)}; the logged final tags give ${want ? JSON.stringify(want) : 'no row'}`,
            );
          }
        }
        if (seen.size !== mine.size) {
          const dropped = [...mine.keys()].find((p) => !seen.has(p));
          throw new Error(`log index ${signed.index}: ${lab}'s ${kind} rows leave out position ${dropped}`);
        }
        rows += seen.size;
      }
    }
    return {
      ok: true,
      detail: `${rows.toLocaleString('en-US')} rows for ${labs.length} labs × ${kinds.length} kinds equal the matching recomputed from the final tags`,
    };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

function sameRow(a: ResultRow, b: ResultRow): boolean {
  return a.position === b.position && a.count === b.count && a.labs?.join() === b.labs?.join();
}

/** Each lab's rows, by position, from the final tags: which other labs hold the same tag. */
function recompute(finals: Uint8Array[], labs: readonly string[], policy: RevealPolicy): Map<number, ResultRow>[] {
  const holders = new Map<string, number[]>();
  /** For each owner and position, the list of owners of that position's tag (shared with `holders`). */
  const heldBy = finals.map((tags, owner) =>
    Array.from({ length: tags.length / TAG_LENGTH }, (_, p) => {
      const tag = toHex(tags.subarray(p * TAG_LENGTH, (p + 1) * TAG_LENGTH));
      let list = holders.get(tag);
      if (list === undefined) {
        list = [];
        holders.set(tag, list);
      }
      if (!list.includes(owner)) list.push(owner);
      return list;
    }),
  );
  return heldBy.map((lists, owner) => {
    const rows = new Map<number, ResultRow>();
    lists.forEach((list, p) => {
      const others = list.filter((o) => o !== owner);
      if (policy.kind === 'threshold') {
        if (others.length + 1 >= policy.t) rows.set(p, { position: p });
      } else if (others.length > 0) {
        rows.set(
          p,
          policy.kind === 'labs'
            ? { position: p, labs: others.map((o) => labs[o] as string).sort() }
            : { position: p, count: others.length },
        );
      }
    });
    return rows;
  });
}
