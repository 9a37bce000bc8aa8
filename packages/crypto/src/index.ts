/**
 * `@overlap/crypto`: ciphersuite OVERLAP-V1 (spec/ciphersuite.md) on the portable backend, with no
 * Node.js built-in anywhere below it, so it loads in a browser. On Node.js, import
 * `@overlap/crypto/node` once for the native backend, worker threads and key files on disk.
 */
export type { BackendName, BackendPreference, CryptoBackend } from './backend.js';
export type { BackendSelection } from './backend-select.js';
export { getBackend, selectBackend } from './backend-select.js';
export { fromCanonicalBase64, toBase64 } from './base64.js';
export type { BatchOptions, BatchProgress, IndicatorInput, ItemSource } from './batch/batch.js';
export { blindBatch, hashAndBlindBatch, hashToGroupBatch } from './batch/batch.js';
export type { GroupCheck, GroupCheckAnswer } from './batch/group-check.js';
export { runGroupCheck } from './batch/group-check.js';
export type { BatchRunner } from './batch/runner.js';
export { BlindingKey } from './blinding-key.js';
export { assertBytes, assertLength, concatBytes, isAllZero, wipe } from './bytes.js';
export {
  CIPHERSUITE_ID,
  HASH_TO_CURVE_SUITE,
  HASH_TO_GROUP_DST,
  HASH_TO_GROUP_DST_BYTES,
  POINT_LENGTH,
} from './ciphersuite.js';
export { sha256 } from './digest.js';
export { equalBytes } from './equal-bytes.js';
export type { CryptoErrorCode, CryptoErrorDetails } from './errors.js';
export { CryptoError } from './errors.js';
export { fromHex, toHex } from './hex.js';
export type { ProofMode } from './hop-proof/coins.js';
export { challengeSeed, coinCommitment, provenPositions, SPOT_POSITIONS } from './hop-proof/coins.js';
export { equivalentTags } from './hop-proof/distinct.js';
export type { HopProof, HopProofContext, HopProofVerdict } from './hop-proof/dleq.js';
export type { HopProofOptions, KeyCommitmentProblem } from './hop-proof/points.js';
export { keyCommitment, keyCommitmentProblem, tagInGroup } from './hop-proof/points.js';
export type { ProveHopOptions } from './hop-proof/prove.js';
export { proveHop } from './hop-proof/prove.js';
export { verifyHop } from './hop-proof/verify.js';
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
export { blind, hashAndBlind, hashToGroup } from './suite.js';
