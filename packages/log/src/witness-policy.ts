/**
 * A witness policy (spec/log.md §8): k of n named witnesses, each a cosigner verifier key (C2SP
 * vkey, signature type 0x04), and how many of them must have cosigned a checkpoint for a reader to
 * accept it — the labs before they act on results or an abort, an auditor before a transcript's
 * log counts as the one history everyone saw. In the spirit of sigsum's policy file: the relay's
 * word on which witnesses exist counts for nothing; only these keys' cosignatures are counted, each
 * verified on its own, and any other signature on the note is ignored.
 */
import { LogError } from './errors.js';
import { ED25519_COSIGNATURE_TYPE, parseVerifierKey } from './note-keys.js';
import { type NoteVerifier, parseSignedNote, verifiedLineOf } from './signed-note.js';

export interface WitnessPolicy {
  witnesses: readonly NoteVerifier[];
  quorum: number;
}

/**
 * The policy of `keys` (cosigner vkeys) with quorum `quorum` (default: all of them). Throws
 * `BAD_KEY` for a key that is not a cosigner's, a witness named twice, or a quorum out of 1..n.
 */
export function witnessPolicy(keys: readonly string[], quorum?: number): WitnessPolicy {
  if (keys.length === 0) throw new LogError('BAD_KEY', 'a witness policy needs at least one witness key');
  const witnesses = keys.map((vkey, i) => {
    try {
      return parseVerifierKey(vkey, ED25519_COSIGNATURE_TYPE);
    } catch (cause) {
      throw new LogError('BAD_KEY', `witness key ${i + 1}: ${(cause as Error).message}`, { cause });
    }
  });
  const policy = { witnesses, quorum: quorum ?? witnesses.length };
  checkWitnessPolicy(policy);
  return policy;
}

/** Checks a policy built by hand (not by `witnessPolicy`): BAD_KEY for a witness named twice, a quorum out of 1..n. */
export function checkWitnessPolicy(policy: WitnessPolicy): void {
  const n = policy.witnesses.length;
  if (new Set(policy.witnesses.map((w) => w.name)).size !== n)
    throw new LogError('BAD_KEY', 'a witness is named twice in the policy');
  if (!Number.isInteger(policy.quorum) || policy.quorum < 1 || policy.quorum > n)
    throw new LogError(
      'BAD_KEY',
      `a witness quorum must be from 1 to the number of witnesses (${n}), got ${policy.quorum}`,
    );
}

/**
 * The names of the policy's witnesses that cosigned `note`: for each, one line under its name and
 * key ID that verifies on its own (another, bad line of the same key does not cancel it). Each
 * witness counts once. A note that does not parse has no cosigners.
 */
export function policyCosigners(note: string, policy: WitnessPolicy): string[] {
  let parsed: ReturnType<typeof parseSignedNote>;
  try {
    parsed = parseSignedNote(note);
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const witness of policy.witnesses) {
    if (verifiedLineOf(parsed.text, parsed.signatures, witness) !== undefined) names.add(witness.name);
  }
  return [...names];
}
