/**
 * Chooses the crypto backend: `native` (libsodium, fast) or `portable` (noble, pure JS).
 *
 * The choice comes from the caller's option, else the OVERLAP_CRYPTO_BACKEND environment variable
 * (`native`, `portable` or `auto`), else `auto`. `auto` uses native when the addon loads and
 * otherwise falls back to portable with exactly one warning line per process, never a crash;
 * forcing `native` where it cannot load is a `BACKEND_UNAVAILABLE` error.
 */
import type { BackendName, CryptoBackend } from './backend.js';
import { CryptoError } from './errors.js';
import { loadNativeBackend } from './native-backend.js';
import { portableBackend } from './portable-backend.js';

export type BackendPreference = BackendName | 'auto';

export const BACKEND_ENV_VAR = 'OVERLAP_CRYPTO_BACKEND';

const PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'portable'];

export interface BackendSelection {
  preference?: BackendPreference | undefined;
  /** Loads the native backend or throws; replaceable so the fallback can be exercised. */
  loadNative?: () => CryptoBackend;
  /** Where the fallback warning goes (one line, no trailing newline). Default: stderr. */
  warn?: (line: string) => void;
}

let cachedNative: CryptoBackend | undefined;
let nativeFailure: CryptoError | undefined;
let warned = false;

/** The backend for this call: see the module comment for the rules. Cached per process. */
export function getBackend(preference?: BackendPreference): CryptoBackend {
  return selectBackend({ preference });
}

export function selectBackend(selection: BackendSelection = {}): CryptoBackend {
  const preference = selection.preference ?? preferenceFromEnvironment();
  if (!PREFERENCES.includes(preference)) {
    throw new CryptoError(
      'BAD_INPUT',
      `crypto backend must be one of ${PREFERENCES.join(', ')}, got ${String(preference)}`,
    );
  }
  if (preference === 'portable') return portableBackend;
  const loadNative = selection.loadNative;
  let native: CryptoBackend | undefined;
  let failure: CryptoError | undefined;
  if (loadNative) {
    try {
      native = loadNative();
    } catch (error) {
      failure = asUnavailable(error);
    }
  } else {
    if (cachedNative === undefined && nativeFailure === undefined) {
      try {
        cachedNative = loadNativeBackend();
      } catch (error) {
        nativeFailure = asUnavailable(error);
      }
    }
    native = cachedNative;
    failure = nativeFailure;
  }
  if (native) return native;
  if (preference === 'native') throw failure;
  const warn = selection.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!warned || selection.warn) {
    warned = true;
    const reason = failure?.cause instanceof Error ? failure.cause.message.split('\n')[0] : 'unknown reason';
    warn(`overlap: native crypto backend unavailable (${reason}); using the portable backend, which is slower`);
  }
  return portableBackend;
}

function preferenceFromEnvironment(): BackendPreference {
  const value = typeof process === 'undefined' ? undefined : process.env[BACKEND_ENV_VAR];
  if (value === undefined || value === '') return 'auto';
  if ((PREFERENCES as readonly string[]).includes(value)) return value as BackendPreference;
  throw new CryptoError(
    'BAD_INPUT',
    `${BACKEND_ENV_VAR} must be one of ${PREFERENCES.join(', ')}, got ${JSON.stringify(value.slice(0, 32))}`,
  );
}

function asUnavailable(error: unknown): CryptoError {
  if (error instanceof CryptoError && error.code === 'BACKEND_UNAVAILABLE') return error;
  return new CryptoError('BACKEND_UNAVAILABLE', 'the native crypto backend cannot be loaded', { cause: error });
}
