// The relay's answers as RelayClient returns them, declared once in @overlap/protocol (wire/relay-api.ts).
export type {
  ConsistencyAnswer,
  InboxAnswer,
  InboxItem,
  InclusionAnswer,
  LogEntries,
  MembershipList,
  RelayHealth,
  RelayInfo,
  SessionCreated,
  SessionList,
  SessionStatus,
} from '@overlap/protocol';
export { type AttemptsMet, attemptsMet } from './attempts-met.js';
export type { ClientErrorCode, ClientErrorOptions } from './errors.js';
export { ClientError } from './errors.js';
export type { LabIdentity } from './forum-admin.js';
export { ForumAdmin, labIdentityOf, parseLabIdentity } from './forum-admin.js';
export { collectGarbage } from './full-collection.js';
export { checkRelayHealth } from './health.js';
export type { IndicatorFile, IndicatorFileOptions, TemplateOfFile } from './indicator-input.js';
export { prefetchIndicatorFile, readIndicatorFile } from './indicator-input.js';
export type { JoinWait } from './join-wait.js';
export { waitForJoins } from './join-wait.js';
export type { LabProgress, LabRun, LabRunOptions } from './lab-runner.js';
export { runLabSession } from './lab-runner.js';
export type { LabProgressRecord } from './lab-state-store.js';
export { LabStateStore } from './lab-state-store.js';
export type { EvidenceVerdict, LogEvidence } from './log-evidence.js';
export { checkLogEvidence } from './log-evidence.js';
export type { CheckpointMemory } from './log-monitor.js';
export type {
  AbortDone,
  Member,
  OverlapClientOptions,
  SessionOutcome,
  SessionSummary,
  SessionTerms,
  SharedIndicator,
  TemplateMatch,
} from './overlap-client.js';
export { OverlapClient } from './overlap-client.js';
export type { RelayClientOptions, SessionsPageOptions } from './relay-client.js';
export { RelayClient } from './relay-client.js';
export { parseRelayUrl } from './relay-url.js';
export type { ReadingSources, RecordSource, ResultSources, ResultTrace, TraceOptions } from './result-trace.js';
export { sourcesOfReading, traceResults } from './result-trace.js';
export type { SessionResults } from './results-document.js';
export type { CsvGuard, FormatResultsOptions, ResultFormat } from './results-format.js';
export { CSV_GUARDS, csvField, formatResults, RESULT_FORMATS, resultJsonLine } from './results-format.js';
export type { SourceAt } from './results-pieces.js';
export { resultDocumentPieces, resultJsonLines } from './results-pieces.js';
export type { RetryInfo, RetryOptions } from './retry.js';
export type { TemplateResultsOptions } from './template-results.js';
export { templateResults } from './template-results.js';
export type { AnnouncedRoots, ConfiguredRoots, PinnedRoots } from './trust-store.js';
export { TrustStore } from './trust-store.js';
export type { TrustedRelay, TrustedRelayOptions } from './trusted-relay.js';
export { connectTrustedRelay } from './trusted-relay.js';
