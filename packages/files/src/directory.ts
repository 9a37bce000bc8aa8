/**
 * Directories for private files: created 0700 level by level (set exactly, whatever the umask, and
 * each new name flushed in its parent), and flushed themselves so that the names of files renamed
 * or linked into them survive a crash (POSIX makes a rename durable only once its directory is).
 *
 * Threat: a lab's session state or the relay's blobs in a folder that other local users can list
 * and read; a folder that a crash forgets, with the files that were linked into it.
 */
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FilesError } from './errors.js';

/**
 * errno codes meaning that this file system or platform cannot flush a directory at all (as opposed
 * to a flush that failed): the write stands, as durable as the platform makes it.
 */
const CANNOT_SYNC_DIRECTORIES = new Set(['EACCES', 'EPERM', 'EINVAL', 'ENOTSUP', 'EISDIR']);

/** Flushes a directory, so that the renames and links into it are durable. */
export async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for flushing there
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (CANNOT_SYNC_DIRECTORIES.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw toFilesError(error, directory, `cannot flush the directory ${directory}`);
  }
}

/**
 * Makes `path` and every missing parent a directory of mode 0700 (set exactly), flushing the parent
 * of each one it creates. A directory that already exists is left as it is (it may be the user's own).
 */
export async function makePrivateDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    const kind = await kindOf(at);
    if (kind === 'directory') break;
    if (kind === 'other') {
      throw new FilesError('WRITE_FAILED', `cannot make the directory ${path}: ${at} is not a directory`, {
        details: { path: at, errno: 'ENOTDIR' },
      });
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const directory of missing) {
    try {
      await mkdir(directory, 0o700);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await kindOf(directory)) === 'directory') continue;
      throw toFilesError(error, directory, `cannot make the directory ${directory}`);
    }
    try {
      await chmod(directory, 0o700);
    } catch (error) {
      throw toFilesError(error, directory, `cannot make the directory ${directory} private`);
    }
    await syncDirectory(dirname(directory));
  }
}

async function kindOf(path: string): Promise<'directory' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw toFilesError(error, path, `cannot look at ${path}`);
  }
}

/**
 * A failure of the file system as a `WRITE_FAILED` naming the path and the errno code. Anything
 * else (an error thrown by the caller's content, a FilesError already) passes through unchanged.
 */
export function toFilesError(error: unknown, path: string, doing: string): unknown {
  // A system error of Node's carries the failed call's name; other errors with a `code` do not.
  const { code: errno, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (!(error instanceof Error) || typeof errno !== 'string' || typeof syscall !== 'string') return error;
  return new FilesError('WRITE_FAILED', `${doing}: ${describeErrno(errno, error)}`, {
    cause: error,
    details: { path, errno },
  });
}

function describeErrno(errno: string, error: Error): string {
  if (errno === 'ENOENT') return 'no such file or directory';
  if (errno === 'EACCES' || errno === 'EPERM') return 'permission denied';
  if (errno === 'ENOSPC') return 'no space left on the device';
  if (errno === 'EISDIR') return 'it is a directory';
  if (errno === 'ENOTDIR') return 'a part of the path is not a directory';
  return error.message;
}
