/**
 * `ip_prefix`: an IP network, `address/length`, with the address canonical as for `ip` and the
 * host bits cleared. A lab can also derive a prefix from an `ip` with `deriveIpPrefix` (default
 * /24 for IPv4, /48 for IPv6).
 *
 * Rules (version 1): trim; split at the one `/`; the address follows the `ip` rules; the length is
 * decimal without leading zeros, 0–32 (IPv4) or 0–128 (IPv6); host bits are cleared, not rejected;
 * an IPv4-mapped IPv6 prefix of length 96 or more becomes the IPv4 prefix of length − 96.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';
import { formatIp, isIpv4Mapped, type ParsedIp, parseIp, parseIpv6 } from './ip.js';

export const DEFAULT_PREFIX_LENGTH = { ipv4: 24, ipv6: 48 } as const;

function networkOf(address: ParsedIp, length: number, raw: string): string {
  let network: ParsedIp = address;
  let bits = length;
  // An IPv4-mapped prefix of /96 or more is an IPv4 prefix; a shorter one is an IPv6 network
  // (its host bits, the whole IPv4 part included, are cleared like any other).
  if (address.kind() === 'ipv6' && isIpv4Mapped(address as ipaddr.IPv6) && length >= 96) {
    network = (address as ipaddr.IPv6).toIPv4Address();
    bits = length - 96;
  }
  const max = network.kind() === 'ipv4' ? 32 : 128;
  if (bits > max) throw new IndicatorError('INVALID_IP_PREFIX', `${quote(raw)}: length over ${max}`);
  const cleared =
    network.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${network.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${network.toString()}/${bits}`);
  return `${formatIp(cleared)}/${bits}`;
}

/** The prefix of `length` bits (default /24 or /48) containing a canonical `ip` value. */
export function deriveIpPrefix(ip: string, length?: number): string {
  const address = parseIp(ip);
  const bits = length ?? DEFAULT_PREFIX_LENGTH[address.kind()];
  if (!Number.isInteger(bits) || bits < 0)
    throw new IndicatorError('INVALID_IP_PREFIX', `prefix length ${bits} is invalid`);
  return networkOf(address, bits, `${ip}/${bits}`);
}

export const ipPrefixKind = defineKind({
  name: 'ip_prefix',
  rulesVersion: 1,
  summary: 'network address (canonical as for ip, host bits cleared) / prefix length',
  schema: z.string().regex(/^[0-9a-f:.]+\/(?:0|[1-9][0-9]{0,2})$/, 'not a canonical prefix'),
  maxLength: 128,
  canonicalize(raw) {
    const text = trimWhiteSpace(raw);
    const parts = text.split('/');
    if (parts.length !== 2 || !/^(?:0|[1-9][0-9]{0,2})$/.test(parts[1] as string)) {
      throw new IndicatorError('INVALID_IP_PREFIX', `${quote(raw)} is not address/length`);
    }
    let address: ParsedIp;
    try {
      const part = parts[0] as string;
      // Keep IPv4-mapped IPv6 as IPv6 here: its length counts 128 bits.
      const v6 = parseIpv6(part);
      address = v6 ?? parseIp(part, raw);
    } catch (cause) {
      throw new IndicatorError('INVALID_IP_PREFIX', `${quote(raw)} does not start with an IP address`, { cause });
    }
    return networkOf(address, Number(parts[1]), raw);
  },
  examples: [
    { raw: '198.51.100.0/24', canonical: '198.51.100.0/24' },
    { raw: '198.51.100.77/24', canonical: '198.51.100.0/24', note: 'host bits cleared' },
    { raw: '2001:DB8:1234:5678::1/48', canonical: '2001:db8:1234::/48' },
    { raw: '::ffff:198.51.100.7/120', canonical: '198.51.100.0/24' },
    { raw: '0.0.0.0/0', canonical: '0.0.0.0/0' },
    { raw: '::ffff:198.51.100.7/64', canonical: '::/64', note: 'an IPv4-mapped address in a prefix shorter than /96' },
  ],
  counterExamples: [
    { raw: '198.51.100.0', code: 'INVALID_IP_PREFIX', note: 'no length' },
    { raw: '198.51.100.0/33', code: 'INVALID_IP_PREFIX' },
    { raw: '198.51.100.0/024', code: 'INVALID_IP_PREFIX' },
    { raw: '198.051.100.0/24', code: 'INVALID_IP_PREFIX' },
    { raw: '2001:db8::/129', code: 'INVALID_IP_PREFIX' },
    { raw: '::ffff:198.51.100.7/129', code: 'INVALID_IP_PREFIX' },
  ],
});
