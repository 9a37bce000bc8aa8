/**
 * A lab's results as `session run` writes them: the JSON lines file and the session's result
 * document (which `overlap results` reads), each written a piece at a time to a temporary file,
 * synced and renamed. A million shared indicators are never one string in memory, and a process
 * that dies mid-way leaves the previous file or none, not half of one.
 */
import { open, rename, rm } from 'node:fs/promises';
import { resultJsonLine, type SessionResults } from './results-format.js';

/** Writes `doc.results` (already sorted, as the SDK answers them) as JSON lines to `path`. */
export async function writeResultsJsonl(path: string, doc: SessionResults): Promise<void> {
  await writePieces(path, function* () {
    for (const result of doc.results) yield resultJsonLine(doc.policy, result);
  });
}

/** Writes `doc` as one JSON document, one result per line. */
export async function writeResultsDocument(path: string, doc: SessionResults): Promise<void> {
  const { results, ...head } = doc;
  await writePieces(path, function* () {
    const opening = JSON.stringify(head);
    yield `${opening.slice(0, -1)},"results":[`;
    for (const [i, result] of results.entries()) yield `${i === 0 ? '\n' : ',\n'}${JSON.stringify(result)}`;
    yield '\n]}\n';
  });
}

const PIECE_CHARS = 1 << 18;

/**
 * Writes the pieces through one reused 1 MiB buffer: handing the file strings would make a new
 * buffer per write, and up to 64 MB of spent ones wait for V8's next full collection.
 */
async function writePieces(path: string, pieces: () => Iterable<string>): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  const buffer = Buffer.allocUnsafe(1 << 20);
  const flush = async (text: string): Promise<void> => {
    const bytes = Buffer.byteLength(text) > buffer.length ? Buffer.from(text) : buffer;
    const length = bytes === buffer ? buffer.write(text) : bytes.length;
    for (let at = 0; at < length; ) at += (await handle.write(bytes, at, length - at)).bytesWritten;
  };
  try {
    let buffered: string[] = [];
    let length = 0;
    for (const piece of pieces()) {
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
