/**
 * The logs a witness trusts, from their verifier keys (C2SP vkeys, as `overlap relay` prints the
 * relay's and `GET /v1/relay` announces it): a log's origin is its key's name (spec/log.md §4: a
 * log signs its checkpoints under its origin), and an origin may have several keys (a rotation).
 */
import { ED25519_NOTE_SIGNATURE_TYPE, type NoteVerifier, parseVerifierKey } from '@overlap/log';
import type { TrustedLog } from './add-checkpoint.js';
import { WitnessError } from './errors.js';

export function trustedLogs(vkeys: readonly string[]): TrustedLog[] {
  const byOrigin = new Map<string, TrustedLog>();
  vkeys.forEach((vkey, i) => {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(vkey, ED25519_NOTE_SIGNATURE_TYPE);
    } catch (cause) {
      throw new WitnessError('BAD_CONFIG', `log key ${i + 1}: ${(cause as Error).message}`, { cause });
    }
    const log = byOrigin.get(verifier.name) ?? { origin: verifier.name, verifiers: [] };
    byOrigin.set(verifier.name, { origin: log.origin, verifiers: [...log.verifiers, verifier] });
  });
  if (byOrigin.size === 0) throw new WitnessError('BAD_CONFIG', 'a witness needs at least one log key to witness');
  return [...byOrigin.values()];
}
