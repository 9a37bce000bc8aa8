/**
 * The relay's answers (spec/relay-api.md §3) as types, and the checks that a decoded answer has
 * that shape. Everything here arrives from the relay: it is checked before it is used, and a
 * receipt's proof is verified by the caller (relay-client.ts) before it is trusted.
 */
import type { Receipt } from '@overlap/log';
import { arrayOf, bytes, type Check, keyId, object, oneOf, text, uint } from './shape.js';

export const SESSION_STATES = ['joining', 'exchanging', 'done', 'aborted'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const INBOX_ITEM_TYPES = ['blind_task', 'result_rows', 'abort'] as const;
export type InboxItemType = (typeof INBOX_ITEM_TYPES)[number];

export interface RelayInfo {
  /** The log's origin (the first line of its checkpoints). */
  origin: string;
  /** The relay's Ed25519 public key: it signs the log's checkpoints and, as `relay_key_id`, envelopes. */
  log_key: Uint8Array;
  /** The log's note verifier key (`<name>+<hex id>+<base64 key>`). */
  vkey: string;
  /** Key id of the relay's own signing key (it signs `result_rows` and `abort` envelopes). */
  relay_key_id: string;
  /** The forum's admin public key (it signs enrollments and revocations). */
  admin_key: Uint8Array;
  /** The relay's limits (spec/relay-api.md §5), by name. */
  limits: RelayLimits;
}

export type RelayLimits = Record<string, number>;

export interface MembershipEntry {
  index: number;
  envelope: Uint8Array;
}

export interface SessionAbort {
  reason: string;
  culprit?: string;
}

export interface SessionStatus {
  session: Uint8Array;
  /** Log index of the session proposal. */
  proposal: number;
  /** The signed session_proposal envelope, as the relay received it. */
  proposal_envelope: Uint8Array;
  labs: string[];
  joined: string[];
  state: SessionState;
  /** Milliseconds since the epoch. */
  deadline?: number;
  waiting_on: string[];
  abort?: SessionAbort;
}

export interface InboxItem {
  /** This lab's item counter, from 0. */
  n: number;
  type: InboxItemType;
  /** Log index of `envelope`. */
  index: number;
  /** For a blind task the source envelope; otherwise an envelope signed by the relay. */
  envelope: Uint8Array;
  /** For a blind task: the hop this lab must apply. */
  hop?: number;
}

export interface Inbox {
  items: InboxItem[];
  state: SessionState;
}

export interface InclusionAnswer {
  index: number;
  size: number;
  proof: Uint8Array[];
}

export interface ConsistencyAnswer {
  from: number;
  to: number;
  proof: Uint8Array[];
}

export interface LogEntry {
  index: number;
  leaf_hash: Uint8Array;
  type: string;
  sender: string;
  session?: Uint8Array;
  /** Served for membership entries only (spec/relay-api.md §3). */
  envelope?: Uint8Array;
}

const hash = bytes(32);
const sessionId = bytes(16);
const proof = arrayOf(hash);
const state = oneOf(...SESSION_STATES);

/** Limits by name (`max_body_bytes`, `rate_per_second`, …): whole numbers. */
const limits: Check<RelayLimits> = (value, path, issues) => {
  const out: RelayLimits = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    issues.push(`${path}: expected a map of limits`);
    return out;
  }
  for (const [name, limit] of Object.entries(value)) out[name] = uint(limit, `${path}.${name}`, issues);
  return out;
};

export const relayInfoAnswer: Check<RelayInfo> = object({
  origin: text,
  log_key: hash,
  vkey: text,
  relay_key_id: keyId,
  admin_key: hash,
  limits,
});

export const receiptAnswer: Check<Receipt> = object({ index: uint, proof, checkpoint: text });

export const createdSessionAnswer: Check<{ session: Uint8Array; receipt: Receipt }> = object({
  session: sessionId,
  receipt: receiptAnswer,
});

export const membershipAnswer: Check<{ entries: MembershipEntry[] }> = object({
  entries: arrayOf(object({ index: uint, envelope: bytes() })),
});

export const statusAnswer: Check<SessionStatus> = object(
  {
    session: sessionId,
    proposal: uint,
    proposal_envelope: bytes(),
    labs: arrayOf(keyId),
    joined: arrayOf(keyId),
    state,
    waiting_on: arrayOf(keyId),
  },
  { deadline: uint, abort: object({ reason: text }, { culprit: keyId }) },
);

export const sessionsAnswer: Check<{ sessions: SessionStatus[] }> = object({ sessions: arrayOf(statusAnswer) });

export const inboxAnswer: Check<Inbox> = object({
  items: arrayOf(object({ n: uint, type: oneOf(...INBOX_ITEM_TYPES), index: uint, envelope: bytes() }, { hop: uint })),
  state,
});

export const inclusionAnswer: Check<InclusionAnswer> = object({ index: uint, size: uint, proof });

export const consistencyAnswer: Check<ConsistencyAnswer> = object({ from: uint, to: uint, proof });

export const entriesAnswer: Check<{ entries: LogEntry[] }> = object({
  entries: arrayOf(
    object({ index: uint, leaf_hash: hash, type: text, sender: keyId }, { session: sessionId, envelope: bytes() }),
  ),
});
