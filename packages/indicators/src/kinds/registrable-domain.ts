/**
 * `registrable_domain`: the registrable part of a host name (eTLD+1), by the Public Suffix List
 * as shipped in `tldts`, ICANN and private sections both (so `alice.github.io` is its own
 * registrable domain, as the people behind it are). Produced from a domain, an e-mail address or a
 * URL with `deriveRegistrableDomain`.
 *
 * Rules (version 1): canonicalize as `domain`, then take tldts's `getDomain` with private domains
 * allowed; a name that is itself a public suffix (e.g. `co.uk`) has none (`NO_REGISTRABLE_DOMAIN`).
 * Labs must use the same list snapshot to agree; spec/indicators.md records the tldts version.
 */
import { getDomain } from 'tldts';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { canonicalDomain, DOMAIN_SCHEMA } from './domain.js';

export function registrableDomainOf(canonicalHost: string, raw: string = canonicalHost): string {
  const registrable = getDomain(canonicalHost, { allowPrivateDomains: true, extractHostname: false });
  if (registrable === null || registrable === '') {
    throw new IndicatorError(
      'NO_REGISTRABLE_DOMAIN',
      `${quote(raw)} has no registrable domain (it is a public suffix)`,
    );
  }
  return registrable;
}

export const registrableDomainKind = defineKind({
  name: 'registrable_domain',
  rulesVersion: 2,
  summary: 'eTLD+1 of a canonical domain, by the Public Suffix List (ICANN and private sections)',
  schema: DOMAIN_SCHEMA,
  maxLength: 1024,
  canonicalize: (raw) => registrableDomainOf(canonicalDomain(raw), raw),
  examples: [
    { raw: 'www.example.co.uk', canonical: 'example.co.uk' },
    { raw: 'a.b.c.example.com', canonical: 'example.com' },
    { raw: 'alice.github.io', canonical: 'alice.github.io', note: 'a private-section suffix' },
    { raw: 'Shop.Bücher.example', canonical: 'xn--bcher-kva.example', note: 'an unknown TLD counts as a suffix' },
    // The rule types a Public Suffix List implementation is most likely to get wrong.
    { raw: 'a.b.ck', canonical: 'a.b.ck', note: 'wildcard rule *.ck: b.ck is a public suffix' },
    { raw: 'x.www.ck', canonical: 'www.ck', note: 'exception rule !www.ck' },
    { raw: 'a.city.kawasaki.jp', canonical: 'city.kawasaki.jp', note: 'wildcard *.kawasaki.jp with exception !city' },
    { raw: 'shop.example.公司.cn', canonical: 'example.xn--55qx5d.cn', note: 'an IDN suffix, matched in A-label form' },
    { raw: 'x.y.s3.amazonaws.com', canonical: 'y.s3.amazonaws.com', note: 'a private-section suffix of three labels' },
  ],
  counterExamples: [
    { raw: 'co.uk', code: 'NO_REGISTRABLE_DOMAIN' },
    { raw: 'github.io', code: 'NO_REGISTRABLE_DOMAIN' },
    { raw: '192.0.2.1', code: 'INVALID_DOMAIN' },
    { raw: 'b.ck', code: 'NO_REGISTRABLE_DOMAIN', note: 'matched by the wildcard *.ck' },
    { raw: 'foo.kawasaki.jp', code: 'NO_REGISTRABLE_DOMAIN', note: 'matched by the wildcard *.kawasaki.jp' },
  ],
});

/**
 * The registrable domain of a canonical `domain`, `email` (its domain) or `url` (its host) value.
 * An IP-address host has none (`INVALID_DOMAIN`); a public suffix has none (`NO_REGISTRABLE_DOMAIN`).
 */
export function deriveRegistrableDomain(kind: 'domain' | 'email' | 'url', canonicalValue: string): string {
  let host = canonicalValue;
  if (kind === 'email') host = canonicalValue.slice(canonicalValue.lastIndexOf('@') + 1);
  if (kind === 'url') {
    const start = canonicalValue.indexOf('://') + 3;
    const end = canonicalValue.indexOf('/', start);
    host = canonicalValue.slice(start, end < 0 ? undefined : end);
  }
  return registrableDomainOf(canonicalDomain(host), canonicalValue);
}
