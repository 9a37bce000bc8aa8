/**
 * The forum's membership as the transcript proves it (spec/audit.md check 4, spec/protocol.md §4
 * `enrollment`, `revocation`): admin-signed entries in one chain, each proven in the log, giving
 * each lab key the log index ranges in which it may sign.
 *
 * Threat: an envelope signed with a key the admin never enrolled, or had revoked before it was
 * logged. The ranges are by log index, which the receipts prove, not by any party's clock.
 */
import { keyId as keyIdOf } from '@overlap/crypto';
import { type ChainState, checkChain, openEnvelope, type Transcript } from '@overlap/protocol';
import { AuditError } from './errors.js';
import { type LogAnchor, proveLogged } from './log-checks.js';
import { type LoggedEnvelope, payloadOf } from './logged-envelope.js';
import { type AuditVerdict, atEntry, runCheck } from './verdict.js';

/** A lab key and the log index ranges in which it may sign: from each enrollment to the next revocation. */
export interface MemberKey {
  key: Uint8Array;
  lab: string;
  periods: { from: number; until?: number }[];
}

/** Lab keys by key id. */
export type MemberKeys = ReadonlyMap<string, MemberKey>;

/**
 * The `membership` check. The entries that verified (in log order, up to the first that failed)
 * and the keys they enrolled are returned even when a later entry fails, so the signatures are
 * still checked against those.
 */
export function checkMembership(
  t: Transcript,
  adminKey: Uint8Array,
  anchor: LogAnchor,
): { verdict: AuditVerdict; members: MemberKeys; opened: LoggedEnvelope[] } {
  const members = new Map<string, MemberKey>();
  const opened: LoggedEnvelope[] = [];
  const verdict = runCheck('membership', 'MEMBERSHIP_INVALID', () => {
    let chain: ChainState | undefined;
    let last = -1;
    const counts = { enrollment: 0, revocation: 0 };
    for (const entry of t.membership) {
      const { index } = entry;
      const what = `membership entry ${index}`;
      if (index <= last)
        throw new AuditError('ENTRY_REORDERED', `${what} comes after entry ${last}`, { details: { index } });
      last = index;
      const envelope = atEntry(index, 'SIGNATURE_INVALID', what, () => openEnvelope(entry.envelope, () => adminKey));
      chain = atEntry(index, 'CHAIN_BROKEN', what, () => checkChain(chain, envelope));
      proveLogged('membership entry', entry, anchor);
      counts[applyMembership(members, { index, envelope })]++;
      opened.push({ index, envelope });
    }
    return `${t.membership.length} admin-signed entries in one unbroken chain (${counts.enrollment} enrollments, ${counts.revocation} revocations), each proven in the log`;
  });
  return { verdict, members, opened };
}

/** Opens a key's signing period at an enrollment, closes it at a revocation; returns which it was. */
function applyMembership(members: Map<string, MemberKey>, entry: LoggedEnvelope): 'enrollment' | 'revocation' {
  const { index, envelope } = entry;
  const { type } = envelope.header;
  if (type === 'enrollment') {
    const enrollment = payloadOf('enrollment', entry);
    const id = keyIdOf(enrollment.signing_key);
    const member = members.get(id) ?? { key: enrollment.signing_key, lab: enrollment.lab, periods: [] };
    if (member.periods.length > 0 && member.periods.at(-1)?.until === undefined) {
      throw new AuditError('MEMBERSHIP_INVALID', `membership entry ${index} enrolls ${id}, which is enrolled already`, {
        details: { index },
      });
    }
    member.periods.push({ from: index });
    members.set(id, member);
    return type;
  }
  if (type === 'revocation') {
    const open = members.get(payloadOf('revocation', entry).key)?.periods.at(-1);
    if (open && open.until === undefined) open.until = index;
    return type;
  }
  throw new AuditError('MEMBERSHIP_INVALID', `membership entry ${index} is a ${type}`, { details: { index } });
}

/**
 * The key `id` may sign with at log index `index`: enrolled at a lower index and not revoked at a
 * lower one. Throws `SIGNER_NOT_ENROLLED` or `SIGNER_REVOKED` (the caller names the entry).
 */
export function signingKeyAt(members: MemberKeys, id: string, index: number): Uint8Array {
  const member = members.get(id);
  const period = member?.periods.findLast((p) => p.from < index);
  if (!member || !period) throw new AuditError('SIGNER_NOT_ENROLLED', `${id} was not enrolled`);
  if (period.until !== undefined && period.until < index) {
    throw new AuditError('SIGNER_REVOKED', `${id} (${member.lab}) was revoked at log index ${period.until}`);
  }
  return member.key;
}
