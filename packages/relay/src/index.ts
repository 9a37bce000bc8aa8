export type { RelayErrorCode } from './errors.js';
export { RelayError } from './errors.js';
export type { RelayServer, RelayServerOptions } from './server.js';
export { RELAY_VERSION, startRelayServer } from './server.js';
