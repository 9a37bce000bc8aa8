export type { NoDetails, OverlapErrorOptions } from './overlap-error.js';
export { OverlapError } from './overlap-error.js';
