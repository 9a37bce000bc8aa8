/**
 * A session transcript as `overlap audit export` writes it (spec/relay-api.md §3): deterministic
 * CBOR with the relay's identity, the admin-signed membership entries, every envelope of the
 * session, each with its receipt, the checkpoints and the consistency proofs between them.
 *
 * Reading checks only the shape, naming the field that is wrong; what the fields claim is for the
 * audit's checks (audit/verify.ts).
 */
import type { Receipt } from '@overlap/log';
import { decodeDeterministic } from '@overlap/protocol';
import { z } from 'zod';

const uint = z.int().min(0);
const bytes = (length?: number) =>
  z
    .instanceof(Uint8Array, { message: 'must be a byte string' })
    .refine((b) => length === undefined || b.length === length, `must be ${length} bytes`);
const receipt = z.strictObject({ index: uint, proof: z.array(bytes(32)), checkpoint: z.string() });
const logged = z.strictObject({ index: uint, envelope: bytes(), receipt });

const transcriptSchema = z.strictObject({
  version: z.literal(1),
  relay: z.strictObject({
    origin: z.string().min(1),
    log_key: bytes(32),
    relay_key_id: z.string().regex(/^[0-9a-f]{32}$/, 'must be a key id'),
    admin_key: bytes(32),
  }),
  session: bytes(16),
  membership: z.array(logged),
  envelopes: z.array(logged),
  checkpoints: z.array(z.strictObject({ size: uint, note: z.string() })),
  consistency: z.array(z.strictObject({ from: uint, to: uint, proof: z.array(bytes(32)) })),
});

/** An entry of the log as the transcript holds it: its index, its bytes, its receipt. */
export interface LoggedEntry {
  index: number;
  envelope: Uint8Array;
  receipt: Receipt;
}

export interface Transcript {
  version: 1;
  relay: { origin: string; log_key: Uint8Array; relay_key_id: string; admin_key: Uint8Array };
  session: Uint8Array;
  membership: LoggedEntry[];
  envelopes: LoggedEntry[];
  checkpoints: { size: number; note: string }[];
  consistency: { from: number; to: number; proof: Uint8Array[] }[];
}

/** Thrown when the bytes are not a transcript, with what is wrong and where. */
export class TranscriptFormatError extends Error {
  override readonly name = 'TranscriptFormatError';
}

/** Decodes and shape-checks a transcript; a `TranscriptFormatError` names the first fields that are wrong. */
export function readTranscript(bytes: Uint8Array): Transcript {
  let decoded: unknown;
  try {
    decoded = decodeDeterministic(bytes);
  } catch (error) {
    throw new TranscriptFormatError(`not deterministic CBOR: ${(error as Error).message}`);
  }
  const parsed = transcriptSchema.safeParse(decoded);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    const more = parsed.error.issues.length > 5 ? `; and ${parsed.error.issues.length - 5} more` : '';
    throw new TranscriptFormatError(`not a session transcript: ${issues.join('; ')}${more}`);
  }
  return parsed.data as Transcript;
}
