/**
 * Signed envelopes: every protocol message travels as
 *
 *   envelope = { h: bytes(header), p: bytes(payload), s: bytes(64) }      (deterministic CBOR)
 *   header   = { v, type, session, sender, seq, prev, created, len, digest }
 *   s        = Ed25519(sender key, "OVERLAP-V1-ENVELOPE" || 0x00 || h)
 *
 * `len` and `digest` (SHA-256) bind the payload; `seq` and `prev` (SHA-256 of the sender's previous
 * envelope in the same session, 32 zero bytes for seq 0) chain each sender's messages so that a
 * dropped, replayed, reordered or forked message is visible. Signatures and hashes are over the
 * bytes as received, never over a re-encoding; the envelope's hash is SHA-256 of its bytes.
 */
import { equalBytes, sha256, sign, verify } from '@overlap/crypto';
import { z } from 'zod';
import { type CborLimits, type CborValue, decodeDeterministic, encodeDeterministic } from './cbor.js';
import { ProtocolError } from './errors.js';
import { ENVELOPE_CBOR_LIMITS, HEADER_CBOR_LIMITS, PAYLOAD_CBOR_LIMITS as LIMITS_BY_TYPE } from './payload-limits.js';
import { parseWithSchema } from './validate.js';
import { PROTOCOL_VERSION } from './version.js';

export const ENVELOPE_DOMAIN = 'OVERLAP-V1-ENVELOPE';
export const SESSION_ID_LENGTH = 16;
const DOMAIN_PREFIX = new TextEncoder().encode(`${ENVELOPE_DOMAIN}\0`);
/** `prev` of a sender's first envelope in a session (seq 0). */
export const ZERO_HASH = new Uint8Array(32);

export const MESSAGE_TYPES = [
  'enrollment',
  'revocation',
  'session_proposal',
  'join',
  'tag_chunk',
  'blind_task',
  'blind_result',
  'proof_request',
  'reveal',
  'challenge',
  'hop_proof',
  'result_rows',
  'abort',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Every message type's payload limits (payload-limits.ts; a type without its own is a type error). */
const PAYLOAD_CBOR_LIMITS: Readonly<Record<MessageType, Readonly<CborLimits>>> = LIMITS_BY_TYPE;

const bytesOf = (length: number) =>
  z.instanceof(Uint8Array).refine((b) => b.length === length, { message: `must be ${length} bytes` });

export const envelopeHeaderSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.enum(MESSAGE_TYPES),
  session: bytesOf(SESSION_ID_LENGTH),
  sender: z.string().regex(/^[0-9a-f]{32}$/, 'must be a key id (32 lowercase hex digits)'),
  seq: z.int().min(0),
  prev: bytesOf(32),
  created: z.int().min(0),
  len: z.int().min(0),
  digest: bytesOf(32),
});

export type EnvelopeHeader = z.infer<typeof envelopeHeaderSchema>;

const envelopeSchema = z.strictObject({ h: z.instanceof(Uint8Array), p: z.instanceof(Uint8Array), s: bytesOf(64) });

export interface EnvelopeSigner {
  keyId: string;
  secretKey: Uint8Array;
}

export interface SealInput {
  type: MessageType;
  session: Uint8Array;
  seq: number;
  /** Hash of this sender's previous envelope in the session; omitted for seq 0. */
  prev?: Uint8Array;
  /** Milliseconds since the epoch, from the caller's clock (this package reads none). */
  created: number;
  payload: CborValue;
}

export interface OpenedEnvelope {
  header: EnvelopeHeader;
  payload: CborValue;
  /** SHA-256 of the envelope bytes: what the next envelope's `prev` and the log refer to. */
  hash: Uint8Array;
  bytes: Uint8Array;
}

export function sealEnvelope(input: SealInput, signer: EnvelopeSigner): OpenedEnvelope {
  const payloadBytes = encodeDeterministic(input.payload);
  const header = parseWithSchema(
    envelopeHeaderSchema,
    {
      v: PROTOCOL_VERSION,
      type: input.type,
      session: input.session,
      sender: signer.keyId,
      seq: input.seq,
      prev: input.prev ?? ZERO_HASH,
      created: input.created,
      len: payloadBytes.length,
      digest: sha256(payloadBytes),
    },
    'envelope header',
  );
  if (header.seq === 0 && !equalBytes(header.prev, ZERO_HASH)) {
    throw new ProtocolError('INVALID_MESSAGE', 'the first envelope of a sender (seq 0) has no previous envelope');
  }
  const headerBytes = encodeDeterministic(header);
  const signature = sign(signer.secretKey, signingInput(headerBytes));
  const bytes = encodeDeterministic({ h: headerBytes, p: payloadBytes, s: signature });
  // The value as given, not decoded again from payloadBytes: a result of a million rows would pay
  // for a full decode just to hand back what the caller already holds.
  return { header, payload: input.payload, hash: sha256(bytes), bytes };
}

/**
 * Decodes and checks an envelope from the network: deterministic encoding, header schema, payload
 * length and digest, and the signature of the sender's key (looked up by key id; an unknown sender
 * is `BAD_ENVELOPE`). Chain checks (seq, prev) need the sender's history: see `checkChain`.
 */
export function openEnvelope(
  bytes: Uint8Array,
  publicKeyOf: (keyId: string) => Uint8Array | undefined,
  /** One set of limits for every part; default: each part's own (payload-limits.ts). */
  limits?: CborLimits,
  /** SHA-256 of `bytes` if the caller has it already (it must be of exactly these bytes). */
  bytesSha256?: Uint8Array,
): OpenedEnvelope {
  const { payloadBytes, ...verified } = verifyEnvelope(bytes, publicKeyOf, limits, bytesSha256);
  return {
    ...verified,
    payload: decodeDeterministic(payloadBytes, limits ?? PAYLOAD_CBOR_LIMITS[verified.header.type]),
  };
}

/** An envelope whose checks all passed, its payload left as the bytes that were signed. */
export interface VerifiedEnvelope {
  header: EnvelopeHeader;
  payloadBytes: Uint8Array;
  hash: Uint8Array;
  bytes: Uint8Array;
}

/**
 * What `openEnvelope` checks, without decoding the payload: for a reader that decodes a large
 * payload its own way (a result's rows one at a time: `StreamedResultRows`).
 */
export function verifyEnvelope(
  bytes: Uint8Array,
  publicKeyOf: (keyId: string) => Uint8Array | undefined,
  /** One set of limits for the envelope and its header; default: each its own (payload-limits.ts). */
  limits?: CborLimits,
  bytesSha256?: Uint8Array,
): VerifiedEnvelope {
  const outer = parseWithSchema(envelopeSchema, decodeDeterministic(bytes, limits ?? ENVELOPE_CBOR_LIMITS), 'envelope');
  const header = parseWithSchema(
    envelopeHeaderSchema,
    decodeDeterministic(outer.h, limits ?? HEADER_CBOR_LIMITS),
    'envelope header',
  );
  if (header.len !== outer.p.length) {
    throw new ProtocolError('BAD_ENVELOPE', `payload is ${outer.p.length} bytes; the header says ${header.len}`);
  }
  if (!equalBytes(sha256(outer.p), header.digest))
    throw new ProtocolError('BAD_ENVELOPE', 'payload digest does not match the header');
  const publicKey = publicKeyOf(header.sender);
  if (publicKey === undefined) throw new ProtocolError('BAD_ENVELOPE', `unknown sender ${header.sender}`);
  let verified: boolean;
  try {
    verified = verify(publicKey, signingInput(outer.h), outer.s);
  } catch (cause) {
    throw new ProtocolError('BAD_ENVELOPE', `the enrolled key of ${header.sender} is not a valid Ed25519 key`, {
      cause,
    });
  }
  if (!verified) throw new ProtocolError('BAD_ENVELOPE', `signature of ${header.sender} does not verify`);
  return { header, payloadBytes: outer.p, hash: bytesSha256 ?? sha256(bytes), bytes };
}

function signingInput(headerBytes: Uint8Array): Uint8Array {
  const input = new Uint8Array(DOMAIN_PREFIX.length + headerBytes.length);
  input.set(DOMAIN_PREFIX, 0);
  input.set(headerBytes, DOMAIN_PREFIX.length);
  return input;
}
