/**
 * The Node.js platform of @overlap/crypto (platform.ts), installed once when `@overlap/crypto/node`
 * is first imported, in the main thread and in each batch worker alike:
 *   - the native backend (libsodium through sodium-native, node/native-backend.ts), loaded on first
 *     use and the outcome kept, so a missing addon costs one attempt and one warning line;
 *   - the default preference from OVERLAP_CRYPTO_BACKEND (`native`, `portable` or `auto`), read at
 *     each call, so a test or a lab can change it; any other value is a `BAD_INPUT` error;
 *   - node:crypto's SHA-256 (OpenSSL), ~16x @noble/hashes' on 2 MB tag chunks, and its timingSafeEqual;
 *   - worker threads for batches (BatchPool, one per core by default);
 *   - warnings as one line on stderr.
 * This is the one module of the package that reads the environment.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BackendPreference, CryptoBackend } from '../backend.js';
import { BACKEND_PREFERENCES, isBackendPreference } from '../backend.js';
import { CryptoError } from '../errors.js';
import { installPlatform } from '../platform.js';
import { BatchPool } from './batch-pool.js';
import { loadNativeBackend } from './native-backend.js';

/** The environment variable that picks the default backend on Node.js. */
export const BACKEND_ENV_VAR = 'OVERLAP_CRYPTO_BACKEND';

let native: CryptoBackend | undefined;
let nativeFailure: unknown;

installPlatform({
  loadNativeBackend() {
    if (native !== undefined) return native;
    if (nativeFailure !== undefined) throw nativeFailure;
    try {
      native = loadNativeBackend();
      return native;
    } catch (error) {
      nativeFailure = error;
      throw error;
    }
  },
  backendPreference: preferenceFromEnvironment,
  warn: (line) => process.stderr.write(`${line}\n`),
  sha256(parts) {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return new Uint8Array(hash.digest());
  },
  timingSafeEqual: (a, b) => timingSafeEqual(a, b),
  startWorkers: ({ workers, backend }) =>
    new BatchPool(workers === undefined ? { backend: backend.name } : { workers, backend: backend.name }),
});

function preferenceFromEnvironment(): BackendPreference | undefined {
  const value = process.env[BACKEND_ENV_VAR];
  if (value === undefined || value === '') return undefined;
  if (isBackendPreference(value)) return value;
  throw new CryptoError(
    'BAD_INPUT',
    `${BACKEND_ENV_VAR} must be one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(value.slice(0, 32))}`,
  );
}
