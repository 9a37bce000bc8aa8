/**
 * Chooses the crypto backend: `native` (libsodium, fast) or `portable` (noble, pure JS).
 *
 * The choice comes from the caller's option, else the platform's default (on Node.js, with
 * `@overlap/crypto/node` imported: the OVERLAP_CRYPTO_BACKEND environment variable, `native`,
 * `portable` or `auto`), else `auto`. `auto` uses native when the platform has it and its addon
 * loads; where the addon fails to load it falls back to portable with exactly one warning line per
 * process, never a crash, and where there is no native backend at all (a browser, or Node.js without
 * `@overlap/crypto/node`) it is portable, silently. Forcing `native` where it cannot load is a
 * `BACKEND_UNAVAILABLE` error.
 */
import { BACKEND_PREFERENCES, type BackendPreference, type CryptoBackend, isBackendPreference } from './backend.js';
import { CryptoError } from './errors.js';
import { currentPlatform } from './platform.js';
import { portableBackend } from './portable-backend.js';

export type { BackendPreference } from './backend.js';

export interface BackendSelection {
  preference?: BackendPreference | undefined;
  /** Loads the native backend or throws; replaceable so the fallback can be exercised. */
  loadNative?: () => CryptoBackend;
  /** Where the fallback warning goes (one line, no trailing newline). Default: the platform's (stderr). */
  warn?: (line: string) => void;
}

let warned = false;

/** The backend for this call: see the module comment for the rules. */
export function getBackend(preference?: BackendPreference): CryptoBackend {
  return selectBackend({ preference });
}

export function selectBackend(selection: BackendSelection = {}): CryptoBackend {
  const platform = currentPlatform();
  const preference = selection.preference ?? platform.backendPreference?.() ?? 'auto';
  if (!isBackendPreference(preference)) {
    throw new CryptoError(
      'BAD_INPUT',
      `crypto backend must be one of ${BACKEND_PREFERENCES.join(', ')}, got ${String(preference)}`,
    );
  }
  if (preference === 'portable') return portableBackend;
  const loadNative = selection.loadNative ?? platform.loadNativeBackend;
  if (loadNative === undefined) {
    if (preference === 'auto') return portableBackend;
    throw new CryptoError(
      'BACKEND_UNAVAILABLE',
      'there is no native crypto backend here (on Node.js, import @overlap/crypto/node first)',
    );
  }
  let failure: CryptoError;
  try {
    return loadNative();
  } catch (error) {
    failure = asUnavailable(error);
  }
  if (preference === 'native') throw failure;
  const warn = selection.warn ?? platform.warn ?? (() => {});
  if (!warned || selection.warn) {
    warned = true;
    const reason = failure.cause instanceof Error ? failure.cause.message.split('\n')[0] : 'unknown reason';
    warn(`overlap: native crypto backend unavailable (${reason}); using the portable backend, which is slower`);
  }
  return portableBackend;
}

function asUnavailable(error: unknown): CryptoError {
  if (error instanceof CryptoError && error.code === 'BACKEND_UNAVAILABLE') return error;
  return new CryptoError('BACKEND_UNAVAILABLE', 'the native crypto backend cannot be loaded', { cause: error });
}
