/**
 * The `challenge` check (spec/audit.md check 16, spec/protocol.md §5.2 step 5): the relay's one
 * `challenge` is logged after every lab's reveal and carries exactly the revealed coins, in the
 * order of `labs`.
 *
 * Threat: a relay that hands the labs other coins than were revealed (so that a colluding hop
 * proves positions of the relay's choosing), or a challenge before every coin is in. Each lab
 * checks only its own coin; the log shows every one. The culprit is the relay.
 */
import { equalBytes } from '@overlap/crypto';
import type { RevealedCoins } from './reveals.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runValueCheck } from './verdict.js';

export function checkChallenge(
  s: SessionFacts,
  revealed: RevealedCoins,
  relay: string,
): { verdict: AuditVerdict; challengeIndex?: number | null } {
  const { verdict, value } = runValueCheck(
    'challenge',
    'CHALLENGE_MISMATCH',
    () => readChallenge(s, revealed, relay),
    (index) =>
      index === null
        ? 'no challenge: the session ended before it'
        : `one challenge, at log index ${index}, after every reveal, carrying exactly the revealed coins in labs order`,
  );
  return value === undefined ? { verdict } : { verdict, challengeIndex: value };
}

/** The challenge's log index (null when there is none), checked. */
function readChallenge(s: SessionFacts, revealed: RevealedCoins, relay: string): number | null {
  const [challenge, second] = s.round.challenges;
  if (challenge === undefined) return null;
  const { index } = challenge;
  if (second !== undefined) {
    throw fault('CHALLENGE_REPEATED', `log index ${second.index}: a second challenge`, {
      culprit: relay,
      index: second.index,
    });
  }
  const { labs } = s.proposal;
  const missing = labs.find((lab) => (revealed.coins.get(lab)?.index ?? Infinity) > index);
  if (missing !== undefined) {
    throw fault('CHALLENGE_EARLY', `log index ${index}: the challenge came before ${missing} revealed its coin`, {
      culprit: relay,
      index,
    });
  }
  const { coins } = challenge.body;
  const wrong = labs.findIndex((lab, i) => {
    const given = coins[i];
    return given === undefined || !equalBytes(given, (revealed.coins.get(lab) as { coin: Uint8Array }).coin);
  });
  if (wrong >= 0 || coins.length !== labs.length) {
    const what =
      wrong >= 0 ? `coin ${wrong} is not ${labs[wrong]}'s revealed coin` : `it carries ${coins.length} coins`;
    throw fault('CHALLENGE_MISMATCH', `log index ${index}: the relay's challenge is not the reveals: ${what}`, {
      culprit: relay,
      index,
    });
  }
  return index;
}
