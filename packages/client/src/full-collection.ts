/**
 * One full garbage collection, asked for at the one moment a lab process benefits from it: when a
 * session's state (a million values, their order, the rows as they arrived) has just become
 * garbage and the results are about to be written. V8 collects its old generation when the heap
 * has grown by a factor of what was live at the last collection, so a process that held ~300 MB
 * lets the next ~100 MB of the results' writing pile on top before it looks back: measured with
 * `pnpm bench e2e` (3 × 1,000,000, 300,000 results each), the writing phase peaked 110 MB above
 * the proof round's. Node exposes no collection to a program started without `--expose-gc`; the
 * flag set now gives new V8 contexts a `gc` function (the documented behaviour of `--expose-gc`),
 * which one context made here calls. Where that is not available, nothing happens. The lab's agent
 * asks for one when it falls idle, so that a process that ran a session shrinks back while it waits.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') gc();
  } catch {
    // A runtime without the flag: the collector runs when it would have.
  }
}
