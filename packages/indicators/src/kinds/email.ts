/**
 * `email`: a mailbox, `local@domain`, folded so that the spellings one mailbox receives mail under
 * become one value.
 *
 * Rules (version 1): trim; the address must be a plain `local@domain` — exactly one `@`, no display
 * name, comment, quoted local part, domain literal or white space; the local part is a dot-atom
 * (RFC 5322 atext, plus non-ASCII letters as RFC 6531 allows) without leading, trailing or doubled
 * dots. Then: lowercase everything; the domain is canonicalized as `domain` (IDNA A-label, no
 * trailing dot); in the local part, `+` and everything after it is dropped (subaddressing, for all
 * domains); for `gmail.com` and `googlemail.com` every `.` in the local part is dropped too and the
 * domain is written `gmail.com`.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';
import { canonicalDomain } from './domain.js';

// RFC 5322 atext, plus (RFC 6531) any non-ASCII character that is not white space, a control or
// format character (bidi overrides, zero-width characters) or a surrogate.
const ATEXT = "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\\p{White_Space}\\p{Cc}\\p{Cf}\\p{Cs}\\x00-\\x7F])";
const DOT_ATOM = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`, 'u');
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

export const emailKind = defineKind({
  name: 'email',
  rulesVersion: 2,
  summary: 'lowercase local@domain, subaddress dropped, gmail dots dropped, IDNA domain',
  schema: z.string().regex(/^[^\s@"()<>[\]]+@[a-z0-9.-]+$/u, 'not a canonical email address'),
  maxLength: 512,
  canonicalize(raw) {
    const text = trimWhiteSpace(raw);
    const at = text.lastIndexOf('@');
    if (at <= 0 || text.indexOf('@') !== at) {
      throw new IndicatorError('INVALID_EMAIL', `${quote(raw)} is not a plain local@domain address`);
    }
    const localRaw = text.slice(0, at);
    const domainRaw = text.slice(at + 1);
    if (!DOT_ATOM.test(localRaw)) {
      throw new IndicatorError('INVALID_EMAIL', `${quote(raw)} has a local part that is not a plain dot-atom`);
    }
    if (domainRaw.startsWith('[')) throw new IndicatorError('INVALID_EMAIL', `${quote(raw)} has a domain literal`);
    let domain: string;
    try {
      domain = canonicalDomain(domainRaw);
    } catch (cause) {
      throw new IndicatorError('INVALID_EMAIL', `${quote(raw)} has an invalid domain`, { cause });
    }
    let local = localRaw.toLowerCase();
    const plus = local.indexOf('+');
    if (plus >= 0) local = local.slice(0, plus);
    if (GMAIL_DOMAINS.has(domain)) {
      local = local.replaceAll('.', '');
      domain = 'gmail.com';
    }
    if (local === '' || local.startsWith('.') || local.endsWith('.')) {
      throw new IndicatorError('INVALID_EMAIL', `${quote(raw)} has nothing left of its local part`);
    }
    return `${local}@${domain}`;
  },
  examples: [
    { raw: 'Someone@Example.COM', canonical: 'someone@example.com' },
    { raw: '  someone+tag@example.com ', canonical: 'someone@example.com' },
    { raw: 'J.Doe+news@GoogleMail.com', canonical: 'jdoe@gmail.com' },
    { raw: 'j.d.o.e@gmail.com.', canonical: 'jdoe@gmail.com' },
    { raw: 'first.last@example.org', canonical: 'first.last@example.org', note: 'dots kept outside gmail' },
    { raw: 'user@Bücher.example', canonical: 'user@xn--bcher-kva.example' },
    { raw: 'Ünïcødé@example.com', canonical: 'ünïcødé@example.com' },
    {
      raw: '😀@example.com',
      canonical: '😀@example.com',
      note: 'RFC 6531 allows non-ASCII, astral characters included',
    },
    { raw: 'a.+x@gmail.com', canonical: 'a@gmail.com', note: 'the subaddress goes first, then the gmail dots' },
    { raw: 'a+.x@example.com', canonical: 'a@example.com', note: 'everything from the first + goes' },
    { raw: 'a+b+c@example.com', canonical: 'a@example.com' },
    { raw: 'user@faß.de', canonical: 'user@xn--fa-hia.de', note: 'the domain is mapped as a domain' },
    { raw: 'İ@example.com', canonical: 'i\u0307@example.com', note: 'Unicode full lowercase mapping, no locale' },
    {
      raw: `${'😀'.repeat(250)}@example.com`,
      canonical: `${'😀'.repeat(250)}@example.com`,
      note: '512 UTF-16 code units (262 code points): the longest accepted',
    },
  ],
  counterExamples: [
    { raw: 'Some One <someone@example.com>', code: 'INVALID_EMAIL', note: 'display name' },
    { raw: '"some one"@example.com', code: 'INVALID_EMAIL', note: 'quoted local part' },
    { raw: 'someone(comment)@example.com', code: 'INVALID_EMAIL' },
    { raw: 'some one@example.com', code: 'INVALID_EMAIL' },
    { raw: 'someone@[192.0.2.1]', code: 'INVALID_EMAIL' },
    { raw: 'someone@localhost', code: 'INVALID_EMAIL' },
    { raw: 'a@b@example.com', code: 'INVALID_EMAIL' },
    { raw: '.someone@example.com', code: 'INVALID_EMAIL' },
    { raw: 'some..one@example.com', code: 'INVALID_EMAIL' },
    { raw: '+tag@example.com', code: 'INVALID_EMAIL', note: 'nothing before the +' },
    { raw: 'someone@', code: 'INVALID_EMAIL' },
    { raw: 'a\u00a0b@example.com', code: 'INVALID_EMAIL', note: 'a no-break space is white space' },
    { raw: 'a\u202eb@example.com', code: 'INVALID_EMAIL', note: 'a bidi override is a format character' },
    {
      raw: 'a.+x@example.com',
      code: 'INVALID_EMAIL',
      note: 'without the subaddress the local part ends with a dot (kept outside gmail)',
    },
    { raw: '+x@gmail.com', code: 'INVALID_EMAIL', note: 'nothing left of the local part' },
    { raw: '.+x@gmail.com', code: 'INVALID_EMAIL', note: 'not a dot-atom as written, before anything is removed' },
    { raw: 'someone@example.com..', code: 'INVALID_EMAIL', note: 'the domain rules: one root dot at most' },
    {
      raw: `${'😀'.repeat(250)}a@example.com`,
      code: 'TOO_LONG',
      note: '513 UTF-16 code units',
    },
  ],
});
