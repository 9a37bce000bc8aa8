/**
 * `equalBytes` is the only way Overlap compares secrets, MACs and digests, in time that depends on
 * the lengths (which are public) and never on where the inputs first differ: node:crypto's
 * `timingSafeEqual` on Node.js (installed by @overlap/crypto/node), elsewhere a loop that looks at
 * every byte and branches on none.
 */
import { assertBytes } from './bytes.js';
import { currentPlatform } from './platform.js';

/** Constant-time equality of two byte strings. Different lengths are unequal (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  return (currentPlatform().timingSafeEqual ?? portableEqualBytes)(a, b);
}

/** The portable comparison of two byte strings of the same length: OR of every byte's XOR. */
export function portableEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}
