/**
 * The relay's answers (spec/relay-api.md §3), each declared once as a zod schema and the type
 * inferred from it: the relay types the answers it encodes with these, the client decodes them with
 * these, and the relay's OpenAPI document describes them from these (`relayAnswerJsonSchema`). The
 * requests are signed envelopes (spec/protocol.md §3), declared with the messages; the transcript,
 * the one answer auditors read, has its own module beside this one (transcript.ts).
 *
 * Two decoding modes, each where it has a reason:
 * - The answers here are lenient about unknown fields: a field that a newer relay adds is ignored
 *   and not copied into the result (zod's `z.object` strips it), so a client keeps working against
 *   a relay one minor version ahead. Every declared field is still checked in full, each problem
 *   reported with its path.
 * - The transcript is strict (an unknown field is an error): an auditor checks that a file holds
 *   exactly what the relay signed and logged, and a field it does not know could change the meaning.
 *
 * Threat: every value here comes from the relay, which the labs do not trust with their data or the
 * log. Checking the shape is only the first step: receipts and checkpoints are then verified
 * against the log's key, and envelopes against their signers' keys, before anything is believed.
 */
import { z } from 'zod';
import { SESSION_ID_LENGTH } from '../envelope.js';
import type { RelaySessionState } from '../session/relay-session.js';

/** A zod schema of one relay answer whose decoded value is `T`. */
export type RelayAnswerSchema<T = unknown> = z.ZodType<T>;

const uint = z.int().min(0);
const keyId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a key id (32 lowercase hex digits)');

/** A CBOR byte string (of `length` bytes when given); documented as binary in JSON Schema. */
function bytes(length?: number) {
  const size = length === undefined ? 'a CBOR byte string' : `a CBOR byte string of ${length} bytes`;
  return z
    .custom<Uint8Array>((v) => v instanceof Uint8Array && (length === undefined || v.length === length), {
      message: `must be ${size}`,
    })
    .meta({ type: 'string', format: 'binary', description: size });
}

const hash = bytes(32);
const sessionId = bytes(SESSION_ID_LENGTH);
const proof = z.array(hash).describe('the proof: SHA-256 node hashes (RFC 9162 §2.1.3)');

const SESSION_STATES = [
  'joining',
  'exchanging',
  'proving',
  'done',
  'aborted',
] as const satisfies readonly RelaySessionState[];
// Every state of the session engine is a state on the wire: this fails to compile when one is missing.
const everyState: Exclude<RelaySessionState, (typeof SESSION_STATES)[number]> extends never ? true : never = true;
void everyState;
const sessionState = z.enum(SESSION_STATES);

/**
 * What a lab's inbox holds: the blind tasks of its hops (the source envelope), and the relay's own
 * envelopes for it — the proof request and the challenge (one envelope in every lab's inbox, like an
 * abort; spec/protocol.md §5.2), its result rows, an abort.
 */
export const INBOX_ITEM_TYPES = ['blind_task', 'proof_request', 'challenge', 'result_rows', 'abort'] as const;

/** `GET /healthz` (JSON). */
export const relayHealthSchema = z.object({ status: z.literal('ok'), version: z.string() });

/** The limits `GET /v1/relay` announces (spec/relay-api.md §5). */
export const announcedLimitsSchema = z.object({
  max_body_bytes: uint,
  max_items_per_set: uint,
  request_timeout_ms: uint,
  rate_per_second: uint,
  rate_burst: uint,
  /** The latest deadline a proposal may set, ms after it (absent from relays before it was announced). */
  max_session_ms: uint.optional(),
  /** The longest a proposal may give its labs to join, ms after it (absent before it was announced). */
  max_join_window_ms: uint.optional(),
  /** How many open sessions (not done, not aborted) one lab may have proposed (absent before it was announced). */
  max_open_sessions_per_lab: uint.optional(),
  /** Bytes of hop-0 chunks one lab may have waiting for their sessions' last join (absent before it was announced). */
  max_held_bytes_per_lab: uint.optional(),
  /** Request bytes one key may send per second, and its burst (absent before they were announced). */
  bytes_per_second_per_lab: uint.optional(),
  bytes_burst_per_lab: uint.optional(),
  /** Relay CPU time, in ms, one key's requests may use per second, and its burst (absent before they were announced). */
  cpu_ms_per_second_per_lab: uint.optional(),
  cpu_ms_burst_per_lab: uint.optional(),
});

/** `GET /v1/relay`: the relay's identity and limits. */
export const relayInfoSchema = z.object({
  origin: z.string().describe("the log's origin, the first line of its checkpoints"),
  log_key: hash.describe("the relay's Ed25519 public key: it signs the checkpoints and, as relay_key_id, envelopes"),
  vkey: z.string().describe("the log's note verifier key (C2SP signed-note vkey)"),
  relay_key_id: keyId.describe(
    "key id of log_key: the sender of the relay's proof_request, challenge, result_rows and abort envelopes",
  ),
  admin_key: hash.describe("the forum admin's Ed25519 public key: it signs enrollments and revocations"),
  limits: announcedLimitsSchema,
});

export const membershipEntrySchema = z.object({ index: uint, envelope: bytes() });

/** `GET /v1/membership`: every enrollment and revocation envelope, in log order. */
export const membershipListSchema = z.object({ entries: z.array(membershipEntrySchema) });

/**
 * The receipt of a logged envelope (spec/protocol.md §6): the inclusion proof of its leaf in the
 * first signed checkpoint whose tree contains it. The same shape as @overlap/log's `Receipt`.
 */
export const receiptSchema = z.object({ index: uint, proof, checkpoint: z.string() });

/** `POST /v1/sessions`. */
export const sessionCreatedSchema = z.object({ session: sessionId, receipt: receiptSchema });

export const sessionAbortSchema = z.object({ reason: z.string(), culprit: keyId.optional() });

/** `GET /v1/sessions/{id}`: a session's status. */
export const sessionStatusSchema = z.object({
  session: sessionId,
  proposal: uint.describe('log index of the session proposal'),
  proposal_envelope: bytes().describe('the signed session_proposal envelope, as the relay received it'),
  labs: z.array(keyId),
  joined: z.array(keyId).describe('the labs that joined, in the order their joins arrived'),
  state: sessionState,
  join_by: uint.describe('milliseconds since the epoch: by when every lab must have joined').optional(),
  deadline: uint.describe('milliseconds since the epoch').optional(),
  waiting_on: z.array(keyId),
  abort: sessionAbortSchema.optional(),
});

/** `GET /v1/sessions`: the sessions the requesting lab is in. */
/** `GET /v1/sessions`: one page of the requesting lab's sessions, in log order of their proposals. */
export const sessionListSchema = z.object({
  sessions: z.array(sessionStatusSchema),
  next: uint
    .describe('the `from` of the next page: the log index of the next proposal; absent on the last page')
    .optional(),
});

export const inboxItemSchema = z.object({
  n: uint.describe("this lab's item counter, from 0"),
  type: z.enum(INBOX_ITEM_TYPES),
  index: uint.describe('log index of envelope'),
  envelope: bytes().describe("a blind task's source envelope; otherwise an envelope the relay signed"),
  hop: uint.describe('for a blind task: the hop this lab must apply').optional(),
});

/** `GET /v1/sessions/{id}/inbox`. */
export const inboxAnswerSchema = z.object({ items: z.array(inboxItemSchema), state: sessionState });

/** `GET /v1/log/inclusion`. */
export const inclusionAnswerSchema = z.object({ index: uint, size: uint, proof });

/** `GET /v1/log/consistency`. */
export const consistencyAnswerSchema = z.object({ from: uint, to: uint, proof });

export const logEntrySchema = z.object({
  index: uint,
  leaf_hash: hash,
  type: z.string(),
  sender: keyId,
  session: sessionId.optional(),
  envelope: bytes().describe('served for membership entries only').optional(),
});

/** `GET /v1/log/entries`. */
export const logEntriesSchema = z.object({ entries: z.array(logEntrySchema) });

/** The body of every error answer (spec/relay-api.md §1; the codes are spec/errors.md's). */
export const relayErrorBodySchema = z.object({
  error: z.object({ code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an error code'), message: z.string() }),
});

export type RelayHealth = z.infer<typeof relayHealthSchema>;
export type AnnouncedLimits = z.infer<typeof announcedLimitsSchema>;
export type RelayInfo = z.infer<typeof relayInfoSchema>;
export type MembershipEntry = z.infer<typeof membershipEntrySchema>;
export type MembershipList = z.infer<typeof membershipListSchema>;
export type SessionCreated = z.infer<typeof sessionCreatedSchema>;
export type SessionAbort = z.infer<typeof sessionAbortSchema>;
export type SessionStatus = z.infer<typeof sessionStatusSchema>;
export type SessionList = z.infer<typeof sessionListSchema>;
export type InboxItemType = (typeof INBOX_ITEM_TYPES)[number];
export type InboxItem = z.infer<typeof inboxItemSchema>;
export type InboxAnswer = z.infer<typeof inboxAnswerSchema>;
export type InclusionAnswer = z.infer<typeof inclusionAnswerSchema>;
export type ConsistencyAnswer = z.infer<typeof consistencyAnswerSchema>;
export type LogEntry = z.infer<typeof logEntrySchema>;
export type LogEntries = z.infer<typeof logEntriesSchema>;
export type RelayErrorBody = z.infer<typeof relayErrorBodySchema>;

/**
 * The JSON Schema (2020-12, as OpenAPI 3.1 embeds it) of an answer, for the relay's OpenAPI
 * document. It describes what a client accepts: unknown fields are allowed, byte strings are
 * `format: binary` (CBOR byte strings on the wire).
 */
export function relayAnswerJsonSchema(schema: RelayAnswerSchema): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json;
}
