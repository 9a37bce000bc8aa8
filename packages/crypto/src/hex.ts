/**
 * Lowercase hexadecimal, the text form of points, tags and keys in the CLI and the vectors.
 * Decoding is strict: an odd length, uppercase or any other character is a `BAD_HEX` error, so a
 * value has exactly one text form.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { assertBytes } from './bytes.js';
import { CryptoError } from './errors.js';

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return bytesToHex(bytes);
}

/** Decodes lowercase hex; `expectedLength` (in bytes), when given, is enforced too. */
export function fromHex(text: string, expectedLength?: number): Uint8Array {
  if (typeof text !== 'string') throw new CryptoError('BAD_TYPE', `hex input must be a string, got ${typeof text}`);
  if (!LOWER_HEX.test(text)) {
    throw new CryptoError('BAD_HEX', 'expected lowercase hexadecimal with an even number of digits');
  }
  if (expectedLength !== undefined && text.length !== expectedLength * 2) {
    throw new CryptoError('BAD_LENGTH', `expected ${expectedLength * 2} hex digits, got ${text.length}`);
  }
  return hexToBytes(text);
}
