export type { IndicatorErrorCode } from './errors.js';
export { IndicatorError } from './errors.js';
export type { CanonicalizeOptions, IndicatorKind, KindCounterExample, KindExample } from './kind.js';
export type { IndicatorKindName } from './kind-names.js';
export { INDICATOR_KIND_NAMES, isIndicatorKindName, parseIndicatorKindName } from './kind-names.js';
export { DEFAULT_PREFIX_LENGTH, deriveIpPrefix } from './kinds/ip-prefix.js';
export { registrableDomainOf } from './kinds/registrable-domain.js';
export { canonicalize, getIndicatorKind, INDICATOR_KINDS } from './kinds.js';
