/**
 * The names of the indicator kinds Overlap knows (spec/indicators.md). A kind name is part of
 * every hashed indicator (hash_to_group(kind, value)), so two labs only match values of the same
 * kind, and the list is closed: an unknown name is an error, never a new kind.
 */
import { IndicatorError } from './errors.js';

export const INDICATOR_KIND_NAMES = [
  'email',
  'phone',
  'ip',
  'ip_prefix',
  'domain',
  'registrable_domain',
  'url',
  'account',
  'payment_fingerprint',
  'crypto_wallet',
  'asn',
  'ja4',
  'ja4h',
  'prompt_template',
] as const;

export type IndicatorKindName = (typeof INDICATOR_KIND_NAMES)[number];

const known: ReadonlySet<string> = new Set(INDICATOR_KIND_NAMES);

export function isIndicatorKindName(name: unknown): name is IndicatorKindName {
  return typeof name === 'string' && known.has(name);
}

/** Returns `name` as a kind name, or throws `UNKNOWN_KIND` listing the kinds that exist. */
export function parseIndicatorKindName(name: unknown): IndicatorKindName {
  if (isIndicatorKindName(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 64)) : typeof name;
  throw new IndicatorError(
    'UNKNOWN_KIND',
    `unknown indicator kind ${shown}; known kinds: ${INDICATOR_KIND_NAMES.join(', ')}`,
  );
}
