/**
 * The payloads of the session messages (spec/protocol.md §4), as zod schemas. Every decoded payload
 * is validated completely; every invalid field is reported with its path.
 */
import { z } from 'zod';
import { revealPolicySchema } from '../reveal-policy.js';
import { parseWithSchema } from '../validate.js';
import { LAB_ID_PATTERN, LAB_ID_RULE } from './lab-id.js';
import { MAX_TAGS_PER_CHUNK, MIN_CHUNK_SIZE, TAG_LENGTH } from './tags.js';

const keyId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a key id');
const kind = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be an indicator kind name');
/** 1 to 65,536 tags of 32 bytes, concatenated (tags.ts). */
const packedTags = z.custom<Uint8Array>(
  (v) =>
    v instanceof Uint8Array &&
    v.length > 0 &&
    v.length % TAG_LENGTH === 0 &&
    v.length <= MAX_TAGS_PER_CHUNK * TAG_LENGTH,
  { message: `must be 1 to ${MAX_TAGS_PER_CHUNK} tags of ${TAG_LENGTH} bytes, concatenated` },
);
const count = z.int().min(0);

const key32 = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 32, { message: 'must be 32 bytes' });
const millis = z.int().min(0);

/** Signed by the forum's admin key: a lab's membership. */
export const enrollmentSchema = z
  .strictObject({
    lab: z.string().regex(LAB_ID_PATTERN, `must be a lab id: ${LAB_ID_RULE}`),
    name: z.string().min(1).max(200),
    signing_key: key32,
    sealing_key: key32,
    valid_from: millis,
    valid_until: millis,
  })
  .refine((e) => e.valid_until > e.valid_from, {
    message: 'valid_until must be after valid_from',
    path: ['valid_until'],
  });

/** Signed by the forum's admin key: a lab key withdrawn from a moment on. */
export const revocationSchema = z.strictObject({ key: keyId, reason: z.string().max(1024), effective: millis });

export const sessionProposalSchema = z
  .strictObject({
    labs: z
      .array(keyId)
      .min(2)
      .max(64)
      .refine((l) => new Set(l).size === l.length, { message: 'labs must be distinct' }),
    kinds: z
      .array(kind)
      .min(1)
      .max(16)
      .refine((k) => new Set(k).size === k.length, { message: 'kinds must be distinct' }),
    policy: revealPolicySchema,
    /** Most items one lab may commit per kind: bounds dictionary insertion. */
    maxItemsPerKind: z.int().min(1).max(100_000_000),
    /** When the session must be complete (milliseconds since the epoch); the relay enforces it. */
    deadline: z.int().min(0).optional(),
    /** When every lab must have joined (ms since the epoch; session-deadlines.ts); the relay enforces it. */
    joinBy: z.int().min(0).optional(),
    /** Which positions of each chunk a hop proves (spec/protocol.md §5.2); absent means `spot`. */
    proofs: z.enum(['spot', 'full']).optional(),
    /** Tags per chunk, the same for every lab and hop (spec/protocol.md §5.1); absent means 65,536. */
    chunkSize: z.int().min(MIN_CHUNK_SIZE).max(MAX_TAGS_PER_CHUNK).optional(),
  })
  // threshold t asks for items t labs hold: with fewer labs nothing could ever be revealed.
  .refine((p) => p.policy.kind !== 'threshold' || p.policy.t <= p.labs.length, {
    message: 'a threshold policy needs at least t labs',
    path: ['policy', 't'],
  });

export const joinSchema = z.strictObject({
  /** Committed set size per kind (padded, if the lab pads), before anyone's tags are visible. */
  sizes: z.record(kind, count),
  /** Key commitment K = enc([s]B) of the lab's session key (spec/ciphersuite.md §10). */
  key: key32,
  /** Commitment to the lab's secret coin ρ, revealed after every hop is in (spec/protocol.md §5.2). */
  coin: key32,
});

/** Relay -> every lab: every hop of every set is in; reveal your coin. */
export const proofRequestSchema = z.strictObject({ chunks: count });

/** Lab -> relay: its coin ρ, once the relay's proof_request is logged. */
export const revealSchema = z.strictObject({ coin: key32 });

/** Relay -> every lab: every lab's coin, in the order of the session's labs (σ is computed from them). */
export const challengeSchema = z.strictObject({ coins: z.array(key32).min(2).max(64) });

/** Lab -> relay: the proof for one chunk it blinded, at the positions σ chose (spec/ciphersuite.md §10). */
export const hopProofSchema = z.strictObject({
  kind,
  owner: keyId,
  hop: z.int().min(1),
  first: count,
  /** One sign bit per proven position, least significant bit first. */
  signs: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length <= MAX_TAGS_PER_CHUNK / 8, {
    message: `must be at most ${MAX_TAGS_PER_CHUNK / 8} bytes`,
  }),
  /** c ‖ z, two scalars. */
  proof: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 64, { message: 'must be 64 bytes' }),
});

/** Tags on their way: the owner's own upload (hop 0) or one lab's hop result. */
export const tagChunkSchema = z.strictObject({
  kind,
  owner: keyId,
  hop: z.int().min(0),
  first: count,
  tags: packedTags,
});

/**
 * A blind task carries, as `source`, the signed envelope (bytes as received) in which the previous
 * hop's lab sent these very tags: a lab blinds only tags that the owner or the previous hop really
 * produced, so the relay cannot use labs to blind guesses of its own (a dictionary attack).
 */
export const blindTaskSchema = tagChunkSchema.extend({
  source: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be bytes' }),
});

export const resultRowSchema = z.strictObject({
  position: count,
  /** `labs` policy: the other labs that hold this item. */
  labs: z.array(keyId).optional(),
  /** `count` policy: how many other labs hold it. */
  count: z.int().min(1).optional(),
});

/** `lab`: the lab these rows are for (the relay signs it, so an auditor can tell whose rows they are). */
export const resultRowsSchema = z.strictObject({ kind, lab: keyId, rows: z.array(resultRowSchema) });

/**
 * result_rows with the rows left unchecked, for a reader that checks them one at a time with
 * resultRowSchema (a million-item set's rows are then not copied whole).
 */
export const resultRowsShapeSchema = z.strictObject({ kind, lab: keyId, rows: z.array(z.unknown()) });

/**
 * `evidence`: in the relay's abort of a session whose lab sent an envelope the relay refused as a
 * violation (spec/protocol.md §5), that envelope's bytes as the lab signed them, so the culprit is
 * proven from the transcript (spec/audit.md check 20). A lab's abort carries none.
 */
export const abortSchema = z.strictObject({
  reason: z.string().max(1024),
  culprit: keyId.optional(),
  evidence: z
    .custom<Uint8Array>((v) => v instanceof Uint8Array && v.length > 0, { message: 'must be bytes' })
    .optional(),
});

export type Enrollment = z.infer<typeof enrollmentSchema>;
export type Revocation = z.infer<typeof revocationSchema>;
export type SessionProposal = z.infer<typeof sessionProposalSchema>;
export type Join = z.infer<typeof joinSchema>;
export type TagChunk = z.infer<typeof tagChunkSchema>;
export type BlindTask = z.infer<typeof blindTaskSchema>;
export type ResultRow = z.infer<typeof resultRowSchema>;
export type ResultRows = z.infer<typeof resultRowsSchema>;
export type Abort = z.infer<typeof abortSchema>;
export type ProofRequest = z.infer<typeof proofRequestSchema>;
export type Reveal = z.infer<typeof revealSchema>;
export type Challenge = z.infer<typeof challengeSchema>;
export type HopProofMessage = z.infer<typeof hopProofSchema>;

/** What the engines exchange; the shells wrap each one in a signed envelope. */
export type SessionMessage =
  | { type: 'join'; body: Join }
  | { type: 'tag_chunk'; body: TagChunk }
  | { type: 'blind_task'; body: BlindTask }
  | { type: 'blind_result'; body: TagChunk }
  | { type: 'proof_request'; body: ProofRequest }
  | { type: 'reveal'; body: Reveal }
  | { type: 'challenge'; body: Challenge }
  | { type: 'hop_proof'; body: HopProofMessage }
  | { type: 'result_rows'; body: ResultRows }
  | { type: 'abort'; body: Abort };

export interface Outgoing {
  /** Key id of the recipient lab. */
  to: string;
  message: SessionMessage;
}

const SCHEMAS = {
  enrollment: enrollmentSchema,
  revocation: revocationSchema,
  session_proposal: sessionProposalSchema,
  join: joinSchema,
  tag_chunk: tagChunkSchema,
  blind_task: blindTaskSchema,
  blind_result: tagChunkSchema,
  proof_request: proofRequestSchema,
  reveal: revealSchema,
  challenge: challengeSchema,
  hop_proof: hopProofSchema,
  result_rows: resultRowsSchema,
  abort: abortSchema,
} as const;

/** Validates a decoded envelope payload against the schema of its header's message type. */
export function parseMessage<T extends keyof typeof SCHEMAS>(type: T, payload: unknown): z.infer<(typeof SCHEMAS)[T]> {
  const schema: z.ZodType = SCHEMAS[type];
  return parseWithSchema(schema, payload, `${type} message`) as z.infer<(typeof SCHEMAS)[T]>;
}
