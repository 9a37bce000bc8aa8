/**
 * Byte-string helpers that every other module of the package leans on.
 *
 * `equalBytes` is the only way Overlap compares secrets, MACs and digests: its running time
 * depends on the lengths (which are public) and never on where the inputs first differ.
 */
import { timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Throws `BAD_TYPE` unless `value` is a Uint8Array (a Buffer is one). `name` says which input. */
export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError('BAD_TYPE', `${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Constant-time equality of two byte strings. Different lengths are unequal (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}
