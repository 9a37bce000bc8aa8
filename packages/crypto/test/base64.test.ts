/**
 * Canonical base64 (RFC 4648 §4, padded): Node's Buffer is the oracle for the encoding, every
 * encoding decodes back to its bytes, and each other spelling of the same bytes is refused.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { fromCanonicalBase64, toBase64 } from '../src/index.js';

describe('base64', () => {
  test.prop([fc.uint8Array({ maxLength: 200 })])('encodes as Buffer does, and decodes back', (bytes) => {
    const text = toBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromCanonicalBase64(text)).toEqual(bytes);
  });

  test.each([
    ['missing padding', 'YQ'],
    ['non-zero pad bits', 'YR=='],
    ['the URL-safe alphabet', '-_8='],
    ['white space', 'YWJj ZA=='],
    ['a trailing newline', 'YWJj\n'],
    ['padding in the middle', 'YQ==YQ=='],
    ['too much padding', 'YQ==='],
  ])('refuses %s', (_name, text) => {
    expect(fromCanonicalBase64(text)).toBeUndefined();
  });

  test('refuses what is not bytes', () => {
    expect(() => toBase64('abc' as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'BAD_TYPE' }));
  });
});
