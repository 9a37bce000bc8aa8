/**
 * The `hops` check (spec/audit.md check 10, spec/protocol.md §5): every chunk at every hop of
 * every set is signed by the lab the hop schedule names, lies within the set's committed size and
 * fills its place once; each hop tiles the set exactly, at the places of the hop before. So each
 * final set carries exactly one hop from every lab, at its committed length.
 *
 * Threat: a lab and the relay that skip a blinding, or blind only part of a set, and re-sign the
 * rest; the final tags would then not be comparable, and the results not what they claim.
 */
import { findUnsafeTag } from '@overlap/crypto';
import { hopLab, TAG_LENGTH, type TagChunk, tagCount } from '@overlap/protocol';
import { ChunkIndex } from './chunk-index.js';
import { AuditError } from './errors.js';
import { type LoggedEnvelope, payloadOf, type SessionView } from './logged-envelope.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, runValueCheck } from './verdict.js';

/** Final tags per kind, by the owner's index in the lab list: `size × 32` bytes in position order. */
export type FinalTags = Map<string, Uint8Array[]>;

/** The chunks of one hop of one set: first position → tag count, and the chunk's log index. */
type HopPlaces = Map<number, { count: number; index: number }>;

interface PlacedChunks {
  /** By `owner|kind|hop`. */
  places: Map<string, HopPlaces>;
  finals: FinalTags;
  chunks: number;
  /** Every chunk, for the checks after this one. */
  index: ChunkIndex;
}

/**
 * Checks the hops; when they hold (as far as they went, in an aborted session), the final tags and
 * every chunk by place are returned.
 */
export function checkHops(
  view: SessionView,
  s: SessionFacts,
): { verdict: AuditVerdict; finals?: FinalTags; chunks?: ChunkIndex } {
  const { labs, kinds } = s.proposal;
  const { verdict, value } = runValueCheck(
    'hops',
    'HOP_INVALID',
    () => {
      const placed = placeChunks(view, s);
      checkTiling(placed.places, s);
      return placed;
    },
    ({ chunks }) => {
      const summary = `${chunks} chunks; every set of ${labs.length} labs × ${kinds.length} kinds`;
      if (s.abort) return `${summary} consistent as far as the aborted session went`;
      return `${summary} carries exactly one hop from every lab, at its committed length`;
    },
  );
  return value === undefined ? { verdict } : { verdict, finals: value.finals, chunks: value.index };
}

const placeKey = (owner: string, kind: string, hop: number) => `${owner}|${kind}|${hop}`;

/** Each chunk checked on its own and put in its place; the last hop's tags copied into the final sets. */
function placeChunks(view: SessionView, s: SessionFacts): PlacedChunks {
  const { labs, kinds } = s.proposal;
  const placed: PlacedChunks = {
    places: new Map(),
    finals: new Map(kinds.map((kind) => [kind, labs.map(() => new Uint8Array(0))])),
    chunks: 0,
    index: new ChunkIndex(),
  };
  for (const entry of view.envelopes) {
    const { type } = entry.envelope.header;
    if (type !== 'tag_chunk' && type !== 'blind_result') continue;
    const chunk = payloadOf(type, entry);
    const size = checkChunk(s, entry, chunk);
    const key = placeKey(chunk.owner, chunk.kind, chunk.hop);
    const here: HopPlaces = placed.places.get(key) ?? new Map();
    if (here.has(chunk.first)) {
      throw new AuditError(
        'HOP_PLACE_REPEATED',
        `log index ${entry.index}: the place ${key}|${chunk.first} is filled twice`,
        {
          details: { index: entry.index },
        },
      );
    }
    here.set(chunk.first, { count: tagCount(chunk.tags), index: entry.index });
    placed.places.set(key, here);
    const { sender, digest } = entry.envelope.header;
    placed.index.add({ index: entry.index, sender, ...chunk, digest });
    if (chunk.hop === labs.length - 1) {
      const perOwner = placed.finals.get(chunk.kind) as Uint8Array[];
      const owner = labs.indexOf(chunk.owner);
      if ((perOwner[owner] as Uint8Array).length === 0) perOwner[owner] = new Uint8Array(size * TAG_LENGTH);
      (perOwner[owner] as Uint8Array).set(chunk.tags, chunk.first * TAG_LENGTH);
    }
    placed.chunks++;
  }
  placed.index.seal();
  return placed;
}

/**
 * One chunk: of a set of the session, of its hop's type, signed by the hop's lab, within the
 * committed size, every tag a canonical encoding of a point not of low order.
 */
function checkChunk(s: SessionFacts, entry: LoggedEnvelope, chunk: TagChunk): number {
  const { labs, kinds } = s.proposal;
  const { index } = entry;
  const { type, sender } = entry.envelope.header;
  const at = `log index ${index}`;
  const owner = labs.indexOf(chunk.owner);
  if (owner < 0 || !kinds.includes(chunk.kind)) {
    throw new AuditError('HOP_INVALID', `${at}: a chunk of ${chunk.owner}'s ${chunk.kind}`, { details: { index } });
  }
  if (chunk.hop >= labs.length || (chunk.hop === 0) !== (type === 'tag_chunk')) {
    throw new AuditError('HOP_INVALID', `${at}: a ${type} at hop ${chunk.hop}`, { details: { index } });
  }
  const expected = labs[hopLab(owner, chunk.hop, labs.length)] as string;
  if (sender !== expected) {
    throw new AuditError(
      'HOP_WRONG_SIGNER',
      `${at}: hop ${chunk.hop} of ${chunk.owner}'s ${chunk.kind} is signed by ${sender}, not ${expected}`,
      { details: { index } },
    );
  }
  const size = s.sizes.get(chunk.owner)?.[chunk.kind];
  const count = tagCount(chunk.tags);
  if (size === undefined || chunk.first + count > size) {
    throw new AuditError(
      'HOP_OUT_OF_RANGE',
      `${at}: tags ${chunk.first}…${chunk.first + count - 1} of a set of committed size ${size ?? 'none'}`,
      { details: { index } },
    );
  }
  // The relay refuses these (spec/protocol.md §5): a low-order tag would match whatever the keys.
  const unsafe = findUnsafeTag(chunk.tags);
  if (unsafe !== undefined) {
    const what = unsafe.reason === 'low_order' ? 'a low-order tag' : 'a tag that is not canonically encoded';
    throw new AuditError('HOP_TAG_UNSAFE', `${at}: ${sender} sent ${what} (at ${chunk.first + unsafe.index})`, {
      details: { index, culprit: sender },
    });
  }
  return size;
}

/** Each hop of each set tiles [0, size) once, at the places of the hop before it. */
function checkTiling(places: PlacedChunks['places'], s: SessionFacts): void {
  const { labs, kinds } = s.proposal;
  const n = labs.length;
  for (const [ownerIndex, owner] of labs.entries()) {
    const signers = new Set(Array.from({ length: n }, (_, hop) => labs[hopLab(ownerIndex, hop, n)]));
    if (signers.size !== n) {
      throw new AuditError('HOP_SCHEDULE_INVALID', `the hop schedule of ${owner}'s sets does not name every lab once`);
    }
    for (const kind of kinds) {
      const size = s.sizes.get(owner)?.[kind];
      if (size !== undefined) checkSetTiling(places, s, owner, kind, size); // undefined: never joined (aborted)
    }
  }
}

/**
 * One set's hops: each tiles [0, size) exactly (unless the session was aborted, which excuses
 * missing tags, never overlapping ones), where the hop before did. A chunk that overlaps the one
 * before it, or lies where the hop before has no chunk of its length, is named by its log index:
 * its signer sent it (and the relay accepted it, or refused it: refusal-evidence.ts).
 */
function checkSetTiling(places: PlacedChunks['places'], s: SessionFacts, owner: string, kind: string, size: number) {
  let before: HopPlaces | undefined;
  for (let hop = 0; hop < s.proposal.labs.length; hop++) {
    const here: HopPlaces = places.get(placeKey(owner, kind, hop)) ?? new Map();
    const what = `hop ${hop} of ${owner}'s ${kind}`;
    const { gap, overlap } = tile(here, size);
    if (overlap !== undefined) {
      throw new AuditError(
        'HOP_MISALIGNED',
        `log index ${overlap.index}: ${what} has tags from ${overlap.first} that overlap the chunk before`,
        {
          details: { index: overlap.index },
        },
      );
    }
    if (gap !== undefined && s.abort === undefined) {
      throw new AuditError('HOP_INCOMPLETE', `${what} (committed ${size}): ${gap}`);
    }
    const moved = before && [...here].find(([first, { count }]) => before?.get(first)?.count !== count);
    if (moved) {
      const [first, { count, index }] = moved;
      throw new AuditError(
        'HOP_MISALIGNED',
        `log index ${index}: ${what} has ${count} tags at ${first}, which hop ${hop - 1} does not`,
        { details: { index } },
      );
    }
    before = here;
  }
}

/** Why the places do not tile [0, size) exactly: the first tags missing, and the first chunk overlapping the one before. */
function tile(places: HopPlaces, size: number): { gap?: string; overlap?: { first: number; index: number } } {
  let next = 0;
  let before = -1; // the log index of the chunk before, in position order
  let gap: string | undefined;
  for (const first of [...places.keys()].sort((a, b) => a - b)) {
    const { count, index } = places.get(first) as { count: number; index: number };
    // Of two chunks that overlap, the one logged later is at fault: the other was there first.
    if (first < next) return { ...(gap !== undefined && { gap }), overlap: { first, index: Math.max(index, before) } };
    before = index;
    if (first > next) gap ??= `tags ${next}…${first - 1} are missing`;
    next = first + count;
  }
  if (next !== size) gap ??= `tags ${next}…${size - 1} are missing`;
  return gap === undefined ? {} : { gap };
}
