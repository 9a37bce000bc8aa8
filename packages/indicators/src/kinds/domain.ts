/**
 * `domain`: a DNS host name, lowercase, as its IDNA A-label (xn--) form, without the root dot.
 *
 * Rules (version 2, spec/indicators.md §2): trim; refuse white space inside; map with UTS #46
 * ToASCII under the fixed options of `idna.ts`; drop one trailing dot (the root label, however it
 * was spelled: `.`, `。`, `．` or `｡` all map to `.`); then require at least two labels, no empty
 * label, each label 1–63 characters of a–z, 0–9 and `-` not starting or ending with `-`, at most
 * 253 characters in all, and a top-level label that is not all digits (so IP addresses are not
 * domains). `www.` is kept: it is part of the name.
 *
 * Version 1 used node's `url.domainToASCII` and dropped one dot before and one after the mapping
 * (so `example.com..` was accepted): see the change log in spec/indicators.md.
 *
 * Threat: a lenient mapping turns different spellings into one name — that is the point — but it
 * must not turn an IP address, a URL fragment or a malformed name into a "domain".
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { hasWhiteSpace, trimWhiteSpace } from '../text.js';
import { uts46ToAscii } from './idna.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export const DOMAIN_SCHEMA = z
  .string()
  .max(253)
  .regex(/^(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)(?=[a-z0-9-]*[a-z-])[a-z0-9-]{1,63}(?<!-)$/, 'not a canonical domain');

/**
 * Canonical forms already computed, by raw host name: a lab's e-mail addresses and URLs name few
 * distinct domains (10,000 addresses at one domain spent ~25 ms in the mapping below). Only
 * successes are kept (a refusal is computed again, with its message); emptied when full.
 */
const canonicalOf = new Map<string, string>();
const CANONICAL_KEPT = 4096;

/** The canonical form of a host name (shared by email, url and registrable_domain). */
export function canonicalDomain(raw: string): string {
  const known = canonicalOf.get(raw);
  if (known !== undefined) return known;
  const ascii = mapDomain(raw);
  if (canonicalOf.size >= CANONICAL_KEPT) canonicalOf.clear();
  canonicalOf.set(raw, ascii);
  return ascii;
}

function mapDomain(raw: string): string {
  const host = trimWhiteSpace(raw);
  if (host === '' || hasWhiteSpace(host)) {
    throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is not a domain name`);
  }
  let ascii = uts46ToAscii(host);
  if (ascii === undefined) {
    throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is not a valid (internationalized) domain name`);
  }
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  const labels = ascii.split('.');
  if (labels.includes('')) throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} has an empty label`);
  if (labels.length < 2) throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} has fewer than two labels`);
  if (ascii.length > 253) throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is longer than 253 characters`);
  for (const label of labels) {
    if (!LABEL.test(label))
      throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} has an invalid label ${quote(label)}`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) {
    throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is an IP address, not a domain`);
  }
  return ascii;
}

export const domainKind = defineKind({
  name: 'domain',
  rulesVersion: 2,
  summary: 'lowercase IDNA A-label host name, no trailing dot, at least two labels',
  schema: DOMAIN_SCHEMA,
  maxLength: 1024,
  canonicalize: (raw) => canonicalDomain(raw),
  examples: [
    { raw: 'Example.COM', canonical: 'example.com' },
    { raw: 'www.example.com.', canonical: 'www.example.com', note: 'www. is kept; the root dot is dropped' },
    { raw: ' Bücher.example ', canonical: 'xn--bcher-kva.example' },
    { raw: '例え.jp', canonical: 'xn--r8jz45g.jp' },
    { raw: 'xn--bcher-kva.example', canonical: 'xn--bcher-kva.example' },
    { raw: 'sub-1.a-b.co.uk', canonical: 'sub-1.a-b.co.uk' },
    { raw: 'faß.de', canonical: 'xn--fa-hia.de', note: 'nontransitional: ß is kept, not mapped to ss' },
    {
      raw: 'ẞ.de',
      canonical: 'xn--zca.de',
      note: 'capital sharp s maps to ß (UTS #46 since 15.1; older tables gave ss.de)',
    },
    { raw: '☃.net', canonical: 'xn--n3h.net', note: 'UTS #46 accepts symbols IDNA2008 does not' },
    { raw: 'r3---sn-abc.example', canonical: 'r3---sn-abc.example', note: 'CheckHyphens is off' },
    { raw: 'a\u00adb.example', canonical: 'ab.example', note: 'a soft hyphen is ignored by the mapping' },
    { raw: 'ＥＸＡＭＰＬＥ．ＣＯＭ', canonical: 'example.com', note: 'full-width letters and dot map to ASCII' },
    { raw: 'example。com。', canonical: 'example.com', note: 'U+3002 maps to a dot, so the last one is the root dot' },
    {
      raw: '\ufeffexample.com\u3000',
      canonical: 'example.com',
      note: 'U+FEFF and U+3000 are in the trimmed set',
    },
    { raw: 'x\u0c5c.example', canonical: 'xn--x-s7e.example', note: 'U+0C5C was assigned in Unicode 17.0' },
  ],
  counterExamples: [
    { raw: 'localhost', code: 'INVALID_DOMAIN', note: 'one label' },
    { raw: '192.0.2.1', code: 'INVALID_DOMAIN', note: 'an IP address' },
    { raw: '0x7f.1', code: 'INVALID_DOMAIN', note: 'an IPv4 address in hex' },
    { raw: 'a..example', code: 'INVALID_DOMAIN' },
    { raw: '-a.example', code: 'INVALID_DOMAIN' },
    { raw: 'under_score.example', code: 'INVALID_DOMAIN' },
    { raw: 'xn--zz.example', code: 'INVALID_DOMAIN', note: 'invalid Punycode' },
    { raw: 'example.com/path', code: 'INVALID_DOMAIN' },
    { raw: 'user@example.com', code: 'INVALID_DOMAIN' },
    { raw: 'example.com:443', code: 'INVALID_DOMAIN' },
    { raw: `${'a'.repeat(64)}.example`, code: 'INVALID_DOMAIN', note: 'a label over 63 characters' },
    { raw: 'example.com..', code: 'INVALID_DOMAIN', note: 'one root dot is dropped; the next leaves an empty label' },
    { raw: 'example.com.。', code: 'INVALID_DOMAIN', note: 'the dots are counted after the mapping' },
    { raw: '.example.com', code: 'INVALID_DOMAIN', note: 'an empty first label' },
    {
      raw: 'a\u200db.example',
      code: 'INVALID_DOMAIN',
      note: 'CheckJoiners: a ZERO WIDTH JOINER needs a virama before it',
    },
    { raw: '١٢.example', code: 'INVALID_DOMAIN', note: 'CheckBidi: a label may not start with an Arabic-Indic digit' },
    {
      raw: 'abc\u05d0.example',
      code: 'INVALID_DOMAIN',
      note: 'CheckBidi: left-to-right and Hebrew letters in one label',
    },
    {
      raw: 'exa\ufeffmple.com',
      code: 'INVALID_DOMAIN',
      note: 'white space inside, though the mapping would ignore it',
    },
    { raw: '\u0085example.com', code: 'INVALID_DOMAIN', note: 'U+0085 is not in the trimmed set' },
    { raw: 'a%41.example', code: 'INVALID_DOMAIN', note: 'UseSTD3ASCIIRules: only letters, digits and hyphens' },
  ],
});
