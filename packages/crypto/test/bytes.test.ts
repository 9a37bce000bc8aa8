import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { portableEqualBytes } from '../src/equal-bytes.js';
import { CryptoError, equalBytes } from '../src/index.js';
import '../src/node/install.js'; // equalBytes is node:crypto's timingSafeEqual from here on

describe('equalBytes', () => {
  test.prop([fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 })])(
    'agrees with Buffer.equals on arbitrary inputs, on Node.js and portably',
    (a, b) => {
      const equal = Buffer.from(a).equals(Buffer.from(b));
      expect(equalBytes(a, b)).toBe(equal);
      if (a.length === b.length) expect(portableEqualBytes(a, b)).toBe(equal);
    },
  );

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 })])(
    'detects a change in any single byte',
    (a, index, delta) => {
      const b = Uint8Array.from(a);
      const i = index % b.length;
      b[i] = ((b[i] ?? 0) + delta) & 0xff;
      expect(equalBytes(a, a.slice())).toBe(true);
      expect(equalBytes(a, b)).toBe(false);
      expect([portableEqualBytes(a, a.slice()), portableEqualBytes(a, b)]).toEqual([true, false]);
    },
  );

  test('inputs of different lengths are unequal, not an error', () => {
    expect(equalBytes(new Uint8Array(31), new Uint8Array(32))).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  test.each([
    ['a string', 'abc'],
    ['an array of numbers', [1, 2, 3]],
    ['null', null],
    ['undefined', undefined],
    ['an ArrayBuffer', new ArrayBuffer(4)],
  ])('rejects %s with BAD_TYPE', (_label, junk) => {
    const call = () => equalBytes(junk as unknown as Uint8Array, new Uint8Array(3));
    expect(call).toThrow(CryptoError);
    expect(call).toThrow(expect.objectContaining({ code: 'BAD_TYPE' }));
  });
});
