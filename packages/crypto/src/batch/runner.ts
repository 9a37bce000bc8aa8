/**
 * Where a batch's chunks are computed. A `BatchRunner` takes one chunk at a time and answers with its
 * results: `BatchPool` (@overlap/crypto/node) on worker threads, `inlineRunner` on the calling thread
 * (a browser, `workers: 0`, and the reference the threads are tested against). Both run the same
 * `computeChunk`, so they give identical results and errors.
 */
import type { CryptoBackend } from '../backend.js';
import { CryptoError } from '../errors.js';
import { type ChunkTask, computeChunk } from './chunk.js';

export interface BatchRunner {
  /** Threads computing chunks (0: the calling thread); sizes a batch's default chunks in flight. */
  readonly workers: number;
  /** Computes one chunk; `key`, when given, is used for this chunk only (a worker zeroes its copy). */
  run(task: ChunkTask, key: Uint8Array | undefined): Promise<Uint8Array>;
  /** Stops taking chunks: gracefully, or at once with `force` (after an abort). Idempotent. */
  close(force?: boolean): Promise<void>;
}

/** A runner that computes each chunk on the calling thread, a microtask after it is asked for. */
export function inlineRunner(backend: CryptoBackend): BatchRunner {
  let closed = false;
  return {
    workers: 0,
    run(task, key) {
      if (closed) return Promise.reject(new CryptoError('WORKER_FAILED', 'this batch runner is closed'));
      return Promise.resolve().then(() => computeChunk(backend, key, task));
    },
    async close() {
      closed = true;
    },
  };
}
