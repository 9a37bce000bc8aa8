import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { INDICATOR_KIND_NAMES, IndicatorError, isIndicatorKindName, parseIndicatorKindName } from '../src/index.js';

describe('indicator kind names', () => {
  test.each(INDICATOR_KIND_NAMES.map((k) => [k]))('%s parses to itself', (kind) => {
    expect(parseIndicatorKindName(kind)).toBe(kind);
    expect(isIndicatorKindName(kind)).toBe(true);
  });

  test('names are unique, lowercase snake_case, and never contain the hash separator 0x00', () => {
    expect(new Set(INDICATOR_KIND_NAMES).size).toBe(INDICATOR_KIND_NAMES.length);
    for (const kind of INDICATOR_KIND_NAMES) expect(kind).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  test.each([['Email'], [' email'], ['email\0'], [''], ['ipv4'], [null], [42], [{}]])(
    'rejects %j with UNKNOWN_KIND',
    (junk) => {
      expect(isIndicatorKindName(junk)).toBe(false);
      expect(() => parseIndicatorKindName(junk)).toThrow(IndicatorError);
      expect(() => parseIndicatorKindName(junk)).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND' }));
    },
  );

  test.prop([fc.string()])('accepts exactly the listed names', (s) => {
    expect(isIndicatorKindName(s)).toBe((INDICATOR_KIND_NAMES as readonly string[]).includes(s));
  });
});
