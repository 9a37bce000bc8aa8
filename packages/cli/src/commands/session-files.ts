/**
 * Where a lab's session lives on its own disk, under the state directory (`--state-dir`):
 *
 *   <state-dir>/<session>.json            the result document (`overlap results` reads it): the
 *                                         session is done for this lab
 *   <state-dir>/<session>.results.jsonl   the shared indicators as JSON lines (default `--out`)
 *   <state-dir>/<session>.state/          the running session's state (@overlap/client's
 *                                         LabStateStore): its session key, its outbox; erased when
 *                                         the session ends
 *
 * `session run` reads these before it hashes anything: a finished session is not run again, and a
 * state left for a session the relay reports finished is erased (it holds an unencrypted key),
 * except the resumable state of a session the relay reports done: that lab's run was cut short
 * after its proofs and before it read its results, and going on from the state fetches them
 * (`settleFinished`).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabStateStore } from '@overlap/client';

export interface SessionFiles {
  session: string;
  stateDir: string;
  resultsDocument: string;
  resultsJsonl: string;
  state: string;
}

export function sessionFiles(stateDir: string, session: string): SessionFiles {
  return {
    session,
    stateDir,
    resultsDocument: join(stateDir, `${session}.json`),
    resultsJsonl: join(stateDir, `${session}.results.jsonl`),
    state: join(stateDir, `${session}.state`),
  };
}

/** Whether this lab's result document for the session is here (the session is done for it). */
export async function doneHere(files: SessionFiles): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(files.resultsDocument, 'utf8');
  } catch {
    return false;
  }
  // Only the session field is looked at: `overlap results` checks the whole document.
  const head = /^\{"session":"([0-9a-f]{32})"/.exec(text);
  return head?.[1] === files.session;
}

/** Whether a running session's state is here, and how many envelopes of it wait for a receipt. */
export async function stateHere(files: SessionFiles): Promise<{ unacknowledged: number } | undefined> {
  if (!(await new LabStateStore(files.state).exists())) return undefined;
  const outbox = await readdir(join(files.state, 'outbox')).catch(() => []);
  return { unacknowledged: outbox.filter((name) => /^\d+$/.test(name)).length };
}

/**
 * Whether a resumable state is here, read synchronously (for the last words of an interrupted run):
 * LabStateStore records progress once the lab's join is sealed, before anything is sent, so
 * without progress nothing was sent and a run starts over.
 */
export function resumableSync(files: SessionFiles): boolean {
  return existsSync(join(files.state, 'progress.json'));
}

/**
 * What is left here of a session the relay reports `done` or `aborted`: `resumable` for the
 * resumable state of a done session, kept (this lab's results are still to be read from the relay,
 * and the state holds no session key any more: it is erased once the proofs are recorded, and the
 * relay is done only once every lab's proofs are in); otherwise the state, if any, is erased
 * (`erased`), or there was none (`none`).
 */
export async function settleFinished(
  files: SessionFiles,
  state: 'done' | 'aborted',
): Promise<'resumable' | 'erased' | 'none'> {
  if (state === 'done' && (await stateHere(files)) !== undefined) return 'resumable';
  return (await eraseState(files)) ? 'erased' : 'none';
}

/** Erases the session's state (its key, its outbox): nothing can be resumed from it any more. */
export async function eraseState(files: SessionFiles): Promise<boolean> {
  // The key is written before the first progress record: the folder, not progress.json, says whether there is one.
  const existed = existsSync(files.state);
  if (existed) await new LabStateStore(files.state).erase();
  return existed;
}
