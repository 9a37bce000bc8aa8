/**
 * `ip`: one IP address. IPv4 in strict dotted decimal; IPv6 in RFC 5952 form; an IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`) becomes the IPv4 address.
 *
 * Rules (version 1): trim; IPv4 must be exactly four decimal parts 0–255 without leading zeros
 * (no octal, hex, or shortened forms: `010.1.1.1`, `0x7f.0.0.1`, `127.1` are rejected, because tools
 * read them differently); IPv6 is parsed by ipaddr.js and written as RFC 5952 §4 prescribes
 * (lowercase, longest run of zero groups compressed, no leading zeros); zone ids (`%eth0`) and
 * brackets are rejected.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const STRICT_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export type ParsedIp = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses an address under the `ip` rules; IPv4-mapped IPv6 comes back as IPv4. */
export function parseIp(text: string, raw: string = text): ParsedIp {
  if (STRICT_IPV4.test(text)) return ipaddr.IPv4.parse(text);
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return isIpv4Mapped(v6) ? v6.toIPv4Address() : v6;
  throw new IndicatorError('INVALID_IP', `${quote(raw)} is not an IP address in strict form`);
}

/**
 * An IPv6 address, or undefined. A trailing dotted quad must be strict IPv4 and is rewritten as
 * two hex groups before parsing, because ipaddr.js reads the deprecated `::a.b.c.d` form as
 * IPv4-mapped and accepts hex and leading zeros in the quad.
 */
export function parseIpv6(text: string): ipaddr.IPv6 | undefined {
  if (!text.includes(':') || text.includes('%')) return undefined;
  let hex = text;
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const quad = text.slice(colon + 1);
    if (!STRICT_IPV4.test(quad)) return undefined;
    const [a, b, c, d] = quad.split('.').map(Number) as [number, number, number, number];
    hex = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(hex) ? ipaddr.IPv6.parse(hex) : undefined;
}

/** ::ffff:0:0/96 exactly (not the deprecated IPv4-compatible ::/96). */
export function isIpv4Mapped(address: ipaddr.IPv6): boolean {
  const p = address.parts;
  return p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0xffff;
}

export function formatIp(address: ParsedIp): string {
  return address.kind() === 'ipv4' ? address.toString() : (address as ipaddr.IPv6).toRFC5952String();
}

export const ipKind = defineKind({
  name: 'ip',
  rulesVersion: 1,
  summary: 'IPv4 in strict dotted decimal, IPv6 in RFC 5952 form, IPv4-mapped IPv6 as IPv4',
  schema: z.string().min(2).max(45),
  maxLength: 128,
  canonicalize: (raw) => formatIp(parseIp(trimWhiteSpace(raw), raw)),
  examples: [
    { raw: '192.0.2.1', canonical: '192.0.2.1' },
    { raw: ' 203.0.113.255 ', canonical: '203.0.113.255' },
    { raw: '2001:0DB8:0000:0000:0000:0000:0000:0001', canonical: '2001:db8::1' },
    { raw: '2001:db8:0:0:1:0:0:1', canonical: '2001:db8::1:0:0:1', note: 'the first of two equal zero runs' },
    { raw: '::ffff:192.0.2.1', canonical: '192.0.2.1' },
    { raw: '::FFFF:c000:0201', canonical: '192.0.2.1' },
    { raw: '2001:db8::', canonical: '2001:db8::' },
    { raw: '::1.2.3.4', canonical: '::102:304', note: 'IPv4-compatible (deprecated), not IPv4-mapped' },
  ],
  counterExamples: [
    { raw: '192.0.2', code: 'INVALID_IP', note: 'three parts' },
    { raw: '192.000.2.1', code: 'INVALID_IP', note: 'leading zeros' },
    { raw: '0x7f.0.0.1', code: 'INVALID_IP', note: 'hex' },
    { raw: '3232235777', code: 'INVALID_IP', note: 'one decimal number' },
    { raw: '256.1.1.1', code: 'INVALID_IP' },
    { raw: 'fe80::1%eth0', code: 'INVALID_IP', note: 'zone id' },
    { raw: '[2001:db8::1]', code: 'INVALID_IP' },
    { raw: '2001:db8::1::2', code: 'INVALID_IP' },
    { raw: '192.0.2.1/24', code: 'INVALID_IP', note: 'a prefix is ip_prefix' },
    { raw: '::ffff:0x7f.0.0.1', code: 'INVALID_IP', note: 'a hex part in an embedded IPv4 address' },
  ],
});
