export type { BackendName, CryptoBackend } from './backend.js';
export type { BackendPreference, BackendSelection } from './backend-select.js';
export { BACKEND_ENV_VAR, getBackend, selectBackend } from './backend-select.js';
export type { BatchOptions, BatchProgress, IndicatorInput, ItemSource } from './batch/batch.js';
export { blindBatch, hashAndBlindBatch, hashToGroupBatch } from './batch/batch.js';
export type { BatchPoolOptions } from './batch/batch-pool.js';
export { BatchPool } from './batch/batch-pool.js';
export { BlindingKey } from './blinding-key.js';
export { assertBytes, assertLength, concatBytes, isAllZero, wipe } from './bytes.js';
export { CIPHERSUITE_ID, HASH_TO_CURVE_SUITE, HASH_TO_GROUP_DST, POINT_LENGTH } from './ciphersuite.js';
export { sha256 } from './digest.js';
export { equalBytes } from './equal-bytes.js';
export type { CryptoErrorCode, CryptoErrorDetails } from './errors.js';
export { CryptoError } from './errors.js';
export { fromHex, toHex } from './hex.js';
export type { IdentityOptions, SigningKeyPair } from './identity.js';
export {
  assertPublicKey,
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SEED_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  generateSigningKeyPair,
  keyId,
  sign,
  signingPublicKey,
  verify,
} from './identity.js';
export type { DecodeKeyFileOptions, EncodeKeyFileOptions, ScryptParams } from './key-file-format.js';
export { DEFAULT_SCRYPT, decodeKeyFile, encodeKeyFile, KEY_FILE_TYPE, KEY_FILE_VERSION } from './key-file-format.js';
export type { ReadKeyFileOptions, WriteKeyFileOptions } from './key-file-io.js';
export { readKeyFile, writeKeyFile } from './key-file-io.js';
export type { LabKeys } from './lab-keys.js';
export { createLabKeys, generateLabKeys } from './lab-keys.js';
export { findUnsafeTag, isCanonicalEncoding, isLowOrderEncoding, LOW_ORDER_ENCODINGS } from './low-order.js';
export type { SealingKeyPair } from './sealed-box.js';
export {
  generateSealingKeyPair,
  openSealed,
  SEALED_BOX_OVERHEAD,
  SEALING_KEY_LENGTH,
  seal,
  sealingPublicKey,
} from './sealed-box.js';
export type { SuiteOptions } from './suite.js';
export { blind, HASH_TO_GROUP_DST_BYTES, hashAndBlind, hashToGroup } from './suite.js';
