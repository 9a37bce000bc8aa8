/**
 * `domain`: a DNS host name, lowercase, as its IDNA A-label (xn--) form, without the trailing dot.
 *
 * Rules (version 1): trim; remove one trailing dot; convert with the WHATWG URL standard's
 * domain-to-ASCII (UTS #46 mapping, which node's `url.domainToASCII` implements); then require at
 * least two labels, each 1–63 characters of a–z, 0–9 and `-`, not starting or ending with `-`, at
 * most 253 characters in all, and a top-level label that is not all digits (so IP addresses, in any
 * of the forms the URL standard reads as IPv4, are not domains). `www.` is kept: it is part of the
 * name. Threat: a lenient converter maps different spellings onto one name — that is the point —
 * but must not turn an IP address or a URL fragment into a "domain".
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const FORBIDDEN = /[\s/\\@:?#[\]%,;<>"'|^`{}]/;

export const DOMAIN_SCHEMA = z
  .string()
  .max(253)
  .regex(/^(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)(?=[a-z0-9-]*[a-z-])[a-z0-9-]{1,63}(?<!-)$/, 'not a canonical domain');

/** The canonical form of a host name (shared by email, url and registrable_domain). */
export function canonicalDomain(raw: string): string {
  let host = raw.trim();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || FORBIDDEN.test(host)) {
    throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is not a domain name`);
  }
  let ascii = domainToASCII(host);
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1); // a root dot spelled as U+3002 and the like
  if (ascii === '') throw new IndicatorError('INVALID_DOMAIN', `${quote(raw)} is not a valid internationalized domain`);
  const labels = ascii.split('.');
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
  rulesVersion: 1,
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
  ],
});
