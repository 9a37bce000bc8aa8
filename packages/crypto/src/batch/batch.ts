/**
 * Hashing and blinding of whole sets: millions of items, every core, bounded memory.
 *
 * Items are pulled lazily from an (async) iterable in chunks; at most `maxChunksInFlight` chunks
 * are being computed at once, and results are yielded strictly in input order. Memory therefore
 * stays near (maxChunksInFlight + 1) × chunkSize items whatever the set's size, provided the
 * caller consumes the results as they come (the generator never reads ahead of its consumer).
 *
 * Work runs on the caller's `pool` (a `BatchRunner`: a `BatchPool` of @overlap/crypto/node, kept
 * for several batches), else on `workers` threads of its own: on Node.js with @overlap/crypto/node
 * imported, one per core by default; elsewhere (a browser) on the calling thread, as `workers: 0`
 * always is (the reference in tests).
 * `signal` cancels: the generator rejects with the signal's reason, stops reading its source, and
 * stops its own workers at once (chunks already queued on a shared pool still finish there).
 */
import type { BackendPreference } from '../backend.js';
import { getBackend } from '../backend-select.js';
import type { BlindingKey } from '../blinding-key.js';
import { assertLength } from '../bytes.js';
import { CryptoError } from '../errors.js';
import { currentPlatform } from '../platform.js';
import { type ChunkOperation, type ChunkTask, chunkLength } from './chunk.js';
import { type BatchRunner, inlineRunner } from './runner.js';

export interface IndicatorInput {
  kind: string;
  /** The canonical value (see @overlap/indicators). */
  value: string;
}

const DEFAULT_CHUNK_SIZE = 256;

export type ItemSource<T> = Iterable<T> | AsyncIterable<T>;

export interface BatchProgress {
  /** Items whose results have been yielded so far. */
  done: number;
  elapsedMs: number;
  /** Items per second since the start. */
  rate: number;
}

export interface BatchOptions {
  /**
   * Workers to use, kept open after the batch (the caller closes it). Without one, the batch
   * starts its own from `workers` and `backend` and closes it at the end.
   */
  pool?: BatchRunner;
  /**
   * Worker threads; 0 computes in this thread. Default: one per core on Node.js with
   * @overlap/crypto/node imported (os.availableParallelism()), else 0.
   */
  workers?: number;
  /**
   * Items per chunk sent to a worker; default 256: a few milliseconds of work, large enough that
   * messaging costs under 1%, small enough that workers finish a set together.
   */
  chunkSize?: number;
  /** Chunks being computed or queued at once; default 4 per worker (at least 4). */
  maxChunksInFlight?: number;
  signal?: AbortSignal;
  /** Called after each chunk's results have been yielded. */
  onProgress?: (progress: BatchProgress) => void;
  backend?: BackendPreference;
}

/** hash_to_group for every item, in order. */
export function hashToGroupBatch(
  items: ItemSource<IndicatorInput>,
  options: BatchOptions = {},
): AsyncGenerator<Uint8Array> {
  return runBatch('hash', undefined, items, options);
}

/** blind(k, hash_to_group(kind, value)) for every item, in order. */
export function hashAndBlindBatch(
  key: BlindingKey,
  items: ItemSource<IndicatorInput>,
  options: BatchOptions = {},
): AsyncGenerator<Uint8Array> {
  return runBatch('hash-blind', key, items, options);
}

/** blind(k, u) for every 32-byte point, in order (another lab's set, one hop). */
export function blindBatch(
  key: BlindingKey,
  points: ItemSource<Uint8Array>,
  options: BatchOptions = {},
): AsyncGenerator<Uint8Array> {
  return runBatch('blind', key, points, options);
}

async function* runBatch(
  operation: ChunkOperation,
  key: BlindingKey | undefined,
  input: ItemSource<unknown>,
  options: BatchOptions,
): AsyncGenerator<Uint8Array> {
  const ownPool = options.pool === undefined;
  const pool = options.pool ?? startRunner(options);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const maxInFlight = options.maxChunksInFlight ?? Math.max(4, 4 * pool.workers);
  const { signal, onProgress } = options;
  try {
    assertCount(chunkSize, 1, 'chunkSize');
    assertCount(maxInFlight, 1, 'maxChunksInFlight');
    signal?.throwIfAborted();
  } catch (error) {
    if (ownPool) await pool.close();
    throw error;
  }
  // The key is looked up for every chunk, so a key disposed mid-batch stops the batch with
  // KEY_DISPOSED instead of blinding the rest with its zeroed bytes.
  const compute = (task: ChunkTask): Promise<Uint8Array> => pool.run(task, key?.exposeSecret());

  const source = toIterator(input);
  const inFlight: Promise<Uint8Array>[] = [];
  const started = Date.now();
  let read = 0;
  let done = 0;
  let exhausted = false;
  let aborted = false;
  const onAbort = () => {
    aborted = true;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (!exhausted && inFlight.length < maxInFlight) {
        const task = await raceAbort(readChunk(source, operation, read, chunkSize), signal);
        if (task === undefined) {
          exhausted = true;
          break;
        }
        read += chunkLength(task);
        const running = compute(task);
        running.catch(() => {}); // observed when its turn comes; avoid an unhandled rejection before
        inFlight.push(running);
      }
      const next = inFlight.shift();
      if (next === undefined) return;
      const results = await raceAbort(next, signal);
      for (let offset = 0; offset < results.length; offset += 32) {
        if (aborted) signal?.throwIfAborted();
        yield results.subarray(offset, offset + 32);
      }
      done += results.length / 32;
      signal?.throwIfAborted();
      if (onProgress) {
        const elapsedMs = Date.now() - started;
        onProgress({ done, elapsedMs, rate: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0 });
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (ownPool) await pool.close(aborted);
    // Close the source. After an abort, do not wait for it: an async source stalled in next()
    // would only answer return() once next() settles, which may be never.
    const closing = Promise.resolve(source.iterator.return?.()).catch(() => {});
    if (!aborted) await closing;
  }
}

async function readChunk(
  source: SourceIterator,
  operation: ChunkOperation,
  firstIndex: number,
  size: number,
): Promise<ChunkTask | undefined> {
  const items: unknown[] = [];
  if (source.sync) {
    // A plain iterable needs no await per item (each would cost a microtask on this thread).
    while (items.length < size) {
      const next = source.iterator.next() as IteratorResult<unknown>;
      if (next.done) break;
      items.push(next.value);
    }
  } else {
    while (items.length < size) {
      const next = await source.iterator.next();
      if (next.done) break;
      items.push(next.value);
    }
  }
  if (items.length === 0) return undefined;
  if (operation === 'blind') {
    const points = new Uint8Array(items.length * 32);
    items.forEach((item, i) => {
      assertLength(item, 32, `point ${firstIndex + i}`);
      points.set(item, i * 32);
    });
    return { operation, firstIndex, points };
  }
  const kinds: string[] = [];
  const values: string[] = [];
  items.forEach((item, i) => {
    const { kind, value } = (typeof item === 'object' && item !== null ? item : {}) as Partial<IndicatorInput>;
    if (typeof kind !== 'string' || typeof value !== 'string') {
      throw new CryptoError('BAD_TYPE', `item ${firstIndex + i}: expected { kind: string, value: string }`);
    }
    kinds.push(kind);
    values.push(value);
  });
  return { operation, firstIndex, kinds, values };
}

/** The batch's own runner: the platform's threads, or the calling thread where there are none. */
function startRunner(options: BatchOptions): BatchRunner {
  if (options.workers !== undefined) assertCount(options.workers, 0, 'workers');
  const backend = getBackend(options.backend);
  if (options.workers === 0) return inlineRunner(backend);
  const startWorkers = currentPlatform().startWorkers;
  if (startWorkers !== undefined) return startWorkers({ workers: options.workers, backend });
  if (options.workers === undefined) return inlineRunner(backend);
  throw new CryptoError('WORKER_FAILED', 'batch worker threads need Node.js and @overlap/crypto/node imported');
}

type SourceIterator = { sync: true; iterator: Iterator<unknown> } | { sync: false; iterator: AsyncIterator<unknown> };

function toIterator(source: ItemSource<unknown>): SourceIterator {
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source) {
      return { sync: false, iterator: (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() };
    }
    if (Symbol.iterator in source) return { sync: true, iterator: (source as Iterable<unknown>)[Symbol.iterator]() };
  }
  throw new CryptoError('BAD_TYPE', 'batch input must be an iterable or an async iterable');
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function assertCount(value: number, min: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CryptoError('BAD_INPUT', `${name} must be an integer of at least ${min}, got ${value}`);
  }
}
