/**
 * `verifyTranscript`: checks a session transcript without trusting the relay or any lab — who
 * signed what, that the log holds every envelope in the order given and never rewrote itself, and
 * that the results the relay handed out follow from what the labs logged (spec/audit.md).
 *
 * Each check is its own function returning a verdict, composed here in the order of spec/audit.md:
 * the log's (transcript, admin key, checkpoints, membership, log order, signatures, sender chains,
 * receipts), then the session's (terms, hops, results). A failing check names what it caught and
 * where; the later checks run on what did verify, so one tampering may fail more than one check,
 * and the first to fail is the one that caught it. Pure: bytes in, a report out.
 */
import { toHex } from '@overlap/crypto';
import { checkLogOrder, checkSenderChains, checkSignatures } from './envelope-checks.js';
import type { AuditErrorCode } from './errors.js';
import { checkHops } from './hops.js';
import { checkAdminKey, checkCheckpoints, checkReceipts } from './log-checks.js';
import type { SessionView } from './logged-envelope.js';
import { checkMembership } from './membership.js';
import { checkResults } from './results.js';
import { checkSessionTerms } from './session-terms.js';
import { checkTranscript } from './transcript.js';
import { AUDIT_CHECKS, type AuditCheckName, type AuditVerdict, notChecked } from './verdict.js';

export interface VerifyOptions {
  /** The forum admin's public key, obtained out of band: pin it, or the transcript's own is used (and said so). */
  adminKey?: Uint8Array;
}

export interface AuditReport {
  /** True only when every check holds. */
  ok: boolean;
  /** One verdict per check that ran, in the order of `AUDIT_CHECKS`. */
  checks: AuditVerdict[];
  /** The first check that failed: the one that caught the problem. */
  failed?: AuditCheckName;
  /** The code of that check's verdict. */
  code?: AuditErrorCode;
  /** The session id (hex), once the transcript could be read. */
  session?: string;
}

export function verifyTranscript(bytes: Uint8Array, options: VerifyOptions = {}): AuditReport {
  const read = checkTranscript(bytes);
  const t = read.transcript;
  if (t === undefined) return reportOf([read.verdict]);
  const log = checkCheckpoints(t);
  const membership = checkMembership(t, options.adminKey ?? t.relay.admin_key, log.anchor);
  const signatures = checkSignatures(t, membership.members);
  const checks = [
    read.verdict,
    checkAdminKey(t, options.adminKey),
    log.verdict,
    membership.verdict,
    checkLogOrder(t),
    signatures.verdict,
    checkSenderChains(signatures.opened),
    checkReceipts(t, log.anchor),
    ...checkSession({ relayKeyId: t.relay.relay_key_id, envelopes: signatures.opened }),
  ];
  return reportOf(checks, toHex(t.session));
}

/** The session's three checks, each run only when the one it builds on held. */
function checkSession(view: SessionView): AuditVerdict[] {
  const terms = checkSessionTerms(view);
  if (terms.session === undefined) {
    const because = 'the session terms did not verify';
    return [terms.verdict, notChecked('hops', because), notChecked('results', because)];
  }
  const hops = checkHops(view, terms.session);
  const results =
    hops.finals === undefined
      ? notChecked('results', 'the hops did not verify')
      : checkResults(view, terms.session, hops.finals);
  return [terms.verdict, hops.verdict, results];
}

function reportOf(checks: AuditVerdict[], session?: string): AuditReport {
  const ok = checks.length === AUDIT_CHECKS.length && checks.every((c) => c.ok === true);
  const report: AuditReport = { ok, checks };
  const failure = checks.find((c) => c.ok === false);
  if (failure?.ok === false) {
    report.failed = failure.name;
    report.code = failure.code;
  }
  if (session !== undefined) report.session = session;
  return report;
}
