export type { ClientErrorCode } from './errors.js';
export { ClientError } from './errors.js';
export type { RelayHealth } from './health.js';
export { checkRelayHealth } from './health.js';
export { parseRelayUrl } from './relay-url.js';
