export type { ClientErrorCode, ClientErrorOptions } from './errors.js';
export { ClientError } from './errors.js';
export type { RelayHealth } from './health.js';
export { checkRelayHealth } from './health.js';
export type { LabRun, LabRunOptions } from './lab-runner.js';
export { runLabSession } from './lab-runner.js';
export type { RelayClientOptions } from './relay-client.js';
export { RelayClient } from './relay-client.js';
export { parseRelayUrl } from './relay-url.js';
export type {
  ConsistencyAnswer,
  Inbox,
  InboxItem,
  InboxItemType,
  InclusionAnswer,
  LogEntry,
  MembershipEntry,
  RelayInfo,
  RelayLimits,
  SessionAbort,
  SessionState,
  SessionStatus,
} from './responses.js';
export type { RetryOptions } from './retry.js';
