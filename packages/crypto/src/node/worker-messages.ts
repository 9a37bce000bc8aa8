/**
 * The messages between a batch pool (worker-pool.ts) and its worker threads (worker-entry.ts), in
 * one place so that neither side imports the other.
 */
import type { BackendName } from '../backend.js';
import type { ChunkFailure, ChunkTask } from '../batch/chunk.js';
import type { GroupCheck, GroupCheckAnswer } from '../batch/group-check.js';

/** What a worker starts with: the backend the parent chose (and warned about, if it fell back). */
export interface WorkerInit {
  backend: BackendName;
}

export type WorkerRequest =
  | { type: 'task'; id: number; task: ChunkTask; key: Uint8Array | undefined }
  | { type: 'check'; id: number; check: GroupCheck }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'result'; id: number; results: Uint8Array }
  /** `ms`: how long the worker computed (the thread's time for it: it does nothing else meanwhile). */
  | { type: 'checked'; id: number; answer: GroupCheckAnswer; ms: number }
  | { type: 'failure'; id: number; failure: ChunkFailure };
