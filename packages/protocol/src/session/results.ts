/**
 * The relay's last step (spec/protocol.md §5): the fully blinded tags of every kind matched, and
 * each lab's rows built under the session's reveal policy — only for the lab's own positions, and
 * only with what the policy allows it to learn about them.
 */
import type { RevealPolicy } from '../reveal-policy.js';
import { matchFinalTags } from './match.js';
import type { Outgoing, ResultRow, SessionProposal } from './messages.js';

/** One `result_rows` per lab and kind; `finalOf(owner, kind)` is that set's fully blinded tags. */
export function computeResults(
  proposal: SessionProposal,
  finalOf: (owner: string, kind: string) => Uint8Array,
): Outgoing[] {
  const out: Outgoing[] = [];
  const labs = proposal.labs;
  for (const kind of proposal.kinds) {
    const matched = matchFinalTags(labs.map((owner) => finalOf(owner, kind)));
    labs.forEach((owner, lab) => {
      const rows: ResultRow[] = [];
      // Only positions another lab also holds can give a row (every policy needs |H| ≥ 2).
      matched.forEachShared(lab, (position, others) => {
        const row = rowFor(
          proposal.policy,
          position,
          others.map((other) => labs[other] as string),
        );
        if (row) rows.push(row);
      });
      out.push({ to: owner, message: { type: 'result_rows', body: { kind, lab: owner, rows } } });
    });
  }
  return out;
}

function rowFor(policy: RevealPolicy, position: number, others: string[]): ResultRow | undefined {
  if (policy.kind === 'threshold') return others.length + 1 >= policy.t ? { position } : undefined;
  if (others.length === 0) return undefined;
  return policy.kind === 'labs' ? { position, labs: others.sort() } : { position, count: others.length };
}
