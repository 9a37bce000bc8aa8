export type { CborLimits, CborValue } from './cbor.js';
export { DEFAULT_CBOR_LIMITS, decodeDeterministic, encodeDeterministic } from './cbor.js';
export type {
  EnvelopeHeader,
  EnvelopeSigner,
  MessageType,
  OpenedEnvelope,
  SealInput,
  VerifiedEnvelope,
} from './envelope.js';
export {
  ENVELOPE_DOMAIN,
  envelopeHeaderSchema,
  MESSAGE_TYPES,
  openEnvelope,
  SESSION_ID_LENGTH,
  sealEnvelope,
  verifyEnvelope,
} from './envelope.js';
export type { ChainState } from './envelope-chain.js';
export { checkChain, EnvelopeChain } from './envelope-chain.js';
export type { HttpSignatureErrorCode, MessageErrorCode, ProtocolErrorCode, ProtocolIssue } from './errors.js';
export { HTTP_SIGNATURE_ERROR_CODES, ProtocolError } from './errors.js';
export type { VerifiedHeaders, VerifiedRequest, VerifyHeadersInput } from './http-signature.js';
export { checkRequestBody, contentDigest, signRequest, verifyRequest, verifyRequestHeaders } from './http-signature.js';
export type { RevealPolicy } from './reveal-policy.js';
export { formatRevealPolicy, parseRevealPolicy, parseRevealPolicyText, revealPolicySchema } from './reveal-policy.js';
export type { HashedSet, HashedSets } from './session/hashed-sets.js';
export { hashSets } from './session/hashed-sets.js';
export type { InMemoryLab, InMemoryOptions, InMemoryRun } from './session/in-memory.js';
export { runSessionInMemory } from './session/in-memory.js';
export { LAB_ID_PATTERN, LAB_ID_RULE } from './session/lab-id.js';
export type { LabResult } from './session/lab-rows.js';
export type { LabSessionOptions, LabSessionState } from './session/lab-session.js';
export { LabSession } from './session/lab-session.js';
export type {
  Abort,
  BlindTask,
  Challenge,
  Enrollment,
  HopProofMessage,
  Join,
  Outgoing,
  ProofRequest,
  ResultRow,
  ResultRows,
  Reveal,
  Revocation,
  SessionMessage,
  SessionProposal,
  TagChunk,
} from './session/messages.js';
export {
  abortSchema,
  blindTaskSchema,
  challengeSchema,
  enrollmentSchema,
  hopProofSchema,
  joinSchema,
  parseMessage,
  proofRequestSchema,
  resultRowSchema,
  resultRowsSchema,
  revealSchema,
  revocationSchema,
  sessionProposalSchema,
  tagChunkSchema,
} from './session/messages.js';
export type { ReceivedEnvelope, RelaySessionOptions, RelaySessionState } from './session/relay-session.js';
export { RelaySession } from './session/relay-session.js';
export { hopLab, hopOf, lastHopOwner } from './session/schedule.js';
export type { SessionDeadlines } from './session/session-deadlines.js';
export { DEFAULT_JOIN_MS, DEFAULT_SESSION_MS, sessionDeadlines } from './session/session-deadlines.js';
export { StreamedResultRows } from './session/streamed-result-rows.js';
export type { ChunkPlace, TagArchive } from './session/tag-archive.js';
export { InMemoryTagArchive, placeKey } from './session/tag-archive.js';
export {
  DEFAULT_CHUNK_SIZE,
  eachTag,
  MAX_TAGS_PER_CHUNK,
  MIN_CHUNK_SIZE,
  packTags,
  TAG_LENGTH,
  tagAt,
  tagCount,
} from './session/tags.js';
export { parseWithSchema } from './validate.js';
export { PROTOCOL_VERSION } from './version.js';
export type {
  AnnouncedLimits,
  ConsistencyAnswer,
  InboxAnswer,
  InboxItem,
  InboxItemType,
  InclusionAnswer,
  LogEntries,
  LogEntry,
  MembershipEntry,
  MembershipList,
  RelayAnswerSchema,
  RelayErrorBody,
  RelayHealth,
  RelayInfo,
  SessionAbort,
  SessionCreated,
  SessionList,
  SessionStatus,
} from './wire/relay-api.js';
export {
  consistencyAnswerSchema,
  inboxAnswerSchema,
  inclusionAnswerSchema,
  logEntriesSchema,
  membershipListSchema,
  receiptSchema,
  relayAnswerJsonSchema,
  relayErrorBodySchema,
  relayHealthSchema,
  relayInfoSchema,
  sessionCreatedSchema,
  sessionListSchema,
  sessionStatusSchema,
} from './wire/relay-api.js';
export type { Transcript, TranscriptEntry } from './wire/transcript.js';
export { decodeTranscript, encodeTranscript, transcriptSchema } from './wire/transcript.js';
