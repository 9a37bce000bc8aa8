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

/**
 * A turn of the event loop (a macrotask), so that timers, I/O and signal handlers run between two
 * chunks computed on the calling thread: a set of a million items is minutes of work there.
 */
const nextTurn: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A runner that computes each chunk on the calling thread after a setImmediate (a few milliseconds
 * a chunk at the default size). The chunks a batch queues at once (up to its maxInFlight) run in
 * the same check phase, one after the other; timers and I/O run between such groups, so the
 * thread still answers while a set is hashed.
 */
export function inlineRunner(backend: CryptoBackend): BatchRunner {
  let closed = false;
  return {
    workers: 0,
    run(task, key) {
      if (closed) return Promise.reject(new CryptoError('WORKER_FAILED', 'this batch runner is closed'));
      return nextTurn().then(() => computeChunk(backend, key, task));
    },
    async close() {
      closed = true;
    },
  };
}
