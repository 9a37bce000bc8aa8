/**
 * Worker thread entry of readIndicatorFile for large files: reads and canonicalizes the file in
 * this thread's own V8 heap, then hands each kind's distinct values back packed as UTF-8 bytes
 * and end offsets, with the line of each one's first record (transferred, not copied). Everything parsing left behind dies with this
 * isolate instead of waiting in the lab's heap for a full collection (~100 MB for a million
 * records).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IndicatorErrorDetails } from '@overlap/indicators';
import { type IndicatorFileOptions, type PackedSet, type ReaderReply, readIndicatorsHere } from './indicator-input.js';

const { path, options } = workerData as { path: string; options: IndicatorFileOptions };
try {
  const { sets, lines, ...input } = await readIndicatorsHere(path, options);
  const packed: PackedSet[] = Object.entries(sets).map(([kind, values]) => {
    const ends = new Uint32Array(values.length);
    let length = 0;
    values.forEach((value, i) => {
      length += Buffer.byteLength(value, 'utf8');
      ends[i] = length;
    });
    const bytes = Buffer.allocUnsafeSlow(length);
    let at = 0;
    for (const value of values) at += bytes.write(value, at, 'utf8');
    const first = lines[kind] as Float64Array;
    return { kind, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), ends, lines: first };
  });
  const reply: ReaderReply = { ok: true, sets: packed, input };
  parentPort?.postMessage(
    reply,
    packed.flatMap(({ bytes, ends, lines: first }) => [
      bytes.buffer as ArrayBuffer,
      ends.buffer as ArrayBuffer,
      first.buffer as ArrayBuffer,
    ]),
  );
} catch (error) {
  // Everything the calling thread needs to throw the same error: class name, code, message and the
  // details of an IndicatorError (plain data: the file, line and byte of a file-level error).
  const e = error as { name?: string; code?: string; message?: string; details?: unknown };
  const reply: ReaderReply = {
    ok: false,
    error: {
      name: e.name ?? 'Error',
      ...(typeof e.code === 'string' && { code: e.code }),
      message: String(e.message),
      ...(e.name === 'IndicatorError' && e.details !== undefined && { details: e.details as IndicatorErrorDetails }),
    },
  };
  parentPort?.postMessage(reply);
}
