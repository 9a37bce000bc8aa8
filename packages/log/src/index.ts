export type { Checkpoint } from './checkpoint.js';
export { formatCheckpoint, parseCheckpoint } from './checkpoint.js';
export type { LogErrorCode } from './errors.js';
export { LogError } from './errors.js';
export { consistencyProof, inclusionProof, MerkleTree } from './merkle-tree.js';
export type { CosignatureVerifier } from './note-keys.js';
export {
  ED25519_COSIGNATURE_TYPE,
  ED25519_NOTE_SIGNATURE_TYPE,
  ed25519CosignatureVerifier,
  ed25519Cosigner,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatVerifierKey,
  parseVerifierKey,
} from './note-keys.js';
export { verifyConsistency, verifyInclusion } from './proofs.js';
export type { Receipt } from './receipt.js';
export { requireConsistent, verifyCheckpointNote, verifyReceipt } from './receipt.js';
export type {
  NoteSignature,
  NoteSigner,
  NoteVerifier,
  SignedNote,
  VerifiedNote,
  VerifyNoteOptions,
} from './signed-note.js';
export {
  formatSignedNote,
  MAX_NOTE_SIGNATURES,
  noteKeyId,
  parseSignatureLines,
  parseSignedNote,
  signNote,
  verifiedLineOf,
  verifySignedNote,
} from './signed-note.js';
export { HASH_LENGTH, leafHash, nodeHash, rootFromLeafHashes, rootHash, splitPoint } from './tree-hash.js';
export type { WitnessPolicy } from './witness-policy.js';
export { checkWitnessPolicy, policyCosigners, witnessPolicy } from './witness-policy.js';
export type { AddCheckpointRequest } from './witness-request.js';
export {
  formatAddCheckpointRequest,
  MAX_WITNESS_PROOF_LINES,
  parseAddCheckpointRequest,
} from './witness-request.js';
