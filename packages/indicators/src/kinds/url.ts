/**
 * `url`: a web URL in the Safe Browsing canonical form (Google Safe Browsing v4 / Web Risk,
 * "URLs and hashing: canonicalization"), so that labs match the same page however it was written.
 *
 * Rules (version 2; version 1 used node's IDNA in step 5), on the URL's UTF-8 bytes:
 *  1. trim surrounding white space (text.ts); remove every tab, CR and LF; drop the fragment (from the first `#`);
 *  2. percent-unescape repeatedly until no `%XX` escape is left;
 *  3. percent-escape (uppercase hex) every byte <= 0x20, >= 0x7F, `#` and `%`;
 *  4. take the scheme (`http` if none; only `http` and `https` are accepted), then the authority up to
 *     the first `/` (user info and port removed), the path, and the query (from the first `?`, kept
 *     as is — an empty query keeps its `?`);
 *  5. host: leading and trailing dots removed, runs of dots collapsed, lowercase; a name with
 *     non-ASCII letters becomes its IDNA A-label (as Web Risk does, with the mapping of idna.ts); a host that reads as an IPv4
 *     address in any of the forms resolvers accept (1–4 parts, each decimal, octal `0…` or hex
 *     `0x…`) becomes dotted decimal; a one-label name must be ASCII letters, digits and hyphens (an
 *     Overlap rule, so that text which is no URL at all is rejected);
 *  6. path: `/./` and `/../` resolved, runs of `/` collapsed, `/` when empty.
 * Written by hand (with the shared UTS #46 mapping for step 5) because no maintained library implements this
 * canonicalization; the published examples are tests.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';
import { uts46ToAscii } from './idna.js';
import { parseIpv6 } from './ip.js';

const ESCAPE = /%([0-9a-fA-F]{2})/g;

/** The UTF-8 bytes of `text` as a string of one character per byte (0–255). */
function toByteString(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

function unescapeRepeatedly(bytes: string): string {
  let current = bytes;
  for (;;) {
    const next = current.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (next === current) return current;
    current = next;
  }
}

function escapeBytes(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    out +=
      c <= 0x20 || c >= 0x7f || c === 0x23 || c === 0x25
        ? `%${c.toString(16).toUpperCase().padStart(2, '0')}`
        : bytes[i];
  }
  return out;
}

/**
 * Safe Browsing's reading of a host as IPv4: 1–4 parts, each decimal, octal (`0…`) or hex (`0x…`),
 * the last filling the remaining bytes. A part too large for its bytes makes it no IPv4 address
 * (resolvers refuse it too), rather than wrapping around onto another address.
 */
function ipv4FromHost(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => !/^(?:0x[0-9a-f]*|[0-9]+)$/.test(p))) return undefined;
  const out: number[] = [];
  for (const [i, part] of parts.entries()) {
    const octal = part.length > 1 && part.startsWith('0') && !part.startsWith('0x');
    if (octal && /[89]/.test(part)) return undefined;
    const value = part.startsWith('0x')
      ? Number.parseInt(part.slice(2) || '0', 16)
      : Number.parseInt(part, octal ? 8 : 10);
    const bytes = i === parts.length - 1 ? 5 - parts.length : 1;
    if (!Number.isSafeInteger(value) || value >= 256 ** bytes) return undefined;
    for (let b = bytes - 1; b >= 0; b--) out.push(Math.floor(value / 256 ** b) & 0xff);
  }
  return out.join('.');
}

function trimDots(host: string): string {
  return host.replace(/^\.+|\.+$/g, '').replace(/\.{2,}/g, '.');
}

function canonicalHost(authority: string, raw: string): string {
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  // The port: after the closing bracket of an IPv6 literal, else after the last colon.
  host = host.startsWith('[') ? host.replace(/^(\[[^\]]*\]):[0-9]*$/, '$1') : host.replace(/:[0-9]*$/, '');
  // Work on the host's bytes (unescaped), then escape once more at the end.
  host = unescapeRepeatedly(host);
  if (host.startsWith('[')) {
    const v6 = /^\[([0-9a-fA-F:.]+)\]$/.exec(host);
    const address = v6 ? parseIpv6(v6[1] as string) : undefined;
    if (!address) throw new IndicatorError('INVALID_URL', `${quote(raw)} has an invalid IPv6 host`);
    return `[${address.toRFC5952String()}]`;
  }
  const asWritten = trimDots(host).replace(/[A-Z]/g, (c) => c.toLowerCase());
  host = asWritten;
  if (/[\x80-\xff]/.test(host)) {
    // Non-ASCII letters: the IDNA A-label, if the name is a valid IDN (else it stays escaped).
    // The mapping can turn characters such as U+3002 into dots, so dots are trimmed again after.
    let unicode: string | undefined;
    try {
      unicode = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(host, (c) => c.charCodeAt(0)));
    } catch {
      unicode = undefined; // not UTF-8 once unescaped: no IDN, the bytes stay escaped
    }
    const ascii = unicode === undefined ? undefined : uts46ToAscii(unicode);
    if (ascii !== undefined) host = trimDots(ascii);
  }
  const ipv4 = ipv4FromHost(host);
  if (ipv4 !== undefined) return ipv4;
  // Beyond Safe Browsing: a one-label host must be ASCII letters, digits and hyphens as written
  // (like `host` or `intranet`), and no host may keep a colon, so that text which is no URL at all
  // ("<script>", "javascript:alert(1)") is rejected rather than "canonicalized".
  const singleLabel = !host.includes('.');
  if (host === '' || host.includes(':') || (singleLabel && !/^[a-z0-9-]+$/.test(asWritten))) {
    throw new IndicatorError('INVALID_URL', `${quote(raw)} has no host name or IP address`);
  }
  return escapeBytes(host);
}

function canonicalPath(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      if (last) out.push(''); // a trailing dot segment leaves a trailing slash
      continue;
    }
    if (segment === '' && !last) continue; // runs of slashes collapse
    out.push(segment);
  }
  return `/${out.join('/')}`;
}

export function canonicalUrl(raw: string): string {
  let text = trimWhiteSpace(raw).replace(/[\t\r\n]/g, '');
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(0, hash);
  const bytes = escapeBytes(unescapeRepeatedly(toByteString(text)));
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(bytes);
  // "scheme:" without "//" (mailto:, javascript:, a mistyped http:/) is a scheme, not a host:port.
  const bareScheme = schemeMatch ? undefined : /^([a-zA-Z][a-zA-Z0-9+.-]*):(?![0-9])/.exec(bytes);
  if (bareScheme) throw new IndicatorError('INVALID_URL', `${quote(raw)}: not an http(s) URL with //`);
  const scheme = schemeMatch ? (schemeMatch[1] as string).toLowerCase() : 'http';
  if (scheme !== 'http' && scheme !== 'https') {
    throw new IndicatorError('INVALID_URL', `${quote(raw)}: only http and https URLs`);
  }
  const rest = schemeMatch ? bytes.slice(schemeMatch[0].length) : bytes;
  const question = rest.indexOf('?');
  const beforeQuery = question >= 0 ? rest.slice(0, question) : rest;
  const query = question >= 0 ? rest.slice(question) : '';
  const slash = beforeQuery.indexOf('/');
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? beforeQuery.slice(slash) : '';
  return `${scheme}://${canonicalHost(authority, raw)}${canonicalPath(path)}${query}`;
}

export const urlKind = defineKind({
  name: 'url',
  rulesVersion: 2,
  summary: 'the Safe Browsing canonical form of an http(s) URL',
  schema: z.string().regex(/^https?:\/\/[^\s/?#]+\/[^\s#]*$/, 'not a canonical URL'),
  maxLength: 8192,
  canonicalize: (raw) => canonicalUrl(raw),
  // The Safe Browsing documentation's examples, verbatim (they are also the test vectors).
  examples: [
    { raw: 'http://host/%25%32%35', canonical: 'http://host/%25' },
    { raw: 'http://host/%25%32%35%25%32%35', canonical: 'http://host/%25%25' },
    { raw: 'http://host/%2525252525252525', canonical: 'http://host/%25' },
    { raw: 'http://host/asdf%25%32%35asd', canonical: 'http://host/asdf%25asd' },
    { raw: 'http://host/%%%25%32%35asd%%', canonical: 'http://host/%25%25%25asd%25%25' },
    { raw: 'http://www.google.com/', canonical: 'http://www.google.com/' },
    {
      raw: 'http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/',
      canonical: 'http://168.188.99.26/.secure/www.ebay.com/',
    },
    {
      raw: 'http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/',
      canonical:
        'http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/',
    },
    {
      raw: 'http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B',
      canonical: 'http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+',
    },
    { raw: 'http://3279880203/blah', canonical: 'http://195.127.0.11/blah' },
    { raw: 'http://www.google.com/blah/..', canonical: 'http://www.google.com/' },
    { raw: 'www.google.com/', canonical: 'http://www.google.com/' },
    { raw: 'www.google.com', canonical: 'http://www.google.com/' },
    { raw: 'http://www.evil.com/blah#frag', canonical: 'http://www.evil.com/blah' },
    { raw: 'http://www.GOOgle.com/', canonical: 'http://www.google.com/' },
    { raw: 'http://www.google.com.../', canonical: 'http://www.google.com/' },
    { raw: 'http://www.google.com/foo\tbar\rbaz\n2', canonical: 'http://www.google.com/foobarbaz2' },
    { raw: 'http://www.google.com/q?', canonical: 'http://www.google.com/q?' },
    { raw: 'http://www.google.com/q?r?', canonical: 'http://www.google.com/q?r?' },
    { raw: 'http://www.google.com/q?r?s', canonical: 'http://www.google.com/q?r?s' },
    { raw: 'http://evil.com/foo#bar#baz', canonical: 'http://evil.com/foo' },
    { raw: 'http://evil.com/foo;', canonical: 'http://evil.com/foo;' },
    { raw: 'http://evil.com/foo?bar;', canonical: 'http://evil.com/foo?bar;' },
    {
      raw: 'http://\x01\x80.com/',
      canonical: 'http://%01%C2%80.com/',
      note: 'the published example works on bytes (\\x80 → %80); text input is UTF-8, so U+0080 is %C2%80',
    },
    { raw: 'http://notrailingslash.com', canonical: 'http://notrailingslash.com/' },
    { raw: 'http://www.gotaport.com:1234/', canonical: 'http://www.gotaport.com/' },
    { raw: '  http://www.google.com/  ', canonical: 'http://www.google.com/' },
    { raw: 'http:// leadingspace.com/', canonical: 'http://%20leadingspace.com/' },
    { raw: 'http://%20leadingspace.com/', canonical: 'http://%20leadingspace.com/' },
    { raw: '%20leadingspace.com/', canonical: 'http://%20leadingspace.com/' },
    { raw: 'https://www.securesite.com/', canonical: 'https://www.securesite.com/' },
    { raw: 'http://host.com/ab%23cd', canonical: 'http://host.com/ab%23cd' },
    { raw: 'http://host.com//twoslashes?more//slashes', canonical: 'http://host.com/twoslashes?more//slashes' },
    {
      raw: 'http://user:pw@Bücher.example:8080/a/./b/../c',
      canonical: 'http://xn--bcher-kva.example/a/c',
      note: 'user info and port dropped, IDNA host',
    },
    {
      raw: 'http://[2001:DB8:0::1]:8080/',
      canonical: 'http://[2001:db8::1]/',
      note: 'IPv6 host in RFC 5952 form, port dropped',
    },
    { raw: 'http://bücher。example/', canonical: 'http://xn--bcher-kva.example/', note: 'U+3002 maps to a dot' },
    { raw: 'http://256.1.1.1/', canonical: 'http://256.1.1.1/', note: 'a part over 255 makes it no IPv4 address' },
    {
      raw: 'http://faß.de/',
      canonical: 'http://xn--fa-hia.de/',
      note: 'the UTS #46 mapping of spec §2, nontransitional',
    },
    {
      raw: 'http://١٢.example/',
      canonical: 'http://%D9%A1%D9%A2.example/',
      note: 'not a valid IDN (CheckBidi): the host stays escaped, as Web Risk does',
    },
    {
      raw: 'http://a\u200db.example/',
      canonical: 'http://a%E2%80%8Db.example/',
      note: 'not a valid IDN (CheckJoiners)',
    },
  ],
  counterExamples: [
    { raw: 'ftp://files.example/x', code: 'INVALID_URL', note: 'only http and https' },
    { raw: 'javascript:alert(1)', code: 'INVALID_URL', note: 'a scheme-like prefix without // reads as a host' },
    { raw: 'http:///path', code: 'INVALID_URL', note: 'no host' },
    { raw: 'http://.../', code: 'INVALID_URL', note: 'only dots' },
    { raw: 'mailto:someone@example.com', code: 'INVALID_URL' },
    { raw: 'http:/example.com', code: 'INVALID_URL', note: 'one slash' },
    { raw: 'http://example.com:abc/', code: 'INVALID_URL', note: 'a port that is not a number' },
    { raw: 'http://[2001:db8::1::2]/', code: 'INVALID_URL' },
  ],
});
