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
import { type NoteVerifier, verifySignedNote } from './signed-note.js';

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
  if (new Set(witnesses.map((w) => w.name)).size !== witnesses.length)
    throw new LogError('BAD_KEY', 'a witness is named twice in the policy');
  const k = quorum ?? witnesses.length;
  if (!Number.isInteger(k) || k < 1 || k > witnesses.length) {
    throw new LogError(
      'BAD_KEY',
      `a witness quorum must be from 1 to the number of witnesses (${witnesses.length}), got ${quorum}`,
    );
  }
  return { witnesses, quorum: k };
}

/** The names of the policy's witnesses whose cosignature on `note` verifies (a bad line counts as none). */
export function policyCosigners(note: string, policy: WitnessPolicy): string[] {
  return policy.witnesses
    .filter((witness) => {
      try {
        return verifySignedNote(note, [witness]).verifiedBy.includes(witness.name);
      } catch {
        return false;
      }
    })
    .map((witness) => witness.name);
}
