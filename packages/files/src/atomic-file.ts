/**
 * Atomic, durable, private file writes: the one way Overlap writes a file that someone relies on
 * later (key files, a lab's session state, the relay's blobs, results and transcripts).
 *
 *   1. the content goes to a new temporary file in the target's directory (`.<name>.<random>.tmp`,
 *      created exclusively, so nothing planted at that name is followed or reused), whose mode is
 *      then set exactly (0600 unless asked otherwise), whatever the process's umask;
 *   2. the file is flushed to disk (fsync);
 *   3. it takes the target's name: linked in place, so that an existing file is an `EXISTS` error
 *      and stays as it was, or, with `replace`, renamed over it;
 *   4. the directory is flushed too, so that the name itself survives a crash, unless the caller
 *      flushes it later, once for many files (`syncDirectory: false`: the relay's group commit).
 * A crash at any point leaves the previous file (or none) and at most a stray temporary file, never
 * half a file; a write that fails removes its temporary file.
 *
 * Threats: a file holding a key, a lab's secret order or blinded tags that another local user can
 * read (under a umask of 022 a plain writeFile makes it 0644); a half-written file, after a crash,
 * that is then trusted; a name planted by someone else that a fixed temporary name would follow.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory, toFilesError } from './directory.js';
import { FilesError } from './errors.js';

/** A file's content: bytes, text (UTF-8), or pieces of either, written in order as they come. */
export type FileContent = string | Uint8Array | Iterable<string | Uint8Array>;

export interface WriteFileOptions {
  /** The file's mode, set exactly whatever the umask. Default 0o600. */
  mode?: number;
  /** Replace an existing file. By default an existing file is an `EXISTS` error and is left as it was. */
  replace?: boolean;
  /**
   * Flush the directory after the file takes its name (default true). `false` leaves that to the
   * caller, who then calls `syncDirectory` before relying on the file.
   */
  syncDirectory?: boolean;
}

/** Text is gathered up to this many characters, then encoded into one reused buffer. */
const PIECE_CHARS = 1 << 18;
const BUFFER_BYTES = 1 << 20;

export async function writeFileAtomic(
  path: string,
  content: FileContent,
  options: WriteFileOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.chmod(mode);
      await writePieces(handle, typeof content === 'string' || content instanceof Uint8Array ? [content] : content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace === true) {
      await rename(temporary, path);
    } else {
      await link(temporary, path);
      await unlink(temporary);
    }
  } catch (error) {
    await unlink(temporary).catch(() => {});
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (error as NodeJS.ErrnoException).syscall === 'link') {
      throw new FilesError('EXISTS', `${path} already exists (not replaced)`, {
        cause: error,
        details: { path, errno: 'EEXIST' },
      });
    }
    throw toFilesError(error, path, `cannot write ${path}`);
  }
  if (options.syncDirectory !== false) await syncDirectory(directory);
}

/**
 * Bytes are written as they are; text goes through one reused 1 MiB buffer, because handing the
 * file system a string per piece makes a new buffer per write, and up to 64 MB of spent ones wait
 * for V8's next full collection. The buffer is zeroed at the end: the text may be a key file.
 */
async function writePieces(handle: FileHandle, pieces: Iterable<string | Uint8Array>): Promise<void> {
  let buffer: Buffer | undefined;
  const writeAll = async (bytes: Uint8Array, length: number): Promise<void> => {
    for (let at = 0; at < length; ) at += (await handle.write(bytes, at, length - at)).bytesWritten;
  };
  const flush = async (text: string): Promise<void> => {
    if (text === '') return;
    if (Buffer.byteLength(text) > BUFFER_BYTES) {
      const bytes = Buffer.from(text);
      await writeAll(bytes, bytes.length);
      return;
    }
    buffer ??= Buffer.allocUnsafe(BUFFER_BYTES);
    await writeAll(buffer, buffer.write(text));
  };
  try {
    let gathered: string[] = [];
    let length = 0;
    for (const piece of pieces) {
      if (piece instanceof Uint8Array) {
        await flush(gathered.join(''));
        gathered = [];
        length = 0;
        await writeAll(piece, piece.length);
        continue;
      }
      gathered.push(piece);
      length += piece.length;
      if (length >= PIECE_CHARS) {
        await flush(gathered.join(''));
        gathered = [];
        length = 0;
      }
    }
    await flush(gathered.join(''));
  } finally {
    buffer?.fill(0);
  }
}
