/**
 * `verifyTranscript`: checks a session transcript without trusting the relay or any lab — who
 * signed what, that the log holds every envelope in the order given and never rewrote itself, that
 * every hop was proven (spec/protocol.md §5.2), and that the results the relay handed out follow
 * from what the labs logged (spec/audit.md).
 *
 * Each check is its own function returning a verdict, composed here in the order of spec/audit.md:
 * the log's (transcript, admin key, checkpoints, membership, log order, signatures, sender chains,
 * receipts), then the session's (terms, key commitments, hops, chunk cut, distinctness, proof
 * request, reveals, challenge, chosen inputs, hop proofs, results, abort). A failing check names
 * what it caught, where, and — when it can tell — who is at fault; the later checks run on what did
 * verify, so one tampering may fail more than one check, and the first to fail is the one that
 * caught it. Pure: bytes in, a report out.
 */
import { toHex } from '@overlap/crypto';
import { checkWitnessPolicy, type WitnessPolicy } from '@overlap/log';
import { checkAbort, type Finding } from './abort-blame.js';
import { checkChallenge } from './challenge.js';
import { checkChosenInputs } from './chosen-inputs.js';
import { checkChunkCut } from './chunk-cut.js';
import { checkKeyCommitments } from './commitments.js';
import { checkDistinctness } from './distinctness.js';
import { checkLogOrder, checkSenderChains, checkSignatures, openSessionEnvelope } from './envelope-checks.js';
import type { AuditErrorCode } from './errors.js';
import { checkHopProofs, type ProvenChunks } from './hop-proofs.js';
import { checkHops } from './hops.js';
import { checkAdminKey, checkCheckpoints, checkReceipts } from './log-checks.js';
import type { SessionView } from './logged-envelope.js';
import { checkMembership, type MemberKeys } from './membership.js';
import { checkProofRequest } from './proof-request.js';
import type { EvidenceJudge } from './refusal-evidence.js';
import { checkResults } from './results.js';
import { checkReveals } from './reveals.js';
import { checkSessionTerms } from './session-terms.js';
import { checkTranscript } from './transcript.js';
import { AUDIT_CHECKS, type AuditCheckName, type AuditVerdict, notChecked } from './verdict.js';
import { checkWitnesses } from './witness-check.js';

export interface VerifyOptions {
  /** The forum admin's public key, obtained out of band: pin it, or the transcript's own is used (and said so). */
  adminKey?: Uint8Array;
  /** The auditor's witness policy: with it, check 21 requires the transcript's log be cosigned by its quorum. */
  witnesses?: WitnessPolicy;
}

export interface AuditReport {
  /** True only when every check holds. */
  ok: boolean;
  /** One verdict per check that ran, in the order of `AUDIT_CHECKS` (then `witnesses`, with a policy). */
  checks: AuditVerdict[];
  /** The first check that failed: the one that caught the problem. */
  failed?: AuditCheckName;
  /** The code of that check's verdict. */
  code?: AuditErrorCode;
  /** The key id of the party that check found at fault, when it names one (a lab's, or the relay's). */
  culprit?: string;
  /** Who that is, for people: the lab id its enrollment gives, or "the relay". */
  culpritName?: string;
  /** The session id (hex), once the transcript could be read. */
  session?: string;
}

export function verifyTranscript(bytes: Uint8Array, options: VerifyOptions = {}): AuditReport {
  if (options.witnesses !== undefined) checkWitnessPolicy(options.witnesses); // the caller's mistake: thrown
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
    ...checkSession({ relayKeyId: t.relay.relay_key_id, envelopes: signatures.opened }, (view) => ({
      open: (envelope, index) => openSessionEnvelope(t, membership.members, { index, envelope }),
      firstFailure: (envelopes) => checkSession({ ...view, envelopes }).find((v) => v.ok === false),
    })),
    ...(options.witnesses === undefined ? [] : [checkWitnesses(t, options.witnesses, log.anchor)]),
  ];
  const nameOf = (id: string) => (id === t.relay.relay_key_id ? 'the relay' : labName(membership.members, id));
  return reportOf(checks, toHex(t.session), nameOf);
}

/**
 * The session's checks, in order, each run only when those it builds on held. `judge` makes what
 * the abort check needs to judge a relay's abort that carries evidence (refusal-evidence.ts): that
 * runs these checks again, without it, on the session with the evidence put in.
 */
function checkSession(view: SessionView, judge?: (view: SessionView) => EvidenceJudge): AuditVerdict[] {
  const relay = view.relayKeyId;
  const terms = checkSessionTerms(view);
  const s = terms.session;
  if (s === undefined) return [terms.verdict, ...skippedAfter('session terms', 'the session terms did not verify')];
  const commitments = checkKeyCommitments(s);
  const hops = checkHops(view, s);
  const { chunks, finals } = hops;
  if (chunks === undefined || finals === undefined) {
    return [terms.verdict, commitments, hops.verdict, ...skippedAfter('hops', 'the hops did not verify')];
  }
  const request = checkProofRequest(s, chunks, relay);
  const reveals =
    request.request === undefined
      ? { verdict: notChecked('reveals', 'the proof request did not verify') }
      : checkReveals(s, request.request);
  const revealed = reveals.revealed;
  const challenge =
    revealed === undefined
      ? { verdict: notChecked('challenge', 'the reveals did not verify') }
      : checkChallenge(s, revealed, relay);
  const inputs =
    revealed === undefined
      ? { verdict: notChecked('chosen inputs', 'the reveals did not verify') }
      : checkChosenInputs(s, chunks, revealed.sigma);
  let proofs: { verdict: AuditVerdict; proven?: ProvenChunks };
  if (commitments.ok !== true) proofs = { verdict: notChecked('hop proofs', 'the key commitments did not verify') };
  else if (challenge.challengeIndex === undefined) {
    proofs = { verdict: notChecked('hop proofs', 'the challenge did not verify') };
  } else if (inputs.verdict.ok !== true) {
    proofs = { verdict: notChecked('hop proofs', 'the chosen inputs did not verify') };
  } else proofs = checkHopProofs(s, chunks, inputs.positions ?? new Map(), challenge.challengeIndex);
  // An aborted session's results are only checked to be absent: they need no proof round.
  const proven = proofs.proven ?? (s.abort ? new Map<string, number>() : undefined);
  const results =
    proven === undefined
      ? notChecked('results', 'the hop proofs could not be checked')
      : checkResults(view, s, finals, { chunks, proven });
  const verdicts = [
    commitments,
    hops.verdict,
    checkChunkCut(s, chunks),
    checkDistinctness(s, chunks),
    request.verdict,
    reveals.verdict,
    challenge.verdict,
    inputs.verdict,
    proofs.verdict,
    results,
  ];
  const found = firstFinding(verdicts);
  const abort =
    found === null
      ? notChecked('abort', 'a check before it failed without naming a culprit, or could not run')
      : checkAbort(view, s, { chunks, proven: proven ?? new Map(), found }, judge?.(view));
  return [terms.verdict, ...verdicts, abort];
}

/** Every check after `name`, not run. */
function skippedAfter(name: (typeof AUDIT_CHECKS)[number], because: string): AuditVerdict[] {
  return AUDIT_CHECKS.slice(AUDIT_CHECKS.indexOf(name) + 1).map((later) => notChecked(later, because));
}

/**
 * What the session checks found: undefined when every one holds, the first failure's culprit
 * when it names one, null when the first that did not hold names no one (or could not run).
 */
function firstFinding(verdicts: AuditVerdict[]): Finding | undefined | null {
  const first = verdicts.find((v) => v.ok !== true);
  if (first === undefined) return undefined;
  if (first.ok !== false || first.culprit === undefined) return null;
  return { check: first.name, code: first.code, culprit: first.culprit };
}

function labName(members: MemberKeys, id: string): string | undefined {
  return members.get(id)?.lab;
}

function reportOf(checks: AuditVerdict[], session?: string, nameOf?: (id: string) => string | undefined): AuditReport {
  const ok = checks.length >= AUDIT_CHECKS.length && checks.every((c) => c.ok === true);
  const report: AuditReport = { ok, checks };
  const failure = checks.find((c) => c.ok === false);
  if (failure?.ok === false) {
    report.failed = failure.name;
    report.code = failure.code;
    if (failure.culprit !== undefined) {
      report.culprit = failure.culprit;
      const name = nameOf?.(failure.culprit);
      if (name !== undefined) report.culpritName = name;
    }
  }
  if (session !== undefined) report.session = session;
  return report;
}
