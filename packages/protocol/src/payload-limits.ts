/**
 * How much CBOR each part of an envelope may hold (spec/protocol.md §3.1), so that a decoder
 * bounds its work by what the message can be before it builds anything: an envelope is a map of
 * three byte strings, its header a flat map, and each message type's payload what its schema
 * allows and no more — a `tag_chunk` is one small map with one large byte string, never millions of
 * maps. Only `result_rows` (one row per shared item) keeps the general limits of §2.
 */
import { type CborLimits, DEFAULT_CBOR_LIMITS } from './cbor.js';
import { MAX_TAGS_PER_CHUNK, TAG_LENGTH } from './session/tags.js';

/**
 * The envelope `{h, p, s}`: three byte strings, the payload's as long as the general limit. The
 * bounds leave room for a wrong shape (a field too many, a text instead of a map) to be decoded and
 * refused as BAD_ENVELOPE, which says more than BAD_CBOR; what they bound is the work.
 */
export const ENVELOPE_CBOR_LIMITS: Readonly<CborLimits> = {
  maxDepth: 2,
  maxByteStringLength: DEFAULT_CBOR_LIMITS.maxByteStringLength,
  maxTextLength: 64,
  maxArrayLength: 16,
  maxMapSize: 16,
};

/** The header: one flat map of short fields (with the same room for a wrong shape). */
export const HEADER_CBOR_LIMITS: Readonly<CborLimits> = {
  maxDepth: 2,
  maxByteStringLength: 1024,
  maxTextLength: 1024,
  maxArrayLength: 16,
  maxMapSize: 32,
};

/** A message of a few fields: lists of labs or coins (at most 64), short texts, keys. */
const SMALL: Readonly<CborLimits> = {
  maxDepth: 4,
  maxByteStringLength: 1024,
  maxTextLength: 4096,
  maxArrayLength: 64,
  maxMapSize: 32,
};

const CHUNK: Readonly<CborLimits> = { ...SMALL, maxByteStringLength: MAX_TAGS_PER_CHUNK * TAG_LENGTH };

/** By message type (envelope.ts holds it to MESSAGE_TYPES: every type has its limits). */
export const PAYLOAD_CBOR_LIMITS = {
  enrollment: SMALL,
  revocation: SMALL,
  session_proposal: SMALL,
  join: SMALL,
  tag_chunk: CHUNK,
  blind_result: CHUNK,
  // Its `source` is a whole envelope, as long as an envelope may be.
  blind_task: { ...CHUNK, maxByteStringLength: DEFAULT_CBOR_LIMITS.maxByteStringLength },
  proof_request: SMALL,
  reveal: SMALL,
  challenge: SMALL,
  hop_proof: { ...SMALL, maxByteStringLength: MAX_TAGS_PER_CHUNK / 8 },
  result_rows: DEFAULT_CBOR_LIMITS,
  // Its `evidence` is a whole envelope (a refused one), as long as an envelope may be.
  abort: { ...SMALL, maxByteStringLength: DEFAULT_CBOR_LIMITS.maxByteStringLength },
} as const satisfies Record<string, Readonly<CborLimits>>;
