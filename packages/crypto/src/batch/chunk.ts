/**
 * One chunk of batch work and how it is computed: the same function runs in a worker thread and,
 * with `workers: 0`, on the calling thread, so both give identical results and errors.
 */
import type { CryptoBackend } from '../backend.js';
import { isAllZero } from '../bytes.js';
import { HASH_TO_GROUP_DST_BYTES } from '../ciphersuite.js';
import { CryptoError, type CryptoErrorCode } from '../errors.js';
import { hashToGroupMessage } from '../hash-input.js';

export type ChunkOperation = 'hash' | 'hash-blind' | 'blind';

export type ChunkTask =
  | { operation: 'hash' | 'hash-blind'; firstIndex: number; kinds: string[]; values: string[] }
  /** `points` holds n 32-byte points back to back. */
  | { operation: 'blind'; firstIndex: number; points: Uint8Array };

/** An error about one item, as it crosses the thread boundary. */
export interface ChunkFailure {
  code: CryptoErrorCode;
  message: string;
  index: number;
}

export function chunkLength(task: ChunkTask): number {
  return task.operation === 'blind' ? task.points.length / 32 : task.kinds.length;
}

/** Results for every item of the chunk, n × 32 bytes back to back. */
export function computeChunk(backend: CryptoBackend, scalar: Uint8Array | undefined, task: ChunkTask): Uint8Array {
  const n = chunkLength(task);
  const out = new Uint8Array(n * 32);
  if (task.operation === 'blind') {
    const key = requireKey(scalar);
    for (let i = 0; i < n; i++) {
      const u = task.points.subarray(i * 32, i * 32 + 32);
      out.set(
        atItem(task.firstIndex + i, () => backend.x25519(key, u)),
        i * 32,
      );
    }
    return out;
  }
  const messages = task.kinds.map((kind, i) =>
    atItem(task.firstIndex + i, () => hashToGroupMessage(kind, task.values[i] as string)),
  );
  const points = backend.encodeToCurveMany(messages, HASH_TO_GROUP_DST_BYTES);
  if (task.operation === 'hash') {
    points.forEach((u, i) => {
      out.set(u, i * 32);
    });
    return out;
  }
  const key = requireKey(scalar);
  points.forEach((u, i) => {
    out.set(
      atItem(task.firstIndex + i, () => backend.x25519(key, u)),
      i * 32,
    );
  });
  return out;
}

/** Rebuilds a worker's failure as a `CryptoError` naming the item (in its message and `details.index`). */
export function failureToError(failure: ChunkFailure): CryptoError {
  return new CryptoError(failure.code, failure.message, { details: { index: failure.index } });
}

export function errorToFailure(error: unknown, fallbackIndex: number): ChunkFailure {
  if (error instanceof CryptoError) {
    return { code: error.code, message: error.message, index: error.details?.index ?? fallbackIndex };
  }
  return { code: 'WORKER_FAILED', message: `batch worker failed: ${String(error)}`, index: fallbackIndex };
}

function atItem<T>(index: number, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof CryptoError) {
      throw new CryptoError(error.code, `item ${index}: ${error.message}`, { cause: error, details: { index } });
    }
    throw error;
  }
}

function requireKey(scalar: Uint8Array | undefined): Uint8Array {
  // All-zero bytes are a wiped key, never a generated one: refuse rather than blind with them.
  if (scalar === undefined || isAllZero(scalar)) {
    throw new CryptoError('KEY_DISPOSED', 'a blinding operation needs a key that has not been disposed');
  }
  return scalar;
}
