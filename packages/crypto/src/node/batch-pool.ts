/**
 * A reusable set of batch workers on Node.js worker threads. Starting worker threads costs tens to
 * hundreds of milliseconds, so a job that runs several batches (its own set, then every hop it owes
 * other labs) keeps one `BatchPool` and passes it to each batch call as its `pool`. Workers start on
 * first use, or earlier with `start()` (while the caller waits for the network or reads its input);
 * `close()` (or `await using`) stops them. `workers: 0` computes on the calling thread.
 */
import { availableParallelism } from 'node:os';
import type { BackendPreference, CryptoBackend } from '../backend.js';
import { getBackend } from '../backend-select.js';
import type { ChunkTask } from '../batch/chunk.js';
import { type GroupCheck, type GroupCheckAnswer, runGroupCheck } from '../batch/group-check.js';
import { type BatchRunner, inlineRunner } from '../batch/runner.js';
import { CryptoError } from '../errors.js';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';

export interface BatchPoolOptions {
  /** Worker threads; default one per core (os.availableParallelism()); 0 computes in this thread. */
  workers?: number;
  backend?: BackendPreference;
  /**
   * Replace a worker that died before the next chunk or check (default false: its batch fails,
   * and so do later ones). For a long-running service, such as a relay checking proofs.
   */
  respawn?: boolean;
  /**
   * Each worker's old-generation heap, MB (default 48: a chunk of a few hundred items at a time).
   * A check of a whole chunk in mode `full` (65,536 positions) needs more.
   */
  workerHeapMb?: number;
}

export class BatchPool implements BatchRunner {
  readonly workers: number;
  readonly backend: CryptoBackend;
  #pool: WorkerPool | undefined;
  readonly #inline: BatchRunner;
  readonly #poolOptions: WorkerPoolOptions;
  #closed = false;

  constructor(options: BatchPoolOptions = {}) {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isSafeInteger(workers) || workers < 0) {
      throw new CryptoError('BAD_INPUT', `workers must be an integer of at least 0, got ${workers}`);
    }
    this.workers = workers;
    const { respawn, workerHeapMb } = options;
    if (workerHeapMb !== undefined && !(Number.isSafeInteger(workerHeapMb) && workerHeapMb >= 16)) {
      throw new CryptoError('BAD_INPUT', `workerHeapMb must be an integer of at least 16, got ${workerHeapMb}`);
    }
    this.#poolOptions = {
      ...(respawn !== undefined && { respawn }),
      ...(workerHeapMb !== undefined && { heapMb: workerHeapMb }),
    };
    this.backend = getBackend(options.backend);
    this.#inline = inlineRunner(this.backend);
  }

  /** Computes one chunk; `key`, when given, is copied to the worker and zeroed there after use. */
  run(task: ChunkTask, key: Uint8Array | undefined): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new CryptoError('WORKER_FAILED', 'this batch pool is closed'));
    if (this.workers === 0) return this.#inline.run(task, key);
    return this.#started().run(task, key);
  }

  /**
   * Runs one group check (a verifier's in-G checks or a hop proof): on a worker, or with
   * `workers: 0` on this thread. Answers how long it computed (ms), for whoever accounts for it.
   */
  async check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }> {
    if (this.#closed) throw new CryptoError('WORKER_FAILED', 'this batch pool is closed');
    if (this.workers > 0) return this.#started().check(check);
    const started = performance.now();
    const answer = runGroupCheck(check, this.backend.name);
    return { answer, ms: performance.now() - started };
  }

  /** Worker threads started so far: 0 until the first chunk or `start()`, then `workers`. */
  get threads(): number {
    return this.#pool?.size ?? 0;
  }

  /**
   * Starts the worker threads now instead of at the first chunk, so that their start-up (loading
   * the crypto code in each thread) overlaps what the caller does meanwhile. Idempotent; nothing
   * to start with `workers: 0` or once closed.
   */
  start(): void {
    if (this.workers > 0 && !this.#closed) this.#started();
  }

  #started(): WorkerPool {
    this.#pool ??= new WorkerPool(this.workers, { backend: this.backend.name }, this.#poolOptions);
    return this.#pool;
  }

  /** Stops the workers: gracefully, or at once with `force` (after an abort). Idempotent. */
  async close(force = false): Promise<void> {
    this.#closed = true;
    await this.#pool?.close(force);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
