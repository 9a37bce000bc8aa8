export { assertBytes, equalBytes } from './bytes.js';
export { CIPHERSUITE_ID, HASH_TO_CURVE_SUITE, HASH_TO_GROUP_DST, POINT_LENGTH } from './ciphersuite.js';
export { sha256 } from './digest.js';
export type { CryptoErrorCode } from './errors.js';
export { CryptoError } from './errors.js';
