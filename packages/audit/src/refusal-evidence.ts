/**
 * The `abort` check for a relay's abort that carries evidence (spec/audit.md check 20,
 * spec/protocol.md §5): the relay refused a lab's envelope as a violation and aborted the session
 * naming that lab; the refused envelope, as the lab signed it, is in the abort. The audit trusts
 * neither party: the evidence must be an envelope the named lab signed for this session, under a
 * key it could sign with there, that the log does not hold (an accepted envelope is no refusal),
 * and it must break a rule the audit itself checks:
 *   - its sender's chain: another envelope at a seq already used (equivocation), or the next seq
 *     with a `prev` that is not the sender's previous envelope (a fork). A seq beyond the next
 *     proves nothing (the envelopes before it may have been on their way);
 *   - otherwise, put in the session where it was refused (just before the abort), the session's
 *     checks 9–19 on it must fail at it or naming its sender — while without it they all held.
 * Then the lab is at fault (VIOLATION_REFUSED). Evidence that is not such an envelope
 * (EVIDENCE_INVALID), that breaks no rule (ABORT_UNFOUNDED), or that the checks pin on another
 * party (ABORT_CULPRIT_WRONG) puts the relay at fault.
 *
 * Threat: a relay that ends a session by framing a lab with an envelope it made up, one of another
 * session, one the lab had sent and the relay had accepted, or a sound one.
 */
import { equalBytes, toHex } from '@overlap/crypto';
import type { Abort, OpenedEnvelope } from '@overlap/protocol';
import type { LoggedEnvelope, SessionView } from './logged-envelope.js';
import type { Logged, SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault } from './verdict.js';

/** What judging evidence needs from the rest of the audit (verify.ts). */
export interface EvidenceJudge {
  /** Opens an envelope of this session under the key its sender may sign with at log index `index`; throws why not. */
  open(bytes: Uint8Array, index: number): OpenedEnvelope;
  /** The first of the session checks 9–19 that does not hold on `envelopes`, or undefined when all hold. */
  firstFailure(envelopes: readonly LoggedEnvelope[]): AuditVerdict | undefined;
}

/** Judges the relay's abort `abort` with evidence, in a session where checks 9–19 all held: throws the verdict's fault. */
export function judgeEvidence(view: SessionView, s: SessionFacts, abort: Logged<Abort>, judge: EvidenceJudge): never {
  const relay = view.relayKeyId;
  const at = `log index ${abort.index}`;
  const invalid = (why: string) =>
    fault('EVIDENCE_INVALID', `${at}: the relay's abort carries evidence that ${why}`, {
      culprit: relay,
      index: abort.index,
    });
  const { culprit, evidence } = abort.body;
  if (culprit === undefined || evidence === undefined) throw invalid('names no culprit');
  let opened: OpenedEnvelope;
  try {
    opened = judge.open(evidence, abort.index);
  } catch (error) {
    throw invalid(`is not an envelope of this session under a key allowed there (${(error as Error).message})`);
  }
  const { sender, seq } = opened.header;
  if (sender !== culprit) throw invalid(`is signed by ${sender}, not by ${culprit}, whom the abort names`);
  if (!s.proposal.labs.includes(sender)) throw invalid(`is signed by ${sender}, not a lab of the session`);
  const logged = view.envelopes.find((e) => equalBytes(e.envelope.hash, opened.hash));
  if (logged !== undefined) throw invalid(`is the envelope logged at index ${logged.index}: it was accepted`);

  const before = view.envelopes.filter((e) => e.index < abort.index);
  const previous = before.findLast((e) => e.envelope.header.sender === sender);
  const expected = previous === undefined ? 0 : previous.envelope.header.seq + 1;
  const refused = `${sender}'s ${opened.header.type} (seq ${seq}) that the relay refused, carried by its abort at ${at}`;
  const violation = (what: string) =>
    fault('VIOLATION_REFUSED', `${refused}, ${what}`, { culprit: sender, index: abort.index });
  if (seq < expected) {
    const used = before.find((e) => e.envelope.header.sender === sender && e.envelope.header.seq === seq);
    throw violation(`is another envelope at seq ${seq}, which ${sender} used at log index ${used?.index}`);
  }
  if (seq > expected) {
    throw fault('ABORT_UNFOUNDED', `${refused}, comes after a gap (seq ${expected} was next), which proves nothing`, {
      culprit: relay,
      index: abort.index,
    });
  }
  const prev = previous === undefined ? new Uint8Array(32) : previous.envelope.hash;
  if (!equalBytes(opened.header.prev, prev)) {
    throw violation(
      `does not follow ${sender}'s previous envelope (a fork of its chain; prev ${toHex(opened.header.prev)})`,
    );
  }

  const spliced = [...before, { index: abort.index, envelope: opened }, ...view.envelopes.slice(before.length)];
  const failure = judge.firstFailure(spliced);
  if (failure === undefined) {
    throw fault('ABORT_UNFOUNDED', `${refused}, breaks no rule the audit checks: with it, checks 9–19 hold`, {
      culprit: relay,
      index: abort.index,
    });
  }
  const pinned = failure.culprit ?? (failure.index === abort.index ? sender : undefined);
  if (pinned !== sender) {
    throw fault(
      'ABORT_CULPRIT_WRONG',
      `${refused}, would fail the ${failure.name} check (${failure.code}) naming ${pinned ?? 'no one'}, not ${sender}`,
      { culprit: relay, index: abort.index },
    );
  }
  throw violation(`breaks the ${failure.name} check (${failure.code}): ${failure.detail}`);
}
