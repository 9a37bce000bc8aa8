export type { ProtocolErrorCode, ProtocolIssue } from './errors.js';
export { ProtocolError } from './errors.js';
export type { RevealPolicy } from './reveal-policy.js';
export { formatRevealPolicy, parseRevealPolicy, revealPolicySchema } from './reveal-policy.js';
export { PROTOCOL_VERSION } from './version.js';
