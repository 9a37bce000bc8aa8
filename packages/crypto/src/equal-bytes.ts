/**
 * `equalBytes` is the only way Overlap compares secrets, MACs and digests: node:crypto's
 * `timingSafeEqual`, whose running time depends on the lengths (which are public) and never on
 * where the inputs first differ.
 */
import { timingSafeEqual } from 'node:crypto';
import { assertBytes } from './bytes.js';

/** Constant-time equality of two byte strings. Different lengths are unequal (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
