/**
 * The `abort` check (spec/audit.md check 20, spec/protocol.md §5, §5.2): when the relay aborted the
 * session, its abort names the culprit the audit finds from the transcript alone. A relay that
 * blames the wrong lab, blames no one when a lab is at fault, or aborts a sound session other than
 * at its deadline, is itself at fault. A deadline's abort names the first lab the session was
 * waiting on (waiting.ts) — and then that lab is at fault: the audit fails naming it, as it fails
 * naming a lab caught cheating.
 *
 * A relay's abort that carries the envelope it refused as evidence is judged in
 * refusal-evidence.ts: the lab is at fault when that envelope breaks the rules, the relay when not.
 *
 * A lab may abort a session (it is named as the one that ended it; denial of service is
 * attributed, not prevented): unless the audit finds a fault, that passes, and the relay's abort
 * that follows it must then name no one else.
 *
 * Threat: a relay that frames an honest lab, or ends a session that went well to deny its results.
 */
import type { Abort } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import type { ProvenChunks } from './hop-proofs.js';
import type { SessionView } from './logged-envelope.js';
import { type EvidenceJudge, judgeEvidence } from './refusal-evidence.js';
import type { Logged, SessionFacts } from './session-terms.js';
import { type AuditCheckName, type AuditVerdict, fault, runCheck } from './verdict.js';
import { notJoinedBefore, waitingOn } from './waiting.js';

/** What the checks before this one found: the first one that failed, and the culprit it named. */
export interface Finding {
  check: AuditCheckName;
  code: string;
  culprit: string;
}

type AbortMessage = Logged<Abort>;

/**
 * `judge` is how an abort with evidence is judged (refusal-evidence.ts); without it (the run that
 * judges evidence, on the session with the evidence put in) such an abort is left unjudged.
 */
export function checkAbort(
  view: SessionView,
  s: SessionFacts,
  checked: { chunks: ChunkIndex; proven: ProvenChunks; found: Finding | undefined },
  judge: EvidenceJudge | undefined,
): AuditVerdict {
  const relay = view.relayKeyId;
  const { chunks, proven, found } = checked;
  return runCheck('abort', 'ABORT_CULPRIT_WRONG', () => {
    const [first] = s.round.aborts;
    const relayAbort = s.round.aborts.find((a) => a.sender === relay);
    if (found !== undefined) return judgeFound(found, relayAbort, relay);
    if (first === undefined) return 'no abort';
    if (first.sender !== relay) return judgeLabAbort(first, relayAbort, relay);
    if (first.body.evidence === undefined) return judgeRelayAbort(s, chunks, proven, first, relay);
    if (judge === undefined) return `the relay's abort at log index ${first.index} carries evidence, not judged here`;
    return judgeEvidence(view, s, first, judge);
  });
}

const named = (abort: AbortMessage) => abort.body.culprit ?? 'no one';

/** The audit found a culprit: the relay's abort, if any, must name it. */
function judgeFound(found: Finding, relayAbort: AbortMessage | undefined, relay: string): string {
  const what = `the ${found.check} check (${found.code})`;
  if (found.culprit === relay) return `the audit names the relay itself, by ${what}`;
  if (relayAbort === undefined) return `no abort by the relay; ${what} names ${found.culprit}`;
  if (relayAbort.body.culprit === found.culprit) {
    return `the relay's abort at log index ${relayAbort.index} names ${found.culprit}, as ${what} does`;
  }
  throw fault(
    'ABORT_CULPRIT_WRONG',
    `log index ${relayAbort.index}: the relay's abort names ${named(relayAbort)}; ${what} finds ${found.culprit} at fault`,
    { culprit: relay, index: relayAbort.index },
  );
}

/** A lab ended a session in which the audit finds no fault: the relay's echo names no one else. */
function judgeLabAbort(first: AbortMessage, relayAbort: AbortMessage | undefined, relay: string): string {
  const claim = first.body.culprit === undefined ? '' : ` (naming ${first.body.culprit}, its claim)`;
  const ended = `aborted at log index ${first.index} by ${first.sender}${claim}: ${first.body.reason}`;
  const culprit = relayAbort?.body.culprit;
  if (relayAbort !== undefined && culprit !== undefined && culprit !== first.sender) {
    throw fault(
      'ABORT_CULPRIT_WRONG',
      `log index ${relayAbort.index}: the relay's abort names ${culprit}, in a session ${ended}, where the audit finds no fault`,
      { culprit: relay, index: relayAbort.index },
    );
  }
  return `${ended}; the audit finds no fault`;
}

/**
 * The relay ended a session in which the audit finds no fault: only its deadlines allow that — the
 * join deadline, while some lab had not joined (the culprit is the first of them), or the deadline.
 */
function judgeRelayAbort(
  s: SessionFacts,
  chunks: ChunkIndex,
  proven: ProvenChunks,
  abort: AbortMessage,
  relay: string,
): string {
  const { joinBy, deadline } = s.deadlines;
  const at = `log index ${abort.index}`;
  const notJoined = notJoinedBefore(s, abort.index);
  if (abort.created >= joinBy && abort.created < deadline && notJoined.length > 0) {
    return blameWaited(at, abort, { lab: notJoined[0] as string, owed: 'its join' }, 'join deadline', relay);
  }
  if (abort.created < deadline) {
    throw fault(
      'ABORT_UNFOUNDED',
      `${at}: the relay aborted (“${abort.body.reason}”) naming ${named(abort)}, before the deadline (${iso(deadline)})${notJoined.length > 0 ? ` and the join deadline (${iso(joinBy)})` : ''}, where the audit finds no fault`,
      { culprit: relay, index: abort.index },
    );
  }
  const [waited] = waitingOn(s, chunks, proven, abort.index);
  if (waited === undefined) {
    throw fault('ABORT_UNFOUNDED', `${at}: the relay aborted at its deadline, waiting on no lab`, {
      culprit: relay,
      index: abort.index,
    });
  }
  return blameWaited(at, abort, waited, 'deadline', relay);
}

/** A deadline passed while the session waited on `waited`: the abort must name it, and it is at fault. */
function blameWaited(
  at: string,
  abort: AbortMessage,
  waited: { lab: string; owed: string },
  which: 'deadline' | 'join deadline',
  relay: string,
): never {
  if (abort.body.culprit !== waited.lab) {
    throw fault(
      'ABORT_CULPRIT_WRONG',
      `${at}: the relay's ${which} abort names ${named(abort)}; the session was waiting on ${waited.lab} (${waited.owed})`,
      { culprit: relay, index: abort.index },
    );
  }
  throw fault(
    'DEADLINE_MISSED',
    `${at}: the ${which} passed while the session waited on ${waited.lab}, for ${waited.owed}; the relay's abort names it`,
    { culprit: waited.lab, index: abort.index },
  );
}

const iso = (ms: number) => new Date(ms).toISOString();
