/**
 * The host-name mapping's fast path for plain ASCII names (kinds/idna.ts) against tr46 itself, the
 * implementation of UTS #46 it stands in for: the same answer on every name, error or value.
 */
import { fc, test } from '@fast-check/vitest';
import { toASCII } from 'tr46';
import { describe, expect } from 'vitest';
import { UTS46_OPTIONS, uts46ToAscii } from '../src/kinds/idna.js';

const byTable = (name: string) => toASCII(name, UTS46_OPTIONS) ?? undefined;
const asciiName = fc.stringMatching(/^[A-Za-z0-9.\-_xn]{0,40}$/);

describe('uts46ToAscii', () => {
  test.prop([asciiName], { numRuns: 5000 })('agrees with tr46 on ASCII names', (name) => {
    expect(uts46ToAscii(name)).toBe(byTable(name));
  });

  test.prop([fc.string({ unit: 'grapheme', maxLength: 12 })], { numRuns: 2000 })(
    'agrees with tr46 on any text',
    (name) => {
      expect(uts46ToAscii(name)).toBe(byTable(name));
    },
  );

  test.each([
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ['a.xN--zz.example', undefined],
    ['xn--a.example', undefined],
    ['Example.COM.', 'example.com.'],
    ['a_b.example', undefined],
  ])('%j goes the right way', (name, expected) => {
    expect(uts46ToAscii(name)).toBe(expected);
    expect(byTable(name)).toBe(expected);
  });
});
