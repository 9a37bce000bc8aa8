/**
 * Files the CLI writes for others to read (results, transcripts): written to a temporary name,
 * synced and renamed, so a process that dies mid-way leaves the previous file or none, never half
 * of one; a failed write removes the temporary file.
 */
import { open, rename, rm } from 'node:fs/promises';

const PIECE_CHARS = 1 << 18;

/**
 * Writes `pieces` (text, or bytes written as they are) to `path` with `mode`. Text goes through one
 * reused 1 MiB buffer: handing the file strings would make a new buffer per write, and up to
 * 64 MB of spent ones wait for V8's next full collection.
 */
export async function writeFileAtomic(
  path: string,
  mode: number,
  pieces: () => Iterable<string | Uint8Array>,
): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', mode);
  const buffer = Buffer.allocUnsafe(1 << 20);
  const writeAll = async (bytes: Uint8Array, length: number): Promise<void> => {
    for (let at = 0; at < length; ) at += (await handle.write(bytes, at, length - at)).bytesWritten;
  };
  const flush = async (text: string): Promise<void> => {
    if (Buffer.byteLength(text) > buffer.length) await writeAll(Buffer.from(text), Buffer.byteLength(text));
    else await writeAll(buffer, buffer.write(text));
  };
  try {
    let buffered: string[] = [];
    let length = 0;
    for (const piece of pieces()) {
      if (piece instanceof Uint8Array) {
        await flush(buffered.join(''));
        buffered = [];
        length = 0;
        await writeAll(piece, piece.length);
        continue;
      }
      buffered.push(piece);
      length += piece.length;
      if (length >= PIECE_CHARS) {
        await flush(buffered.join(''));
        buffered = [];
        length = 0;
      }
    }
    await flush(buffered.join(''));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}
