/**
 * The `key commitments` check (spec/audit.md check 10; spec/protocol.md §5.2 step 1,
 * spec/ciphersuite.md §10 "Session scalar and key commitment"): every join's K is acceptable — a
 * point of G, neither B nor −B — and differs from every earlier join's K.
 *
 * Threat: a lab that commits to a key under which a hop that does nothing still proves (K = −B is
 * the clamped scalar 5L − 1, the identity on G up to sign; K = B is s = 1), or that reuses another
 * lab's K. The culprit is the lab that signed the join (the later one, for a repeated K), as the
 * relay engine names it.
 */
import { equalBytes, keyCommitmentProblem } from '@overlap/crypto';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runCheck } from './verdict.js';

const PROBLEMS = {
  not_in_group: 'is not a point of G',
  base_point: 'is the base point B',
  negated_base_point: 'is −B (the clamped scalar 5L − 1: the identity on G up to sign)',
} as const;

export function checkKeyCommitments(s: SessionFacts): AuditVerdict {
  return runCheck('key commitments', 'KEY_COMMITMENT_INVALID', () => {
    const seen: [string, Uint8Array][] = [];
    for (const [lab, join] of s.joins) {
      // K comes from the lab: decoded and order-checked by the crypto package, never trusted.
      const problem = keyCommitmentProblem(join.key);
      if (problem !== undefined) {
        throw fault(
          'KEY_COMMITMENT_INVALID',
          `log index ${join.index}: ${lab}'s key commitment ${PROBLEMS[problem]}: its hop proofs would prove nothing`,
          { culprit: lab, index: join.index },
        );
      }
      const same = seen.find(([, key]) => equalBytes(key, join.key));
      if (same) {
        throw fault('KEY_COMMITMENT_REPEATED', `log index ${join.index}: ${lab} committed the same key as ${same[0]}`, {
          culprit: lab,
          index: join.index,
        });
      }
      seen.push([lab, join.key]);
    }
    return `${s.joins.size} key commitments, each a point of G other than ±B, all distinct`;
  });
}
