import { describe, expect, test } from 'vitest';
import { hashToGroupMessage } from '../src/hash-input.js';
import { CryptoError, hashToGroup } from '../src/index.js';

describe('the hash_to_group message', () => {
  test('is UTF-8(kind) || 0x00 || UTF-8(value)', () => {
    expect(Buffer.from(hashToGroupMessage('email', 'é@x.example')).toString('hex')).toBe(
      Buffer.concat([Buffer.from('email'), Buffer.from([0]), Buffer.from('é@x.example', 'utf8')]).toString('hex'),
    );
  });

  // The junk table every entry point that hashes must reject with a typed error.
  test.each([
    ['an empty kind', '', 'x', 'BAD_INPUT'],
    ['a NUL in the kind', 'em\0ail', 'x', 'BAD_INPUT'],
    ['a lone high surrogate in the value', 'email', 'a\uD800b', 'BAD_INPUT'],
    ['a lone low surrogate in the kind', 'e\uDC00', 'x', 'BAD_INPUT'],
    ['an empty value', 'email', '', 'BAD_INPUT'],
    ['a number value', 'email', 42, 'BAD_TYPE'],
    ['a null kind', null, 'x', 'BAD_TYPE'],
    ['bytes as the value', 'email', new Uint8Array(3), 'BAD_TYPE'],
  ])('rejects %s (%s)', (_label, kind, value, code) => {
    for (const backend of ['native', 'portable'] as const) {
      const call = () => hashToGroup(kind as string, value as string, { backend });
      expect(call).toThrow(CryptoError);
      expect(call).toThrow(expect.objectContaining({ code }));
    }
  });

  test('a NUL inside the value is fine: the first 0x00 ends the kind', () => {
    expect(hashToGroup('account', 'x\0y')).toHaveLength(32);
  });

  test('a value with a valid surrogate pair is accepted', () => {
    expect(hashToGroup('account', 'github:😀')).toHaveLength(32);
  });
});
