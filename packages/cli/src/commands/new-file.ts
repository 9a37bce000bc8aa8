/**
 * Writing a file a command creates for the user (a key file, a lab's public identity, a session's
 * transcript): atomically with @overlap/files, never over an existing file, its folder made 0700
 * when it does not exist yet. An existing file is a usage error that names it and leaves it as it
 * was: the user chooses another name or removes the old file, nothing is lost by a typo.
 */
import { lstat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FilesError, makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { CliError } from '../errors.js';

export interface NewFileOptions {
  /** The file's mode (default 0600: private). */
  mode?: number;
  /** What the file is, for errors ("the key file", "the transcript"). */
  what: string;
  /** The flag that named the file, for the "already exists" hint (e.g. `--out`). */
  flag: string;
}

/** Writes `content` to a new file at `path`; refuses, naming the file, when one is already there. */
export async function writeNewFile(path: string, content: string | Uint8Array, options: NewFileOptions): Promise<void> {
  try {
    await makePrivateDirectory(dirname(resolve(path)));
    await writeFileAtomic(path, content, { mode: options.mode ?? 0o600 });
  } catch (cause) {
    throw newFileError(cause, path, options);
  }
}

/** The CLI error for a file that could not be created: EXISTS is a usage error, the rest failures. */
export function newFileError(cause: unknown, path: string, options: Omit<NewFileOptions, 'mode'>): unknown {
  if (!(cause instanceof FilesError)) return cause;
  if (cause.code === 'EXISTS') {
    return new CliError(
      'USAGE',
      `${options.what} ${path} already exists and was not overwritten: give ${options.flag} another file, or remove it first`,
      { cause },
    );
  }
  return new CliError('FAILURE', `${options.what}: ${cause.message}`, { cause });
}

/**
 * Refuses early, before any work (a passphrase typed, a transcript fetched), when `path` is taken.
 * The write itself still refuses to replace a file, so a file that appears in between is safe too.
 */
export async function refuseExisting(path: string, options: Omit<NewFileOptions, 'mode'>): Promise<void> {
  try {
    await lstat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CliError('FAILURE', `${options.what}: cannot look at ${path}: ${(cause as Error).message}`, { cause });
  }
  throw newFileError(new FilesError('EXISTS', `${path} already exists`, { details: { path } }), path, options);
}
