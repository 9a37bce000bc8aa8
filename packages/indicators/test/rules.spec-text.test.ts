/**
 * The reference agrees with spec/indicators.md §1 as written: each kind's rules version and length
 * bound (the table), the trimmed set (the list), and the pinned data versions; and the length
 * bound counts UTF-16 code units of the untrimmed input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { canonicalize, INDICATOR_KINDS, RULE_DATA, RULE_DEPENDENCIES, TRIMMED_CODE_POINTS } from '../src/index.js';

const spec = readFileSync(new URL('../../../spec/indicators.md', import.meta.url), 'utf8');

function specKindTable(): Map<string, { version: number; bound: number }> {
  const rows = [...spec.matchAll(/^\s*\| `([a-z_0-9]+)`\s*\| (\d+)\s*\| (\d+)\s*\|$/gm)];
  return new Map(rows.map((m) => [m[1] as string, { version: Number(m[2]), bound: Number(m[3]) }]));
}

describe('spec/indicators.md §1', () => {
  test('the table gives every kind its rules version and length bound, as the code has them', () => {
    const table = specKindTable();
    expect([...table.keys()].sort()).toEqual([...INDICATOR_KINDS.keys()].sort());
    for (const kind of INDICATOR_KINDS.values()) {
      expect(table.get(kind.name), kind.name).toEqual({ version: kind.rulesVersion, bound: kind.maxLength });
    }
  });

  test('the trimmed set is the one the text lists', () => {
    const paragraph = /\*\*Trim\*\* removes[\s\S]*?: ([\s\S]*?)\. Not in it/.exec(spec)?.[1];
    expect(paragraph).toBeDefined();
    const listed = (paragraph as string)
      .replace(/\s+/g, ' ')
      .split(', ')
      .map((item) => item.split('–').map((cp) => Number.parseInt(cp.replace('U+', ''), 16)))
      .map(([first, last]) => [first, last ?? first]);
    expect(listed).toEqual(TRIMMED_CODE_POINTS.map(([a, b]) => [a, b]));
  });

  test('the pinned versions are named in the text', () => {
    for (const [name, version] of Object.entries(RULE_DEPENDENCIES)) expect(spec).toContain(`\`${name}\` ${version}`);
    expect(spec).toContain('metadata **9.0.43**');
    expect(RULE_DATA.phone_metadata).toContain('9.0.43');
    expect(spec).toContain('**Unicode 17.0.0**');
  });

  test('the Unicode data of this runtime is the version the rules name (case mapping, NFKC, properties)', () => {
    expect(process.versions.unicode).toBe(RULE_DATA.unicode);
  });
});

describe('trim', () => {
  const trimmed = TRIMMED_CODE_POINTS.flatMap(([first, last]) =>
    Array.from({ length: last - first + 1 }, (_, i) => String.fromCodePoint(first + i)),
  );

  test.each([...INDICATOR_KINDS.values()].map((kind) => [kind.name, kind] as const))(
    '%s: every code point of the set is trimmed at both ends',
    (_name, kind) => {
      const example = kind.examples[0];
      if (example === undefined) throw new Error('no example');
      for (const space of trimmed) {
        expect(
          kind.canonicalize(`${space}${example.raw}${space}`, example.options),
          space.codePointAt(0)?.toString(16),
        ).toBe(example.canonical);
      }
    },
  );

  test.each([
    ['0085', '\u0085'],
    ['001C', '\u001c'],
    ['001F', '\u001f'],
    ['180E', '\u180e'],
    ['200B', '\u200b'],
  ])('U+%s is not trimmed: an e-mail address or account wrapped in it is refused', (_hex, notSpace) => {
    expect(() => canonicalize('email', `${notSpace}someone@example.com`)).toThrow(
      expect.objectContaining({ code: 'INVALID_EMAIL' }),
    );
    expect(() => canonicalize('account', `github:someone${notSpace}`)).toThrow(
      expect.objectContaining({ code: 'INVALID_ACCOUNT' }),
    );
  });
});

describe('length bound', () => {
  test('counts UTF-16 code units, an astral code point as two', () => {
    const local = '😀'.repeat(250); // 500 code units, 250 code points
    expect(canonicalize('email', `${local}@example.com`)).toBe(`${local}@example.com`); // 512 units
    expect(() => canonicalize('email', `${local}a@example.com`)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }));
  });

  test('counts the input before trimming', () => {
    expect(canonicalize('asn', `AS1${' '.repeat(29)}`)).toBe('AS1'); // 32 units
    expect(() => canonicalize('asn', `AS1${' '.repeat(30)}`)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }));
  });
});
