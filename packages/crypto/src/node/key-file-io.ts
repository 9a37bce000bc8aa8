/**
 * Lab key files on disk (spec/ciphersuite.md §7; the format, which is pure, is key-file-format.ts).
 *
 * Writing is @overlap/files' atomic write: a temporary file of mode 0600 (exactly, whatever the
 * umask) in the same directory, flushed, then linked into place (or, with `overwrite`, renamed over
 * the old file) and the directory flushed, so a crash never leaves a half-written key file and
 * nothing else can read it meanwhile.
 * Reading checks and reads one open handle (no check-then-open race), warns (one line) when the
 * file is readable by group or others, and turns every failure (missing, not a regular file, too
 * large, malformed, wrong passphrase) into a `CryptoError` naming the path.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FilesError, writeFileAtomic } from '@overlap/files';
import { CryptoError } from '../errors.js';
import {
  type DecodeKeyFileOptions,
  decodeKeyFile,
  type EncodeKeyFileOptions,
  encodeKeyFile,
} from '../key-file-format.js';
import type { LabKeys } from '../lab-keys.js';

/** A key file is a few hundred bytes; anything far larger is not one. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export interface WriteKeyFileOptions extends EncodeKeyFileOptions {
  /** Replace an existing file; by default an existing file is an error, never clobbered. */
  overwrite?: boolean;
}

export async function writeKeyFile(path: string, keys: LabKeys, options: WriteKeyFileOptions = {}): Promise<void> {
  const text = encodeKeyFile(keys, options);
  try {
    await writeFileAtomic(path, text, { mode: 0o600, replace: options.overwrite === true });
  } catch (cause) {
    if (!(cause instanceof FilesError)) throw cause;
    const reason =
      cause.code === 'EXISTS' ? 'it already exists (refusing to overwrite a key file)' : describeFsError(cause.cause);
    throw new CryptoError('BAD_KEY_FILE', `cannot write key file ${path}: ${reason}`, { cause });
  }
}

export interface ReadKeyFileOptions extends Omit<DecodeKeyFileOptions, 'source'> {
  /** Where the permission warning goes (one line). Default: stderr. */
  warn?: (line: string) => void;
}

export async function readKeyFile(path: string, options: ReadKeyFileOptions = {}): Promise<LabKeys> {
  let text: string;
  try {
    // Checks and read go through one open handle, so the file checked is the file read; O_NONBLOCK
    // keeps a FIFO planted at the path from blocking the open.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      if (info.size > MAX_KEY_FILE_BYTES) {
        throw new CryptoError('BAD_KEY_FILE', `key file ${path} is ${info.size} bytes: too large to be a key file`);
      }
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
        const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
        warn(`overlap: warning: key file ${path} is readable by others (mode ${mode}); run: chmod 600 ${path}`);
      }
      const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_KEY_FILE_BYTES) {
        throw new CryptoError('BAD_KEY_FILE', `key file ${path} grew while being read: too large to be a key file`);
      }
      text = buffer.toString('utf8', 0, bytesRead);
      buffer.fill(0);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError('BAD_KEY_FILE', `cannot read key file ${path}: ${describeFsError(cause)}`, { cause });
  }
  const decodeOptions: DecodeKeyFileOptions = { source: `key file ${path}` };
  if (options.passphrase !== undefined) decodeOptions.passphrase = options.passphrase;
  return decodeKeyFile(text, decodeOptions);
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR' || code === 'ENOTFILE') return 'not a regular file';
  return error instanceof Error ? error.message : String(error);
}
