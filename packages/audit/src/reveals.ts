/**
 * The `reveals` check (spec/audit.md check 15, spec/protocol.md §5.2 step 4, spec/ciphersuite.md
 * §10 "Coin commitment"): each lab's one `reveal` is logged after the relay's proof request, and its
 * coin ρ opens the commitment of the lab's join. When every lab has revealed, the challenge seed σ
 * is computed here from the revealed coins, in the order of `labs`, and nothing else.
 *
 * Threat: a lab that reveals early (its coin known before every hop answered), or reveals a coin
 * other than the one it committed to — having seen the others', it could pick σ, and with it the
 * positions its own hops are asked about. The culprit is the lab, as the relay engine names it.
 */
import { challengeSeed, coinCommitment, equalBytes } from '@overlap/crypto';
import type { Logged, SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runValueCheck } from './verdict.js';

export interface RevealedCoins {
  /** Each lab's coin and the log index of its reveal. */
  coins: Map<string, { coin: Uint8Array; index: number }>;
  /** σ, once every lab has revealed. */
  sigma?: Uint8Array;
}

export function checkReveals(
  s: SessionFacts,
  request: Logged<unknown> | null,
): { verdict: AuditVerdict; revealed?: RevealedCoins } {
  const { labs } = s.proposal;
  const { verdict, value } = runValueCheck(
    'reveals',
    'REVEAL_MISMATCH',
    () => readReveals(s, request),
    ({ coins, sigma }) =>
      sigma
        ? `every lab's coin revealed after the proof request, each opening its commitment; σ computed from them`
        : `${coins.size} of ${labs.length} coins revealed, each after the proof request and opening its commitment`,
  );
  return value === undefined ? { verdict } : { verdict, revealed: value };
}

function readReveals(s: SessionFacts, request: Logged<unknown> | null): RevealedCoins {
  const coins: RevealedCoins['coins'] = new Map();
  for (const { index, sender, body } of s.round.reveals) {
    const at = `log index ${index}`;
    if (request === null || index < request.index) {
      throw fault('REVEAL_EARLY', `${at}: ${sender} revealed its coin before the proof request`, {
        culprit: sender,
        index,
      });
    }
    if (coins.has(sender)) {
      throw fault('REVEAL_REPEATED', `${at}: ${sender} revealed its coin twice`, { culprit: sender, index });
    }
    const committed = s.joins.get(sender)?.coin;
    if (committed === undefined || !equalBytes(coinCommitment(s.sessionId, sender, body.coin), committed)) {
      throw fault('REVEAL_MISMATCH', `${at}: ${sender} revealed a coin that does not open the commitment of its join`, {
        culprit: sender,
        index,
      });
    }
    coins.set(sender, { coin: body.coin, index });
  }
  if (coins.size < s.proposal.labs.length) return { coins };
  const ordered = s.proposal.labs.map((lab) => (coins.get(lab) as { coin: Uint8Array }).coin);
  return { coins, sigma: challengeSeed(s.sessionId, ordered) };
}
