/**
 * Byte-string helpers that every other module of the package leans on. Portable: no Node
 * built-ins, so the portable backend can run in a browser. `wipe` overwrites secrets once they
 * are no longer needed.
 */
import { CryptoError } from './errors.js';

/** Throws `BAD_TYPE` unless `value` is a Uint8Array (a Buffer is one). `name` says which input. */
export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError('BAD_TYPE', `${name} must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Throws `BAD_TYPE` or `BAD_LENGTH` unless `value` is exactly `length` bytes. */
export function assertLength(value: unknown, length: number, name: string): asserts value is Uint8Array {
  assertBytes(value, name);
  if (value.length !== length) {
    throw new CryptoError('BAD_LENGTH', `${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** True when every byte is zero, in time that depends only on the length. */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}

/** Overwrites secrets with zeros. */
export function wipe(...secrets: Uint8Array[]): void {
  for (const secret of secrets) secret.fill(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}
