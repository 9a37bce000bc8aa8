/**
 * What a runtime adds to the portable ciphersuite. The main entry of @overlap/crypto is pure: the
 * portable backend (@noble), SHA-256 from @noble/hashes, batches computed on the calling thread, no
 * environment and no disk, so it loads in a browser. On Node.js, importing `@overlap/crypto/node`
 * installs the Node.js platform here once (node/install.ts): the native backend (libsodium), the
 * OVERLAP_CRYPTO_BACKEND variable, node:crypto's SHA-256 and timingSafeEqual, worker threads for
 * batches, and a warning line on stderr. The answers are byte for byte the same either way (spec/ciphersuite.md §8); only
 * the speed differs.
 */
import type { BackendPreference, CryptoBackend } from './backend.js';
import type { BatchRunner } from './batch/runner.js';

export interface Platform {
  /** Loads the native backend, or throws; the platform caches the outcome. */
  loadNativeBackend?: () => CryptoBackend;
  /** The preference a caller gets by default (read afresh at each call), when it names none. */
  backendPreference?: () => BackendPreference | undefined;
  /** Where the one fallback warning line goes. */
  warn?: (line: string) => void;
  /** SHA-256 of the concatenation of already-checked parts. */
  sha256?: (parts: readonly Uint8Array[]) => Uint8Array;
  /** Constant-time equality of two byte strings of the same length. */
  timingSafeEqual?: (a: Uint8Array, b: Uint8Array) => boolean;
  /** Threads for a batch that brings no runner of its own (`workers` undefined: the platform's default). */
  startWorkers?: (options: { workers: number | undefined; backend: CryptoBackend }) => BatchRunner;
}

let installed: Readonly<Platform> = {};

/** Installs a runtime's additions (node/install.ts does, once). Not part of the public API. */
export function installPlatform(platform: Platform): void {
  installed = Object.freeze({ ...platform });
}

export function currentPlatform(): Readonly<Platform> {
  return installed;
}
