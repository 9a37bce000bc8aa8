/**
 * A lab's suspect list, from a file in any import format (chosen by extension: .csv, .jsonl,
 * .json for a STIX 2.1 bundle, anything else one value per line with `kind`), canonicalized by
 * @overlap/indicators into distinct values per kind. Rejected records are counted and the first
 * ones kept with their line numbers, so a job can report them; nothing is dropped silently.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import {
  emptySummary,
  formatFromPath,
  type ImportFormat,
  IndicatorError,
  type IndicatorErrorCode,
  isErrorRecord,
  type NormalizeSummary,
  normalizeRecords,
  readRecords,
} from '@overlap/indicators';
import { ClientError, type ClientErrorCode } from './errors.js';

export interface IndicatorFile {
  /** Distinct canonical values per kind, in first-seen order. */
  sets: Record<string, string[]>;
  summary: NormalizeSummary;
  /** The first rejected records (at most 20), with where they are. */
  rejected: { line: number; id?: string; code: string; message: string }[];
  format: ImportFormat;
}

export interface IndicatorFileOptions {
  /** Kind for records that name none (plain lines, CSV without a kind column). */
  kind?: string;
  /** Region for phone numbers without a country code. */
  region?: string;
  format?: ImportFormat;
  /**
   * Read in a worker thread (default: for files of 4 MiB or more). Parsing a large file leaves
   * ~100 bytes of garbage per record in the heap that reads it; in a worker it goes with the
   * worker, and this thread receives only the distinct values.
   */
  isolate?: boolean;
}

/** What the reader worker (indicator-reader-worker.ts) sends back. */
export interface PackedSet {
  kind: string;
  bytes: Uint8Array;
  /** End offset in `bytes` of each value, in order. */
  ends: Uint32Array;
}

export type ReaderReply =
  | { ok: true; sets: PackedSet[]; input: Omit<IndicatorFile, 'sets'> }
  | { ok: false; error: { name: string; code?: string; message: string } };

const ISOLATE_FROM_BYTES = 4 * 1024 * 1024;

export async function readIndicatorFile(path: string, options: IndicatorFileOptions = {}): Promise<IndicatorFile> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', `cannot read the indicator file ${path}`, { cause });
  }
  const { isolate, ...rest } = options;
  return (isolate ?? size >= ISOLATE_FROM_BYTES) ? readInWorker(path, rest) : readIndicatorsHere(path, rest);
}

/** readIndicatorFile's work, on the calling thread (the worker's entry calls it too). */
export async function readIndicatorsHere(path: string, options: IndicatorFileOptions): Promise<IndicatorFile> {
  const format = options.format ?? formatFromPath(path);
  const summary = emptySummary();
  const sets = new Map<string, Set<string>>();
  const rejected: IndicatorFile['rejected'] = [];
  // Duplicates are found with the sets below, so the normalizer's own duplicate map (a second copy
  // of every kind and value: ~100 MB for a million indicators) is not built.
  const records = normalizeRecords(
    readRecords(format, createReadStream(path)),
    {
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.region !== undefined && { region: options.region }),
      dedupe: false,
    },
    summary,
  );
  for await (const record of records) {
    if (isErrorRecord(record)) {
      if (rejected.length < 20) {
        rejected.push({
          line: record.line,
          ...(record.id !== undefined && { id: record.id }),
          code: record.error.code,
          message: record.error.message,
        });
      }
      continue;
    }
    let set = sets.get(record.kind);
    if (!set) {
      set = new Set();
      sets.set(record.kind, set);
    }
    if (set.has(record.value)) summary.duplicates++;
    else set.add(detached(record.value));
  }
  return { sets: Object.fromEntries([...sets].map(([kind, set]) => [kind, [...set]])), summary, rejected, format };
}

/**
 * A copy of `value` that holds only its own characters. The normalizer builds canonical values by
 * slicing and joining the input line, and V8 keeps such strings as references to their parts (and
 * so to the line and the file's read buffers): about 120 bytes per kept e-mail instead of about
 * 45. A million values are kept for a whole session, so each distinct one is copied once, here.
 */
function detached(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

async function readInWorker(path: string, options: IndicatorFileOptions): Promise<IndicatorFile> {
  const worker = startReader({ path, options });
  const reply = await new Promise<ReaderReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new ClientError('BAD_ARGUMENT', `the reader of ${path} exited (${code})`)));
  }).finally(() => void worker.terminate());
  if (!reply.ok) {
    const { name, code, message } = reply.error;
    // The same error the reading would have thrown on this thread (its class, code and message).
    if (name === 'IndicatorError' && code !== undefined) throw new IndicatorError(code as IndicatorErrorCode, message);
    if (name === 'ClientError' && code !== undefined) throw new ClientError(code as ClientErrorCode, message);
    throw Object.assign(new Error(message), { name });
  }
  const sets: Record<string, string[]> = {};
  for (const { kind, bytes, ends } of reply.sets) {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Array<string>(ends.length);
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      values[i] = buffer.toString('utf8', start, ends[i]);
      start = ends[i] as number;
    }
    sets[kind] = values;
  }
  return { sets, ...reply.input };
}

/** The reader worker: the built `.js` entry, or in a source checkout the `.ts` one through tsx. */
function startReader(workerData: { path: string; options: IndicatorFileOptions }): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./indicator-reader-worker.js', import.meta.url), { workerData });
  const entry = new URL('./indicator-reader-worker.ts', import.meta.url).href;
  const loader = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
