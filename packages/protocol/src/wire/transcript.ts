/**
 * The session transcript (spec/relay-api.md §3 `transcript`), declared once: the relay builds it
 * as a `Transcript` and encodes it as deterministic CBOR; `overlap audit export` writes those bytes
 * to a file; an auditor decodes them with `decodeTranscript` (what @overlap/audit does) and checks
 * what they claim.
 *
 * Decoding is strict, unlike the client's reading of relay answers (which ignores fields a newer
 * relay may add): a transcript is evidence, and an auditor cannot vouch for a field it did not
 * understand. An unknown or missing field, a byte string of the wrong length, a negative or
 * fractional number is an `INVALID_MESSAGE` naming every such field by its path; bytes that are
 * not deterministic CBOR are `BAD_ENCODING`. Only the shape is checked here: whether the
 * signatures, proofs and results hold is the audit's job.
 *
 * Threat: the file comes from whoever handed it to the auditor. Every length in it is attacker-
 * controlled; the CBOR scan bounds nesting and never allocates by a claimed length.
 */
import { z } from 'zod';
import { type CborValue, decodeDeterministic, encodeDeterministic } from '../cbor.js';
import { parseWithSchema } from '../validate.js';
import { receiptSchema } from './relay-api.js';

const uint = z.int().min(0);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be a byte string' });
const hash = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 32, { message: 'must be 32 bytes' });

/**
 * One log entry as the transcript holds it: its index, its bytes (a signed envelope), its receipt
 * (spec/relay-api.md §3 `receipt`, the fields relay-api.ts declares, held strictly here).
 */
const loggedEntrySchema = z.strictObject({
  index: uint,
  envelope: bytes,
  receipt: z.strictObject(receiptSchema.shape),
});

export const transcriptSchema = z.strictObject({
  version: z.literal(1),
  relay: z.strictObject({
    /** The log's origin line (spec/log.md §3). */
    origin: z.string().min(1),
    /** The relay's Ed25519 key: it signs the log's checkpoints and the relay's own envelopes. */
    log_key: hash,
    /** The key id of `log_key`, as the relay's envelopes name their sender. */
    relay_key_id: z.string().regex(/^[0-9a-f]{32}$/, 'must be a key id'),
    /** The forum admin's public key, which signs the membership entries. */
    admin_key: hash,
  }),
  session: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 16, { message: 'must be 16 bytes' }),
  /** Every admin-signed enrollment and revocation logged so far, in log order. */
  membership: z.array(loggedEntrySchema),
  /** Every envelope of the session, in log order. */
  envelopes: z.array(loggedEntrySchema),
  /** The checkpoints the receipts name, and the latest, in order of size. */
  checkpoints: z.array(z.strictObject({ size: uint, note: z.string() })),
  /** A consistency proof (RFC 9162) between each consecutive pair of checkpoints. */
  consistency: z.array(z.strictObject({ from: uint, to: uint, proof: z.array(hash) })),
  /**
   * The newest checkpoint the relay's witnesses had cosigned when the transcript was made, with
   * their cosignature lines: the log's note of one of the sizes above, cosigned. Absent when the
   * relay has no witnesses or none had cosigned yet.
   */
  witnessed: z.strictObject({ size: uint, note: z.string() }).optional(),
});

export type Transcript = z.infer<typeof transcriptSchema>;
export type TranscriptEntry = z.infer<typeof loggedEntrySchema>;

/**
 * Decodes and shape-checks a transcript. Throws `ProtocolError`: `BAD_ENCODING` for bytes that are
 * not deterministic CBOR, `INVALID_MESSAGE` (every wrong field in `issues`) for another shape.
 */
export function decodeTranscript(bytes: Uint8Array): Transcript {
  return parseWithSchema(transcriptSchema, decodeDeterministic(bytes), 'transcript');
}

/** The transcript's deterministic CBOR, as the relay serves it. */
export function encodeTranscript(transcript: Transcript): Uint8Array {
  return encodeDeterministic(transcript as unknown as CborValue);
}
