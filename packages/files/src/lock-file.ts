/**
 * A lock file: one process at a time holds `path`, across processes of the same host; a holder
 * that died (kill -9, a crash) leaves a stale lock that the next process takes over.
 *
 * Node.js has no flock(2), so the lock is a file created exclusively that names its holder:
 * `<host> <pid> <process start time>` (the start time from /proc where there is one, so that a pid
 * reused by another process is not taken for the holder).
 *
 *   take:   write a private file naming this process, then link(2) it to `path` — atomic, and it
 *           fails if `path` exists, so of many processes exactly one links first;
 *   stale:  `path` names a process of this host that no longer runs. To take it over, a process
 *           first takes `path.break` (the same way), reads `path` again and, if it still names the
 *           same dead holder, renames its own file over it (atomic: `path` never goes missing, so a
 *           process taking it afresh cannot slip in between), then lets `path.break` go;
 *   release: unlink `path` if it is still this holder's.
 *
 * A lock of another host (the directory shared over the network) is never taken over: whether its
 * holder runs cannot be known from here, so it is reported with its holder, for an operator.
 * What remains: a process killed while it holds `path.break` (a window of a few system calls)
 * leaves that stale in turn; the next breaker takes it over the same way, and only two breakers
 * racing in that rare case could both take `path` — documented here, not mended.
 *
 * Threat: two processes of one lab (or two witnesses on one state directory) that each read, check
 * and write the same remembered checkpoint, and so accept a fork between them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { syncDirectory, toFilesError } from './directory.js';
import { FilesError } from './errors.js';

export interface LockOptions {
  /** What the lock protects, for the error when another process holds it (e.g. "the witness state"). */
  what?: string;
  /** How long to wait for a live holder to let go before `LOCKED` (default 0: do not wait). */
  waitMs?: number;
}

export interface HeldLock {
  readonly path: string;
  /** Lets the lock go (idempotent). */
  release(): Promise<void>;
}

interface Holder {
  host: string;
  pid: number;
  started: string;
}

const POLL_MS = 25;

/** Takes the lock at `path` (its directory must exist), or throws `LOCKED` naming the holder. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const what = options.what ?? path;
  const giveUpAt = Date.now() + (options.waitMs ?? 0);
  const me = thisProcess();
  const mine = await writeHolderFile(path, me);
  try {
    for (;;) {
      if (await tryLink(mine, path)) break;
      const holder = await readHolder(path);
      if (holder !== undefined && !(await takeOverIfStale(path, holder, me))) {
        if (Date.now() >= giveUpAt) throw lockedError(path, what, holder);
        await new Promise((done) => setTimeout(done, POLL_MS));
        continue;
      }
      if (holder !== undefined) break; // taken over: `path` is now this process's
    }
    await syncDirectory(dirname(path));
  } finally {
    await unlink(mine).catch(() => {});
  }
  let held = true;
  return {
    path,
    async release() {
      if (!held) return;
      held = false;
      const holder = await readHolder(path).catch(() => undefined);
      if (holder !== undefined && sameHolder(holder, me)) await unlink(path).catch(() => {});
    },
  };
}

/** Takes `path` over from a dead holder of this host, through `path.break`; true if this process now holds it. */
async function takeOverIfStale(path: string, holder: Holder, me: Holder): Promise<boolean> {
  if (isAlive(holder)) return false;
  const guard = `${path}.break`;
  const mine = await writeHolderFile(guard, me);
  try {
    if (!(await tryLink(mine, guard))) {
      const breaker = await readHolder(guard);
      if (breaker === undefined || isAlive(breaker)) return false; // another process is taking it over
      await rename(mine, guard); // that breaker died while it held the guard: take the guard over
    }
    try {
      const now = await readHolder(path);
      if (now === undefined || !sameHolder(now, holder)) return false; // it changed hands: look again
      const replacement = await writeHolderFile(path, me);
      await rename(replacement, path);
      return true;
    } finally {
      const breaker = await readHolder(guard).catch(() => undefined);
      if (breaker !== undefined && sameHolder(breaker, me)) await unlink(guard).catch(() => {});
    }
  } finally {
    await unlink(mine).catch(() => {});
  }
}

async function writeHolderFile(path: string, me: Holder): Promise<string> {
  const file = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${me.host} ${me.pid} ${me.started}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(file).catch(() => {});
    throw toFilesError(error, path, `cannot take the lock ${path}`);
  }
  return file;
}

async function tryLink(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw toFilesError(error, to, `cannot take the lock ${to}`);
  }
}

/** The holder a lock file names; undefined if it vanished meanwhile. A file that names no holder is an error. */
async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toFilesError(error, path, `cannot read the lock ${path}`);
  }
  const match = /^(\S+) ([1-9][0-9]*) (\S+)\n$/.exec(text);
  if (!match) {
    throw new FilesError('LOCKED', `${path} is not a lock file this program wrote: remove it if no process uses it`, {
      details: { path },
    });
  }
  return { host: match[1] as string, pid: Number(match[2]), started: match[3] as string };
}

function isAlive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true; // cannot be known from here
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return startTimeOf(holder.pid) === holder.started; // a pid reused by another process is not the holder
}

function sameHolder(a: Holder, b: Holder): boolean {
  return a.host === b.host && a.pid === b.pid && a.started === b.started;
}

function thisProcess(): Holder {
  return { host: hostname(), pid: process.pid, started: startTimeOf(process.pid) };
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot), or `-` where there is no /proc. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '-';
  } catch {
    return '-';
  }
}

function lockedError(path: string, what: string, holder: Holder): FilesError {
  const where = holder.host === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.host}`;
  return new FilesError('LOCKED', `${what} is in use by ${where} (lock ${path})`, { details: { path } });
}
