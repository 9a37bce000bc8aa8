export type { LogErrorCode } from './errors.js';
export { LogError } from './errors.js';
export { consistencyProof, inclusionProof, verifyConsistency, verifyInclusion } from './proofs.js';
export { HASH_LENGTH, leafHash, nodeHash, rootFromLeafHashes, rootHash, splitPoint } from './tree-hash.js';
