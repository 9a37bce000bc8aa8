import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { BlindingKey, blind, hashToGroup } from '../src/index.js';
import { hex } from './backends.js';

describe('BlindingKey', () => {
  test('fresh keys are 32 random bytes, different each time', () => {
    const a = BlindingKey.generate();
    const b = BlindingKey.generate();
    expect(a.exposeSecret()).toHaveLength(32);
    expect(hex(a.exposeSecret())).not.toBe(hex(b.exposeSecret()));
  });

  test('fromBytes copies its input', () => {
    const bytes = new Uint8Array(32).fill(7);
    const key = BlindingKey.fromBytes(bytes);
    bytes.fill(0);
    expect(key.exposeSecret().every((b) => b === 7)).toBe(true);
  });

  test('dispose() zeroes the key and later use is KEY_DISPOSED; `using` disposes too', () => {
    const key = BlindingKey.generate();
    const secret = key.exposeSecret();
    key.dispose();
    expect(secret.every((b) => b === 0)).toBe(true);
    expect(key.disposed).toBe(true);
    expect(() => blind(key, hashToGroup('email', 'a@b.example'))).toThrow(
      expect.objectContaining({ code: 'KEY_DISPOSED' }),
    );
    key.dispose(); // idempotent

    let inner: Uint8Array;
    {
      using scoped = BlindingKey.generate();
      inner = scoped.exposeSecret();
    }
    expect(inner.every((b) => b === 0)).toBe(true);
  });

  test('never prints its bytes: String, JSON, util.inspect, template strings', () => {
    const key = BlindingKey.fromBytes(new Uint8Array(32).fill(0xab));
    const renderings = [String(key), JSON.stringify({ key }), inspect(key), `${key}`, inspect({ nested: key })];
    for (const text of renderings) {
      expect(text).not.toContain('ab,ab');
      expect(text).not.toContain('abab');
      expect(text).not.toContain('171');
      expect(text).toContain('redacted');
    }
  });

  test.each([[new Uint8Array(31)], ['00'.repeat(32)], [new Uint8Array(32)]])(
    'fromBytes(%j) is a typed error',
    (junk) => {
      expect(() => BlindingKey.fromBytes(junk as Uint8Array)).toThrow(expect.objectContaining({ name: 'CryptoError' }));
    },
  );
});
