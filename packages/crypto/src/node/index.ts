/**
 * `@overlap/crypto/node`: what only Node.js has. Importing it (once, anywhere in the process)
 * installs the Node.js platform (install.ts): the native backend, OVERLAP_CRYPTO_BACKEND, node:crypto's
 * SHA-256 and worker threads; the functions of `@overlap/crypto` then use them. It adds key files
 * on disk and the worker pool.
 */
import './install.js';

export type { BatchPoolOptions } from './batch-pool.js';
export { BatchPool } from './batch-pool.js';
export { BACKEND_ENV_VAR } from './install.js';
export type { ReadKeyFileOptions, WriteKeyFileOptions } from './key-file-io.js';
export { readKeyFile, writeKeyFile } from './key-file-io.js';
