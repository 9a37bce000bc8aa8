/**
 * `ja4h`: a JA4H HTTP client fingerprint (FoxIO's JA4H, the `a_b_c_d` form), lowercase
 * (spec/indicators.md §2 `ja4h`).
 *
 * Rules (version 1): trim; lowercase the ASCII letters `A–Z` (only those: U+212A KELVIN SIGN, which
 * Unicode lowercases to `k`, stays what it is and is refused); then the value must be exactly
 *   a, 12 characters: the method, two letters (`ge`, `po`, `co`, `ms`, …) or `00` (a method the
 *      tool has no code for); the HTTP version `10`, `11`, `20`, `30` or `00` (unknown); cookie
 *      `c` or `n`; referer `r` or `n`; two digits of header count (`00`–`99`); four characters of
 *      Accept-Language: the primary language range with hyphens removed, padded with `0` (`enus`,
 *      `da00`, `es41`, `*000`, `0000` without the header), each `a–z`, `0–9` or `*`, or, for a
 *      range of one to three such characters, the start of its weight (`en;q`, `eng;`, `*;q=`) as
 *      FoxIO's Rust tool and Zeek script leave it;
 *   b, c, d: 12 hexadecimal digits each (truncated SHA-256),
 * joined by `_`. With cookie `n`, c and d must be `000000000000` (every FoxIO implementation
 * writes them so), and that value may also be given as `a_b` (FoxIO's README) or `a_b__`
 * (Wireshark's "omit zero sections"), which is completed. With cookie `c`, a value without c or d
 * is a partial fingerprint and is refused, as are the raw variants (`_r`, `_ro`: header and cookie
 * names in place of the hashes). The original-order variant (`_o`) has the same shape as JA4H and
 * cannot be told apart: a lab must give the sorted value.
 *
 * Only the string is read here: no FoxIO code is used or copied (its licence: spec/indicators.md §2).
 * Threat: a value that other spellings of the same fingerprint would not produce; so case is folded
 * for ASCII only, and nothing but the two zero parts of a cookie-less value is ever added.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const METHOD = '(?:[a-z]{2}|00)';
const VERSION = '(?:10|11|20|30|00)';
const COUNT = '[0-9]{2}';
/** One character of a language range once its hyphens are removed. */
const L = '[0-9a-z*]';
/** Four of them; or a shorter range followed by the start of its weight (`;q=`). */
const LANGUAGE = `(?:${L}{4}|${L}{3};|${L}{2};q|${L};q=)`;
const HASH = '[0-9a-f]{12}';
const ZERO = '000000000000';

const WITH_COOKIE = `${METHOD}${VERSION}c[rn]${COUNT}${LANGUAGE}`;
const WITHOUT_COOKIE = `${METHOD}${VERSION}n[rn]${COUNT}${LANGUAGE}`;

/** The canonical form: cookie `c` with three hashes, or cookie `n` with zero c and d. */
const JA4H = new RegExp(`^(?:${WITH_COOKIE}_${HASH}_${HASH}_${HASH}|${WITHOUT_COOKIE}_${HASH}_${ZERO}_${ZERO})$`);
/** Cookie `n` with c and d left out (`a_b`) or empty (`a_b__`). */
const SHORT = new RegExp(`^(${WITHOUT_COOKIE}_${HASH})(?:__)?$`);

/** The a part's fields in order, for saying which one is wrong. */
const FIELDS: [name: string, from: number, to: number, pattern: RegExp][] = [
  ['the method (two letters, or 00)', 0, 2, new RegExp(`^${METHOD}$`)],
  ['the HTTP version (10, 11, 20, 30 or 00)', 2, 4, new RegExp(`^${VERSION}$`)],
  ['the cookie flag (c or n)', 4, 5, /^[cn]$/],
  ['the referer flag (r or n)', 5, 6, /^[rn]$/],
  ['the header count (two digits)', 6, 8, new RegExp(`^${COUNT}$`)],
  ['the language (four of a–z 0–9 *, or a shorter range and ;q=)', 8, 12, new RegExp(`^${LANGUAGE}$`)],
];

function whyNot(value: string): string {
  if (value.length < 13 || value[12] !== '_') return 'its a part must be 12 characters followed by _';
  for (const [name, from, to, pattern] of FIELDS) {
    if (!pattern.test(value.slice(from, to))) return `${name} is wrong`;
  }
  const parts = value.slice(13).split('_');
  const cookie = value[4] === 'c';
  if (parts.length > 3) return 'it has more than four parts (a raw _r/_ro value, or a suffix)';
  if (!/^[0-9a-f]{12}$/.test(parts[0] as string)) return 'b must be 12 hex digits (a raw _r value holds header names)';
  const leftOut = parts.length === 1 || (parts.length === 3 && parts[1] === '' && parts[2] === '');
  if (cookie && (leftOut || parts.length < 3))
    return 'with cookie c, c and d cannot be left out (a partial fingerprint)';
  if (parts.length < 3) return 'with cookie n, only a_b and a_b__ are completed';
  if (!parts.slice(1).every((part) => /^[0-9a-f]{12}$/.test(part))) return 'c and d must be 12 hex digits each';
  return 'with cookie n, c and d must be 000000000000';
}

export const ja4hKind = defineKind({
  name: 'ja4h',
  rulesVersion: 1,
  summary: 'a JA4H HTTP client fingerprint (a_b_c_d), lowercase',
  schema: z.string().regex(JA4H, 'not a canonical JA4H fingerprint'),
  maxLength: 128,
  canonicalize(raw) {
    const value = trimWhiteSpace(raw).replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
    if (JA4H.test(value)) return value;
    const short = SHORT.exec(value);
    if (short) return `${short[1]}_${ZERO}_${ZERO}`;
    throw new IndicatorError('INVALID_JA4H', `${quote(raw)} is not a JA4H fingerprint: ${whyNot(value)}`);
  },
  examples: [
    {
      raw: 'ge20cr13enus_974ebe531c03_b66fa821d02c_e97928733c74',
      canonical: 'ge20cr13enus_974ebe531c03_b66fa821d02c_e97928733c74',
      note: "FoxIO's JA4H diagram (technical_details/JA4H.png): GET, HTTP/2, cookie, referer, 13 headers, en-US",
    },
    {
      raw: ' GE20CR13ENUS_974EBE531C03_B66FA821D02C_E97928733C74\n',
      canonical: 'ge20cr13enus_974ebe531c03_b66fa821d02c_e97928733c74',
      note: 'trimmed and lowercased',
    },
    {
      raw: 'ge11cr13enus_88d2d584d47f_0f2659b474bf_161698816dab',
      canonical: 'ge11cr13enus_88d2d584d47f_0f2659b474bf_161698816dab',
      note: "FoxIO's Rust unit test (rust/ja4/src/http.rs): GET, HTTP/1.1, cookie, referer, en-US",
    },
    {
      raw: 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      canonical: 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      note: 'FoxIO test capture http1-with-cookies (every implementation): Accept-Language `da` padded to `da00`',
    },
    {
      raw: 'ge11cr04en;q_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      canonical: 'ge11cr04en;q_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      note: 'that request with Accept-Language `en;q=0.9`, as the Rust tool and the Zeek script write it',
    },
    {
      raw: 'ge11cr04en00_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      canonical: 'ge11cr04en00_8ddaef5d77af_280f366eaa04_c2fb0fe53442',
      note: 'the same request as the Python tool and the Wireshark plugin write it: another value',
    },
    {
      raw: 'po11nn050000_530ceba2075f_000000000000_000000000000',
      canonical: 'po11nn050000_530ceba2075f_000000000000_000000000000',
      note: 'FoxIO test capture http1: POST, no cookie (c and d zero), no Accept-Language (`0000`)',
    },
    {
      raw: 'co10nn010000_b8bcd45ac095_000000000000_000000000000',
      canonical: 'co10nn010000_b8bcd45ac095_000000000000_000000000000',
      note: 'FoxIO test capture https-connect: CONNECT over HTTP/1.0',
    },
    {
      raw: 'ms11nn040000_a3c882e23515_000000000000_000000000000',
      canonical: 'ms11nn040000_a3c882e23515_000000000000_000000000000',
      note: "M-SEARCH (SSDP) in the Wireshark plugin's test data: its method table's code",
    },
    {
      raw: 'ge10nn000000_e3b0c44298fc_000000000000_000000000000',
      canonical: 'ge10nn000000_e3b0c44298fc_000000000000_000000000000',
      note: 'no header at all (Wireshark test data; b is then the hash of the empty string, or zero in other tools)',
    },
    {
      raw: 'ge11nn030000_fe444ad14866_000000000000_000000000000',
      canonical: 'ge11nn030000_fe444ad14866_000000000000_000000000000',
      note: "curl, in FoxIO's ja4plus-mapping.csv",
    },
    {
      raw: 'po10nn060000_cdb958d032b0',
      canonical: 'po10nn060000_cdb958d032b0_000000000000_000000000000',
      note: "Darkgate, as FoxIO's README writes it: cookie `n`, so c and d are zero and are completed",
    },
    {
      raw: 'po11nn050000_530ceba2075f__',
      canonical: 'po11nn050000_530ceba2075f_000000000000_000000000000',
      note: 'the Wireshark plugin\'s "Omit zero sections in JA4H" output, completed',
    },
  ],
  counterExamples: [
    {
      raw: 'g311nn030000_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the method is two letters or 00',
    },
    {
      raw: 'm-11nn040000_a3c882e23515_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the method is two letters or 00 (M-SEARCH is ms)',
    },
    {
      raw: 'ge12nn030000_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'no HTTP version 12',
    },
    {
      raw: 'ge11yn030000_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the cookie flag is c or n',
    },
    {
      raw: 'ge11ny030000_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the referer flag is r or n',
    },
    {
      raw: 'ge11nn3enus_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the header count is two digits',
    },
    {
      raw: 'ge11nn100enus_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the header count is two digits: more than 99 headers are written 99',
    },
    {
      raw: 'ge11nn03en-u_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'a hyphen in the language (every implementation removes them: en-US is enus)',
    },
    {
      raw: 'ge11nn03en_u_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'an underscore in the language (a malformed en_US; no language range holds one)',
    },
    {
      raw: 'ge11nn03enu_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the language is four characters, padded with 0',
    },
    {
      raw: 'ge11nn03en=q_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'a weight starts with ;q=, nothing else follows a range',
    },
    {
      raw: 'ge11nn03enus;_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the language is four characters: a range of four keeps no weight',
    },
    {
      raw: 'ge11nn030000_fe444ad1486g_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'b is not hex',
    },
    {
      raw: 'ge11cr04da00_8ddaef5d77af_280f366eaa0_c2fb0fe53442',
      code: 'INVALID_JA4H',
      note: 'c is 12 hex digits',
    },
    {
      raw: 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe5344z',
      code: 'INVALID_JA4H',
      note: 'd is 12 hex digits',
    },
    {
      raw: 'ge11cn060000_4e59edc1297a_4da5efaf0cb',
      code: 'INVALID_JA4H',
      note: 'Cobalt Strike as ja4plus-mapping.csv lists it: d missing and c one digit short',
    },
    {
      raw: 'ge11cn020000_9ed1ff1f7b03_cd8dafe26982',
      code: 'INVALID_JA4H',
      note: "IcedID dropper as FoxIO's README lists it: with cookie c, d cannot be completed",
    },
    {
      raw: 'ge11cn020000_9ed1ff1f7b03',
      code: 'INVALID_JA4H',
      note: 'JA4H_ab with cookie c: a partial fingerprint',
    },
    {
      raw: 'ge11nn030000_fe444ad14866_cd8dafe26982_000000000000',
      code: 'INVALID_JA4H',
      note: 'cookie n with a cookie hash',
    },
    {
      raw: 'po10nn060000_cdb958d032b0_000000000000',
      code: 'INVALID_JA4H',
      note: 'only a_b and a_b__ are completed',
    },
    {
      raw: 'ge11cr04da00_Host,User-Agent,Accept,Accept-Language_yummy_cookie,tasty_cookie_yummy_cookie=choco,tasty_cookie=strawberry',
      code: 'INVALID_JA4H',
      note: 'the raw variant JA4H_ro (FoxIO test capture http1-with-cookies)',
    },
    {
      raw: 'JA4H=ge11nn030000_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'the value only, without the JA4H= label',
    },
    {
      raw: 'ge11nn030000_fe444ad14866_000000000000_000000000000_o',
      code: 'INVALID_JA4H',
      note: 'a variant suffix is not part of the value',
    },
    {
      raw: 'ge11nn03\u212Aaaa_fe444ad14866_000000000000_000000000000',
      code: 'INVALID_JA4H',
      note: 'only ASCII letters are lowercased: U+212A KELVIN SIGN is not k',
    },
  ],
});
