/**
 * A batch worker thread: receives chunk tasks, answers with results (transferred, not copied)
 * or with the first failing item. The session key arrives once in `workerData` and is zeroed when
 * the parent says `close`, before the thread exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../backend.js';
import { selectBackend } from '../backend-select.js';
import { type ChunkTask, computeChunk, errorToFailure } from './chunk.js';

export interface WorkerInit {
  backend: BackendName;
  key: Uint8Array | undefined;
}

export type WorkerRequest = { type: 'task'; id: number; task: ChunkTask } | { type: 'close' };

export type WorkerReply =
  | { type: 'result'; id: number; results: Uint8Array }
  | { type: 'failure'; id: number; failure: ReturnType<typeof errorToFailure> };

const init = workerData as WorkerInit;
// The parent already chose (and warned about) the backend: no second warning from here.
const backend = selectBackend({ preference: init.backend, warn: () => {} });
const key = init.key;
const port = parentPort;

port?.on('message', (request: WorkerRequest) => {
  if (request.type === 'close') {
    key?.fill(0);
    port.close();
    return;
  }
  try {
    const results = computeChunk(backend, key, request.task);
    const reply: WorkerReply = { type: 'result', id: request.id, results };
    port.postMessage(reply, [results.buffer as ArrayBuffer]);
  } catch (error) {
    const reply: WorkerReply = {
      type: 'failure',
      id: request.id,
      failure: errorToFailure(error, request.task.firstIndex),
    };
    port.postMessage(reply);
  }
});
