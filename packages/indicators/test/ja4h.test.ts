/**
 * `ja4h` beyond its own examples: every field of the a part at each value it may take, each format
 * rule broken on its own, the completion of cookie-`n` short forms, and the shared checks.
 */
import { fc, test as prop } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { IndicatorError } from '../src/errors.js';
import { ja4hKind } from '../src/kinds/ja4h.js';

const ZERO = '000000000000';
const B = 'fe444ad14866';
const C = '9ed1ff1f7b03';
const D = 'cd8dafe26982';
const withCookie = (a: string) => `${a}_${B}_${C}_${D}`;
const withoutCookie = (a: string) => `${a}_${B}_${ZERO}_${ZERO}`;

function rejects(raw: string, code = 'INVALID_JA4H') {
  const call = () => ja4hKind.canonicalize(raw);
  expect(call).toThrow(IndicatorError);
  expect(call).toThrow(expect.objectContaining({ code }));
}

function accepts(raw: string, canonical = raw) {
  const value = ja4hKind.canonicalize(raw);
  expect(value).toBe(canonical);
  expect(ja4hKind.schema.safeParse(value).success).toBe(true);
  expect(ja4hKind.canonicalize(value)).toBe(value);
}

// The checks kinds.examples.test.ts makes for every kind, run on the module itself (no registry in the way).
describe('ja4h: its examples and counter-examples', () => {
  test.each(ja4hKind.examples.map((e) => [e.raw, e] as const))('canonicalizes %j', (_raw, example) => {
    accepts(example.raw, example.canonical);
  });

  test.each(ja4hKind.counterExamples.map((e) => [e.raw, e] as const))('rejects %j', (_raw, counter) => {
    expect(counter.note).toBeTruthy();
    rejects(counter.raw, counter.code);
  });
});

describe('ja4h: the a part', () => {
  test.each(['ge', 'po', 'pu', 'he', 'co', 'de', 'op', 'pa', 'tr', 'pf', 'un', '00'])('method %s', (method) => {
    accepts(withoutCookie(`${method}11nn030000`));
  });

  test.each(['g', 'get', 'g1', '1g', '0a', 'm-', 'g ', '01'])('method %j is refused', (method) => {
    rejects(withoutCookie(`${method}11nn030000`));
  });

  test.each(['10', '11', '20', '30', '00'])('version %s', (version) => {
    accepts(withCookie(`ge${version}cr13enus`));
  });

  test.each(['12', '21', '31', '09', '1.1', '2', 'h2', '1x'])('version %j is refused', (version) => {
    rejects(withCookie(`ge${version}cr13enus`));
  });

  test.each(['cr', 'cn'])('cookie c, referer %s', (flags) => accepts(withCookie(`ge11${flags}13enus`)));
  test.each(['nr', 'nn'])('cookie n, referer %s', (flags) => accepts(withoutCookie(`ge11${flags}13enus`)));

  test.each(['xr', 'rc', 'cc', 'nc', 'rn', 'yn', 'c1', 'n'])('flags %j are refused', (flags) => {
    rejects(withCookie(`ge11${flags}13enus`));
    rejects(withoutCookie(`ge11${flags}13enus`));
  });

  test.each(['00', '01', '13', '99'])('header count %s', (count) => accepts(withoutCookie(`ge11nn${count}0000`)));

  test.each(['1', '100', 'a1', '1a', '-1', ' 1'])('header count %j is refused', (count) => {
    rejects(withoutCookie(`ge11nn${count}0000`));
  });

  // Python and Wireshark stop at the weight's `;`; Rust and Zeek keep what of it fits in four.
  test.each([
    'enus',
    'da00',
    'ruru',
    '0000',
    'es41',
    'es34',
    'zhha',
    '*000',
    '2a00',
    'en00',
    'en;q',
    'eng;',
    'a;q=',
    '*;q=',
  ])('language %s', (lang) => {
    accepts(withoutCookie(`ge11nn03${lang}`));
    accepts(withCookie(`ge11cr03${lang}`));
  });

  test('a weight in the language is lowercased like the rest', () => {
    accepts(withoutCookie('GE11NN03EN;Q'), withoutCookie('ge11nn03en;q'));
  });

  test.each([
    'en',
    'enu',
    'enusx',
    'en-u',
    'en q',
    'en_u',
    'en,f',
    'énus',
    'en=q',
    'e.us',
    'en;;',
    'en;=',
    'e;q;',
    ';q=0',
    'enu=',
    'e;qx',
    'en;x',
    'e;x=',
    'en; ',
    'en ;',
    'enus;',
  ])('language %j is refused', (lang) => {
    rejects(withoutCookie(`ge11nn03${lang}`));
    rejects(withCookie(`ge11cr03${lang}`));
  });
});

describe('ja4h: the message says what is wrong', () => {
  test.each([
    [withoutCookie('g311nn030000'), 'the method'],
    [withoutCookie('ge12nn030000'), 'the HTTP version'],
    [withoutCookie('ge11xn030000'), 'the cookie flag'],
    [withoutCookie('ge11nx030000'), 'the referer flag'],
    [withoutCookie('ge11nn0x0000'), 'the header count'],
    [withoutCookie('ge11nn03en-u'), 'the language'],
    [`ge11nn030enus_${B}`, '12 characters'],
    [`ge11cr03enus_${B}`, 'partial'],
    [`ge11cr03enus_${B}_${C}`, 'partial'],
    [`ge11nn03enus_${B}_${ZERO}`, 'only a_b and a_b__'],
    [`ge11nn03enus_${B}_${C}_${ZERO}`, 'must be 000000000000'],
    [`ge11cr03enus_${B}_${C}_${D.slice(1)}`, 'c and d must be 12 hex digits'],
    [`ge11cr03enus_${B.slice(1)}_${C}_${D}`, 'b must be 12 hex digits'],
    [`${withCookie('ge11cr03enus')}_r`, 'more than four parts'],
  ])('%s: %s', (raw, words) => {
    expect(() => ja4hKind.canonicalize(raw)).toThrow(words);
  });
});

describe('ja4h: b, c and d', () => {
  test('12 lowercase hex digits each; uppercase is lowercased', () => {
    accepts(withCookie('ge11cr13enus').toUpperCase(), withCookie('ge11cr13enus'));
    accepts(`ge11cr13enus_${ZERO}_${ZERO}_${ZERO}`); // a cookie flag of c with zero hashes is not refused
  });

  test.each([
    ['b with 11 digits', `ge11cr13enus_${B.slice(1)}_${C}_${D}`],
    ['b with 13 digits', `ge11cr13enus_${B}0_${C}_${D}`],
    ['c not hex', `ge11cr13enus_${B}_${C.slice(1)}g_${D}`],
    ['d not hex', `ge11cr13enus_${B}_${C}_${D.slice(1)}z`],
    ['d missing', `ge11cr13enus_${B}_${C}`],
    ['c and d missing (JA4H_ab with cookie c)', `ge11cr13enus_${B}`],
    ['c and d empty with cookie c', `ge11cr13enus_${B}__`],
    ['b empty', `ge11cr13enus__${C}_${D}`],
    ['a fifth part', `${withCookie('ge11cr13enus')}_${D}`],
    ['a suffix _r', `${withCookie('ge11cr13enus')}_r`],
    ['a hyphen as separator', withCookie('ge11cr13enus').replaceAll('_', '-')],
    ['white space inside', withCookie('ge11cr13enus').replace('_', ' _')],
    ['a JA4H= label', `JA4H=${withCookie('ge11cr13enus')}`],
    ['the a part only', 'ge11cr13enus'],
    ['a JA4 (TLS) fingerprint', 't13d1516h2_8daaf6152771_b186095e22b6'],
  ])('%s is refused', (_label, raw) => {
    rejects(raw);
  });

  test.each([
    ['c', `ge11nn030000_${B}_${C}_${ZERO}`],
    ['d', `ge11nn030000_${B}_${ZERO}_${D}`],
    ['c and d', `ge11nn030000_${B}_${C}_${D}`],
  ])('cookie n with a non-zero %s is refused', (_label, raw) => {
    rejects(raw);
  });

  test('raw variants (JA4H_r, JA4H_ro) are refused, with and without cookies', () => {
    rejects('po11nn050000_Host,Accept,User-Agent,Content-Type,Content-Length_');
    rejects('ge10nn010000_User-Agent_');
    rejects('ge11cr04da00_Host,User-Agent,Accept,Accept-Language_yummy_cookie,tasty_cookie_yummy_cookie=choco');
  });
});

describe('ja4h: cookie-n short forms', () => {
  test('a_b and a_b__ are completed with zero c and d', () => {
    const full = withoutCookie('po11nn050000');
    accepts(`po11nn050000_${B}`, full);
    accepts(`po11nn050000_${B}__`, full);
    accepts(` PO11NN050000_${B.toUpperCase()}__ `, full);
    accepts('po11nn050000_d253db9d024b', 'po11nn050000_d253db9d024b_000000000000_000000000000'); // LummaC2, README
  });

  test.each([
    ['one empty part', `po11nn050000_${B}_`],
    ['three empty parts', `po11nn050000_${B}___`],
    ['a_b_c with zero c', `po11nn050000_${B}_${ZERO}`],
    ['a_b__ with zero d only', `po11nn050000_${B}__${ZERO}`],
    ['a_b_ with zero c only', `po11nn050000_${B}_${ZERO}_`],
  ])('%s is refused', (_label, raw) => {
    rejects(raw);
  });
});

describe('ja4h: case and characters', () => {
  test('only ASCII letters are lowercased', () => {
    // U+212A KELVIN SIGN lowercases to k, U+0130 to i + U+0307: neither may become part of a value.
    rejects(withoutCookie('ge11nn03\u212Aaaa'));
    rejects(withoutCookie('ge11nn03\u0130aaa'));
    rejects(withoutCookie('\uFF47e11nn030000')); // fullwidth g
  });

  test('the shared checks come first', () => {
    rejects('', 'EMPTY');
    rejects(' \t ', 'EMPTY');
    accepts(`${withCookie('ge11cr13enus')}${' '.repeat(77)}`, withCookie('ge11cr13enus')); // 128 code units
    rejects(`${withCookie('ge11cr13enus')}${' '.repeat(78)}`, 'TOO_LONG'); // 129, counted before trimming
    rejects('ge11cr13enus_\uD800', 'BAD_TEXT');
  });
});

describe('ja4h: laws', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{12}$/);
  const a = fc
    .tuple(
      fc.oneof(fc.stringMatching(/^[a-z]{2}$/), fc.constant('00')),
      fc.constantFrom('10', '11', '20', '30', '00'),
      fc.constantFrom('c', 'n'),
      fc.constantFrom('r', 'n'),
      fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0')),
      fc.oneof(
        fc.stringMatching(/^[0-9a-z*]{4}$/),
        fc.stringMatching(/^(?:[0-9a-z*]{3};|[0-9a-z*]{2};q|[0-9a-z*];q=)$/),
      ),
    )
    .map((parts) => parts.join(''));

  prop.prop([a, hex, hex, hex, fc.array(fc.boolean(), { minLength: 1 })])(
    'every well-formed value is accepted, in any case, and is idempotent',
    (head, b, c, d, flips) => {
      const canonical = head[4] === 'c' ? `${head}_${b}_${c}_${d}` : `${head}_${b}_${ZERO}_${ZERO}`;
      const shouted = [...canonical].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');
      expect(ja4hKind.canonicalize(shouted)).toBe(canonical);
      expect(ja4hKind.canonicalize(canonical)).toBe(canonical);
      expect(ja4hKind.schema.safeParse(canonical).success).toBe(true);
    },
  );

  prop.prop([fc.string({ maxLength: 80 })])('any text is either refused with a typed error or idempotent', (text) => {
    let value: string | undefined;
    try {
      value = ja4hKind.canonicalize(text);
    } catch (error) {
      expect(error).toBeInstanceOf(IndicatorError);
    }
    if (value !== undefined) {
      expect(ja4hKind.canonicalize(value)).toBe(value);
      expect(ja4hKind.schema.safeParse(value).success).toBe(true);
    }
  });
});
