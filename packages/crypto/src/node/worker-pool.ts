/**
 * A fixed set of batch worker threads. Each task goes to the worker with the fewest tasks in
 * flight; results come back through promises. `close()` asks every worker to exit, and
 * terminates any that does not within a second.
 *
 * During development the workers run the TypeScript sources: when this module itself is a `.ts`
 * file, each worker first registers tsx's loader, then imports the `.ts` entry.
 */
import { Worker } from 'node:worker_threads';
import { type ChunkTask, failureToError } from '../batch/chunk.js';
import type { GroupCheck, GroupCheckAnswer } from '../batch/group-check.js';
import { CryptoError } from '../errors.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

interface Slot {
  worker: Worker;
  /** Settles when the thread has exited (recorded at spawn, so it also covers an early death). */
  exited: Promise<void>;
  /** Why this worker can take no more tasks, once it has failed or exited. */
  dead: CryptoError | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: each entry's promise has the type of its request's reply
  inFlight: Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>;
}

export interface WorkerPoolOptions {
  /** Replace a worker that died (its requests failed) before the next request: for a long-running service. */
  respawn?: boolean;
  /** Each worker's old-generation heap, MB (default WORKER_LIMITS'). */
  heapMb?: number;
}

export class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #init: WorkerInit;
  readonly #options: WorkerPoolOptions;
  #nextId = 0;
  #closed = false;

  get size(): number {
    return this.#slots.length;
  }

  constructor(size: number, init: WorkerInit, options: WorkerPoolOptions = {}) {
    this.#init = init;
    this.#options = options;
    try {
      for (let i = 0; i < size; i++) this.#slots.push(this.#spawn(init));
    } catch (error) {
      for (const slot of this.#slots) void slot.worker.terminate();
      throw error;
    }
  }

  /** Runs one chunk; `key` (if any) is copied to the worker, which zeroes its copy afterwards. */
  run(task: ChunkTask, key?: Uint8Array): Promise<Uint8Array> {
    // Transfer the points buffer of a blind task: the caller does not reuse it.
    const transfer = task.operation === 'blind' ? [task.points.buffer as ArrayBuffer] : [];
    return this.#send((id) => ({ type: 'task', id, task, key }), transfer);
  }

  /** Runs one group check: its answer, and how long the worker computed it (ms). */
  check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }> {
    return this.#send((id) => ({ type: 'check', id, check }), []);
  }

  /** Sends a request to the worker with the fewest requests in flight; settles with its reply. */
  #send<T>(request: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<T> {
    if (this.#closed) return Promise.reject(new CryptoError('WORKER_FAILED', 'the worker pool is closed'));
    if (this.#options.respawn) {
      try {
        this.#slots.forEach((s, i) => {
          if (s.dead !== undefined) this.#slots[i] = this.#spawn(this.#init);
        });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const live = this.#slots.filter((s) => s.dead === undefined);
    if (live.length === 0) {
      return Promise.reject(this.#slots[0]?.dead ?? new CryptoError('WORKER_FAILED', 'the worker pool has no workers'));
    }
    const slot = live.reduce((best, s) => (s.inFlight.size < best.inFlight.size ? s : best));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      slot.inFlight.set(id, { resolve, reject });
      try {
        slot.worker.postMessage(request(id), transfer);
      } catch (cause) {
        slot.inFlight.delete(id);
        reject(new CryptoError('WORKER_FAILED', 'cannot send work to a batch worker', { cause }));
      }
    });
  }

  /** Graceful by default (workers finish their chunk); `force` terminates at once. */
  async close(force = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async ({ worker, exited, dead }) => {
        if (dead !== undefined) return; // already gone: nothing to wait for
        if (force) {
          await worker.terminate();
          return;
        }
        worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        const timer = setTimeout(() => void worker.terminate(), 1000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn(init: WorkerInit): Slot {
    const worker = startWorker(init, this.#options.heapMb);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const slot: Slot = { worker, exited, dead: undefined, inFlight: new Map() };
    const failAll = (error: CryptoError) => {
      slot.dead ??= error;
      for (const pending of slot.inFlight.values()) pending.reject(error);
      slot.inFlight.clear();
    };
    slot.worker.on('message', (reply: WorkerReply) => {
      const pending = slot.inFlight.get(reply.id);
      if (!pending) return;
      slot.inFlight.delete(reply.id);
      if (reply.type === 'result') pending.resolve(reply.results);
      else if (reply.type === 'checked') pending.resolve({ answer: reply.answer, ms: reply.ms });
      else pending.reject(failureToError(reply.failure));
    });
    slot.worker.on('error', (cause) => {
      failAll(new CryptoError('WORKER_FAILED', `a batch worker failed: ${cause.message}`, { cause }));
    });
    slot.worker.on('exit', (code) => {
      failAll(new CryptoError('WORKER_FAILED', `a batch worker exited with code ${code}`));
    });
    return slot;
  }
}

/**
 * A worker holds one chunk of a few hundred items at a time, so its heap stays small. Without
 * limits V8 sizes each worker's heap for the whole machine and lets garbage pile up: measured with
 * two workers over 60,000 items, the process peaked at ~203 MB without limits and 166–176 MB with
 * these, at the same rate.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 };

function startWorker(init: WorkerInit, heapMb?: number): Worker {
  const resourceLimits = { ...WORKER_LIMITS, ...(heapMb !== undefined && { maxOldGenerationSizeMb: heapMb }) };
  const options = { workerData: init, resourceLimits };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker-entry.js', import.meta.url), options);
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  let loader: string;
  try {
    loader = import.meta.resolve('tsx/esm/api');
  } catch (cause) {
    throw new CryptoError('WORKER_FAILED', 'running from TypeScript sources needs tsx to start batch workers', {
      cause,
    });
  }
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
