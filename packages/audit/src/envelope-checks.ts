/**
 * The session's envelopes as log entries (spec/audit.md checks 5–7): in strictly increasing log
 * order, each signed by a key allowed to sign at its index, and each sender's envelopes one chain
 * (spec/protocol.md §3: seq from 0, each `prev` the hash of the one before).
 *
 * Threat: an envelope dropped, duplicated, reordered, altered, taken from another session, or
 * signed by a key not enrolled or revoked at its index. A dropped or reordered envelope breaks its
 * sender's chain even when the relay re-signs the log around the gap.
 */
import { equalBytes, keyId as keyIdOf } from '@overlap/crypto';
import {
  type ChainState,
  checkChain,
  type OpenedEnvelope,
  openEnvelope,
  type Transcript,
  type TranscriptEntry,
} from '@overlap/protocol';
import { AuditError } from './errors.js';
import type { LoggedEnvelope } from './logged-envelope.js';
import { type MemberKeys, signingKeyAt } from './membership.js';
import { type AuditVerdict, atEntry, runCheck } from './verdict.js';

/** How many problems the `signatures` check names (it looks at every envelope). */
const SHOWN_PROBLEMS = 5;

/** The `log order` check: strictly increasing indexes, none shared with a membership entry. */
export function checkLogOrder(t: Transcript): AuditVerdict {
  return runCheck('log order', 'ENTRY_REORDERED', () => {
    const membershipIndexes = new Set(t.membership.map((m) => m.index));
    let last = -1;
    for (const { index } of t.envelopes) {
      if (index <= last) {
        const [code, how] =
          index === last ? (['ENTRY_DUPLICATED', 'duplicated'] as const) : (['ENTRY_REORDERED', 'reordered'] as const);
        throw new AuditError(code, `the envelope at log index ${index} comes after index ${last}: ${how}`, {
          details: { index },
        });
      }
      if (membershipIndexes.has(index)) {
        throw new AuditError('ENTRY_DUPLICATED', `log index ${index} is also a membership entry`, {
          details: { index },
        });
      }
      last = index;
    }
    return `${t.envelopes.length} envelopes in strictly increasing log order`;
  });
}

/**
 * The `signatures` check: every envelope is of this session and opens under the relay's key or a
 * lab key allowed at its index. Every envelope is tried; the ones that opened are returned, in
 * transcript order, for the later checks.
 */
export function checkSignatures(
  t: Transcript,
  members: MemberKeys,
): { verdict: AuditVerdict; opened: LoggedEnvelope[] } {
  const opened: LoggedEnvelope[] = [];
  const verdict = runCheck('signatures', 'SIGNATURE_INVALID', () => {
    if (keyIdOf(t.relay.log_key) !== t.relay.relay_key_id) {
      throw new AuditError('RELAY_KEY_MISMATCH', "relay_key_id is not the log key's id");
    }
    const problems: AuditError[] = [];
    for (const entry of t.envelopes) {
      try {
        opened.push({ index: entry.index, envelope: openSessionEnvelope(t, members, entry) });
      } catch (error) {
        problems.push(error as AuditError);
      }
    }
    const [first] = problems;
    if (first !== undefined) {
      const detail = problems
        .slice(0, SHOWN_PROBLEMS)
        .map((p) => p.message)
        .join('; ');
      throw new AuditError(first.code, detail, {
        cause: first,
        ...(first.details !== undefined && { details: first.details }),
      });
    }
    const signers = new Set(opened.map((o) => o.envelope.header.sender));
    return `${opened.length} envelopes from ${signers.size} signers, each under a key enrolled and not revoked at its index`;
  });
  return { verdict, opened };
}

/**
 * Opens one session envelope under the key allowed to sign at its index (the relay's, or a lab's
 * by `signingKeyAt`) and requires it to be of the transcript's session. Throws an `AuditError`
 * naming the index: `SIGNATURE_INVALID`, `SIGNER_NOT_ENROLLED`, `SIGNER_REVOKED` or `WRONG_SESSION`.
 */
export function openSessionEnvelope(
  t: Transcript,
  members: MemberKeys,
  entry: Pick<TranscriptEntry, 'index' | 'envelope'>,
): OpenedEnvelope {
  const { index } = entry;
  return atEntry(index, 'SIGNATURE_INVALID', `log index ${index}`, () => {
    const envelope = openEnvelope(entry.envelope, (id) =>
      id === t.relay.relay_key_id ? t.relay.log_key : signingKeyAt(members, id, index),
    );
    if (!equalBytes(envelope.header.session, t.session)) {
      throw new AuditError('WRONG_SESSION', 'an envelope of another session');
    }
    return envelope;
  });
}

/** The `sender chains` check: per sender, seq from 0 with no gap and each `prev` the hash of the one before. */
export function checkSenderChains(opened: readonly LoggedEnvelope[]): AuditVerdict {
  return runCheck('sender chains', 'CHAIN_BROKEN', () => {
    const chains = new Map<string, ChainState>();
    for (const { index, envelope } of opened) {
      const { sender } = envelope.header;
      chains.set(
        sender,
        atEntry(index, 'CHAIN_BROKEN', `log index ${index}`, () => checkChain(chains.get(sender), envelope)),
      );
    }
    return `${chains.size} chains, no gap and no fork`;
  });
}
