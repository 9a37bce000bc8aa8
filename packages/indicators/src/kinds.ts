/** Every indicator kind (spec/indicators.md; each names its rules version), by name. */
import { IndicatorError } from './errors.js';
import type { CanonicalizeOptions, IndicatorKind } from './kind.js';
import { type IndicatorKindName, parseIndicatorKindName } from './kind-names.js';
import { accountKind } from './kinds/account.js';
import { asnKind } from './kinds/asn.js';
import { cryptoWalletKind } from './kinds/crypto-wallet.js';
import { domainKind } from './kinds/domain.js';
import { emailKind } from './kinds/email.js';
import { ipKind } from './kinds/ip.js';
import { ipPrefixKind } from './kinds/ip-prefix.js';
import { ja4Kind } from './kinds/ja4.js';
import { ja4hKind } from './kinds/ja4h.js';
import { paymentFingerprintKind } from './kinds/payment-fingerprint.js';
import { phoneKind } from './kinds/phone.js';
import { promptTemplateKind } from './kinds/prompt-template.js';
import { registrableDomainKind } from './kinds/registrable-domain.js';
import { urlKind } from './kinds/url.js';

export const INDICATOR_KINDS: ReadonlyMap<IndicatorKindName, IndicatorKind> = new Map(
  [
    emailKind,
    phoneKind,
    ipKind,
    ipPrefixKind,
    domainKind,
    registrableDomainKind,
    urlKind,
    accountKind,
    paymentFingerprintKind,
    cryptoWalletKind,
    asnKind,
    ja4Kind,
    ja4hKind,
    promptTemplateKind,
  ].map((kind) => [kind.name, kind]),
);

/** The kind of that name; `UNKNOWN_KIND` for a name Overlap does not know or does not support yet. */
export function getIndicatorKind(name: unknown): IndicatorKind {
  const kind = INDICATOR_KINDS.get(parseIndicatorKindName(name));
  if (!kind) throw new IndicatorError('UNKNOWN_KIND', `indicator kind ${String(name)} is not supported yet`);
  return kind;
}

/** Canonical value of `raw` as an indicator of kind `name`, or an `IndicatorError`. */
export function canonicalize(name: string, raw: string, options: CanonicalizeOptions = {}): string {
  return getIndicatorKind(name).canonicalize(raw, options);
}
