export type { IndicatorErrorCode } from './errors.js';
export { IndicatorError } from './errors.js';
export type { IndicatorKindName } from './kind-names.js';
export { INDICATOR_KIND_NAMES, isIndicatorKindName, parseIndicatorKindName } from './kind-names.js';
