/**
 * Check 21, `witnesses` (spec/audit.md), run only with the auditor's witness policy: the
 * transcript's `witnessed` note is the log's checkpoint of one of the transcript's sizes (so
 * check 3's consistency proofs tie it to every receipt), it covers every envelope of the session,
 * and at least the policy's quorum of its witnesses cosigned it. Then the history this transcript
 * shows is the one those witnesses saw: a relay that showed the auditor another log than the labs
 * would need them to cosign both.
 */
import { parseSignedNote, policyCosigners, verifyCheckpointNote, type WitnessPolicy } from '@overlap/log';
import type { Transcript } from '@overlap/protocol';
import { AuditError } from './errors.js';
import { checkCheckpoints, type LogAnchor } from './log-checks.js';
import { type AuditVerdict, runCheck, WITNESS_CHECK } from './verdict.js';

export function checkWitnesses(t: Transcript, policy: WitnessPolicy, anchor: LogAnchor): AuditVerdict {
  return runCheck(WITNESS_CHECK, 'WITNESSED_INVALID', () => {
    const witnessed = t.witnessed;
    if (witnessed === undefined)
      throw new AuditError('WITNESSED_MISSING', 'the transcript holds no checkpoint the relay’s witnesses cosigned');
    const listed = anchor.notes.get(witnessed.size);
    if (anchor.verifier === undefined || listed === undefined)
      throw new AuditError(
        'WITNESSED_INVALID',
        `size ${witnessed.size} is not a checkpoint of the transcript that verified`,
      );
    const checkpoint = verifyCheckpointNote(witnessed.note, [anchor.verifier]);
    if (checkpoint.size !== witnessed.size || parseSignedNote(witnessed.note).text !== parseSignedNote(listed).text)
      throw new AuditError(
        'WITNESSED_INVALID',
        `the witnessed note is not the log's checkpoint of size ${witnessed.size}`,
      );
    const last = t.envelopes.reduce((max, e) => Math.max(max, e.index), -1);
    if (witnessed.size <= last)
      throw new AuditError(
        'WITNESSED_STALE',
        `the witnessed checkpoint (size ${witnessed.size}) does not cover the session's last envelope (log index ${last})`,
      );
    const cosigners = policyCosigners(witnessed.note, policy);
    const named = policy.witnesses.map((w) => w.name).join(', ');
    if (cosigners.length < policy.quorum)
      throw new AuditError(
        'WITNESS_QUORUM_UNMET',
        `checkpoint ${witnessed.size} is cosigned by ${cosigners.length === 0 ? 'none' : cosigners.join(', ')} of ${named}; the policy needs ${policy.quorum}`,
      );
    return `checkpoint ${witnessed.size}, covering the session, cosigned by ${cosigners.join(', ')} (${policy.quorum} of ${named} needed)`;
  });
}

/**
 * Check 21 alone, with the checkpoints it builds on (check 3): for a tool that waits for the
 * relay's witnesses to catch up (`overlap audit export`) without running the whole audit each time.
 */
export function checkTranscriptWitnesses(t: Transcript, policy: WitnessPolicy): AuditVerdict {
  return checkWitnesses(t, policy, checkCheckpoints(t).anchor);
}
