/**
 * A batch worker thread: receives chunk tasks, answers with results (transferred, not copied)
 * or with the first failing item. A blinding task carries its own copy of the key, which the
 * worker zeroes as soon as the chunk is done: between tasks a worker holds no key at all, so one
 * pool can serve several sessions' keys.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend-select.js';
import { computeChunk, errorToFailure } from '../batch/chunk.js';
import { runGroupCheck } from '../batch/group-check.js';
import './install.js'; // this thread's own platform: the native backend loads here too
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

const init = workerData as WorkerInit;
// The parent already chose (and warned about) the backend: no second warning from here.
const backend = selectBackend({ preference: init.backend, warn: () => {} });
const port = parentPort;

port?.on('message', (request: WorkerRequest) => {
  if (request.type === 'close') {
    port.close();
    return;
  }
  if (request.type === 'check') {
    const started = performance.now();
    try {
      const answer = runGroupCheck(request.check, backend.name);
      port.postMessage({
        type: 'checked',
        id: request.id,
        answer,
        ms: performance.now() - started,
      } satisfies WorkerReply);
    } catch (error) {
      port.postMessage({ type: 'failure', id: request.id, failure: errorToFailure(error, 0) } satisfies WorkerReply);
    }
    return;
  }
  try {
    const results = computeChunk(backend, request.key, request.task);
    const reply: WorkerReply = { type: 'result', id: request.id, results };
    port.postMessage(reply, [results.buffer as ArrayBuffer]);
  } catch (error) {
    const reply: WorkerReply = {
      type: 'failure',
      id: request.id,
      failure: errorToFailure(error, request.task.firstIndex),
    };
    port.postMessage(reply);
  } finally {
    request.key?.fill(0);
  }
});
