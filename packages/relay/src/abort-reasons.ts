/**
 * The aborts the relay raises from outside the session engine, and their reasons (spec/protocol.md
 * §5): a deadline (or join deadline) that passed, and a lab's envelope refused as a violation. The engine is pure;
 * these are the shell's (relay.ts).
 *
 * A refusal aborts only when the refused envelope proves its sender broke the session's rules: it
 * opened under the sender's key, is for this session, the sender is one of its labs, the session
 * is still open, and the relay refused it as a violation (`ABORTING_CODES`). A chain gap does not:
 * the envelopes before it may still be on their way. Nothing else does (an envelope that does not
 * open proves nothing about who made it; a request refused by authentication, rate or storage is
 * not the lab's envelope at fault).
 */
import type { OpenedEnvelope } from '@overlap/protocol';
import { RelayError, type RelayErrorCode } from './errors.js';

/** The longest `reason` an abort may carry (spec/protocol.md §4). */
export const ABORT_REASON_MAX = 1024;

/**
 * The codes of a refused session envelope that abort the session (spec/errors.md §2): a message
 * that breaks its schema or the session's rules, a join over the session's cap, another envelope
 * where the sender already sent one (equivocation), and — for CHAIN_BROKEN — a `prev` that is not
 * the sender's previous envelope (a fork of its own chain), not a gap.
 */
export const ABORTING_CODES: readonly RelayErrorCode[] = [
  'PROTOCOL_VIOLATION',
  'SET_TOO_LARGE',
  'CONFLICT',
  'CHAIN_BROKEN',
];

/**
 * Whether this refusal of `opened` aborts its session; `expectedSeq` is the sender's next seq
 * there. Never after a gap (a seq beyond the next), whatever was wrong with it: the audit judges
 * the evidence at the sender's next seq, and the envelopes of the gap may still be on their way.
 * Nor for a lab's `abort` at a seq it used, or with a wrong `prev`.
 */
export function refusalAborts(error: unknown, opened: OpenedEnvelope, expectedSeq: number): error is RelayError {
  if (!(error instanceof RelayError) || !ABORTING_CODES.includes(error.code)) return false;
  if (opened.header.seq > expectedSeq) return false;
  // A lab's own abort that lost a race with its other envelopes (`overlap session abort` while its
  // `session run` sends): it meant to end the session, and is answered 409 to send it again at its next seq.
  if (opened.header.type === 'abort' && (error.code === 'CONFLICT' || error.code === 'CHAIN_BROKEN')) return false;
  return error.code !== 'CHAIN_BROKEN' || opened.header.seq === expectedSeq;
}

/** The reason of a refusal's abort: who sent what, and why it was refused, cut to fit an abort. */
export function refusalReason(opened: OpenedEnvelope, error: RelayError): string {
  const { sender, type, seq } = opened.header;
  return cutToFit(`the relay refused ${sender}'s ${type} (seq ${seq}), ${error.code}: ${error.message}`);
}

/**
 * The reason of a deadline's abort: the labs it waited on, as many as fit in an abort's reason
 * (`… and N more`; the culprit is the first). With 64 labs their key ids alone are over 2 KiB, and
 * an abort the schema refuses could not be replayed at the next start, nor read by the labs.
 */
export function deadlineReason(waiting: readonly string[]): string {
  return listedReason('the session deadline passed; waiting on ', waiting);
}

/** The reason of a join deadline's abort: the labs that had not joined, as for a deadline (the culprit is the first). */
export function joinDeadlineReason(missing: readonly string[]): string {
  return listedReason('the join deadline passed; not joined: ', missing);
}

function listedReason(head: string, waiting: readonly string[]): string {
  if (waiting.length === 0) return `${head}no lab`;
  let named = waiting.length;
  const text = (n: number) =>
    `${head}${waiting.slice(0, n).join(', ')}${n < waiting.length ? ` and ${waiting.length - n} more` : ''}`;
  while (text(named).length > ABORT_REASON_MAX) named--;
  return text(named);
}

/**
 * `text` cut to fit an abort's reason, with an ellipsis when cut. The schema counts UTF-16 units
 * (at least the code points the spec counts); the cut never splits a surrogate pair.
 */
function cutToFit(text: string): string {
  if (text.length <= ABORT_REASON_MAX) return text;
  let kept = '';
  for (const point of text) {
    if (kept.length + point.length > ABORT_REASON_MAX - 1) break;
    kept += point;
  }
  return `${kept}…`;
}
