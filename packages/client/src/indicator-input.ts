/**
 * A lab's suspect list, from a file in any import format (the caller's `format`, else the one its
 * extension names, else the one its content shows: spec/indicators.md §3.1, indicator-source.ts),
 * canonicalized by @overlap/indicators into distinct values per kind. Rejected records are counted
 * and the first ones kept with their line numbers, so a job can report them; nothing is dropped
 * silently. A file that cannot be read is `ClientError('INPUT_UNREADABLE')`; one that is not
 * records of its format is `IndicatorError('BAD_FILE')` naming the file (and line): the same error,
 * class, code, message and details, whether it was read on this thread or in the worker.
 */
import { Worker } from 'node:worker_threads';
import {
  emptySummary,
  type FormatSource,
  type ImportFormat,
  IndicatorError,
  type IndicatorErrorCode,
  type IndicatorErrorDetails,
  isErrorRecord,
  type NormalizeSummary,
  normalizeRecords,
  type PromptTemplate,
  readRecords,
  TemplateCollector,
} from '@overlap/indicators';
import { ClientError, type ClientErrorCode } from './errors.js';
import { inputSize, namedForFile, openIndicatorSource } from './indicator-source.js';
import { fileStamp, keep, readingKey, take } from './prefetched-files.js';

export interface IndicatorFile {
  /** Distinct canonical values per kind, in first-seen order. */
  sets: Record<string, string[]>;
  /**
   * The line of each value's first record, per kind, in the order of `sets` (as the importers
   * number records: a CSV row's first line, a STIX object's position): where a result comes from,
   * without reading the file again (`sourcesOfReading`).
   */
  lines: Record<string, Float64Array>;
  /**
   * Whether some record carries an `id` or a `label` (a CSV column, a JSON lines field, a STIX
   * object's id and name): they are not kept, so only a second read finds them (`traceResults`).
   */
  identified: boolean;
  /**
   * The lab's prompt templates (kind `prompt_template`), in first-seen order: its prompts collapsed
   * locally (near-duplicates joined: TemplateCollector), each standing for `prompts` of them.
   * `sets.prompt_template` holds their bands, not their texts: those are what the exchange sends,
   * and `templateResults` gathers the results back into these templates.
   */
  templates?: TemplateOfFile[];
  summary: NormalizeSummary;
  /** The first rejected records (at most 20), with where they are. */
  rejected: { line: number; id?: string; code: string; message: string }[];
  /** The format the file was read in. */
  format: ImportFormat;
  /** What chose it: the `format` option, the file's extension, or its content. */
  formatFrom: FormatSource;
  /** Why, for a person: "the first line is a CSV header (kind, value)". */
  formatReason: string;
}

/** A prompt template of a lab's file: its representative prompt and the bands it is sent as. */
export type TemplateOfFile = Omit<PromptTemplate, 'signature'>;

const PROMPT_KIND = 'prompt_template';

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
  /** The line of each value's first record. */
  lines: Float64Array;
}

export type ReaderReply =
  | { ok: true; sets: PackedSet[]; input: Omit<IndicatorFile, 'sets' | 'lines'> }
  | { ok: false; error: { name: string; code?: string; message: string; details?: IndicatorErrorDetails } };

const ISOLATE_FROM_BYTES = 4 * 1024 * 1024;

export async function readIndicatorFile(path: string, options: IndicatorFileOptions = {}): Promise<IndicatorFile> {
  const prefetched = await take<IndicatorFile>(readingKey(path, { ...options }), path);
  if (prefetched !== undefined) return prefetched;
  return readNow(path, options);
}

/**
 * Starts reading `path` now, for the `readIndicatorFile` call with the same path and options that
 * comes later (prefetched-files.ts): a process that knows its input before it may use it (a lab
 * process of `overlap simulate`, before its session exists) reads it meanwhile. Answers the
 * reading too, for a caller that wants the counts at once. A reading nobody takes stays in memory.
 */
export function prefetchIndicatorFile(path: string, options: IndicatorFileOptions = {}): Promise<IndicatorFile> {
  const stamp = fileStamp(path);
  const reading = stamp.then(() => readNow(path, options));
  keep(readingKey(path, { ...options }), stamp, reading);
  return reading;
}

async function readNow(path: string, options: IndicatorFileOptions): Promise<IndicatorFile> {
  const size = await inputSize(path);
  const { isolate, ...rest } = options;
  return (isolate ?? size >= ISOLATE_FROM_BYTES) ? readInWorker(path, rest) : readIndicatorsHere(path, rest);
}

/** readIndicatorFile's work, on the calling thread (the worker's entry calls it too). */
export async function readIndicatorsHere(path: string, options: IndicatorFileOptions): Promise<IndicatorFile> {
  try {
    return await readAll(path, options);
  } catch (error) {
    throw namedForFile(path, error);
  }
}

async function readAll(path: string, options: IndicatorFileOptions): Promise<IndicatorFile> {
  const source = await openIndicatorSource(path, options.format);
  const summary = emptySummary();
  const sets = new Map<string, Set<string>>();
  const rejected: IndicatorFile['rejected'] = [];
  const lines = new Map<string, number[]>();
  let identified = false;
  // Prompts are not values: they are gathered into templates, whose bands are the kind's set.
  let collector: TemplateCollector | undefined;
  // Duplicates are found with the sets below, so the normalizer's own duplicate map (a second copy
  // of every kind and value: ~100 MB for a million indicators) is not built.
  const records = normalizeRecords(
    readRecords(source.format, source.bytes),
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
    if (record.id !== undefined || record.label !== undefined) identified = true;
    if (record.kind === PROMPT_KIND) {
      collector ??= new TemplateCollector();
      collector.add(detached(record.value), record.line, record.id);
      continue;
    }
    let set = sets.get(record.kind);
    if (!set) {
      set = new Set();
      sets.set(record.kind, set);
      lines.set(record.kind, []);
    }
    if (set.has(record.value)) summary.duplicates++;
    else {
      set.add(detached(record.value));
      lines.get(record.kind)?.push(record.line);
    }
  }
  const templates = collector?.templates.map(({ signature: _, ...template }) => template);
  if (templates !== undefined) addTemplateBands(templates, sets, lines);
  return {
    sets: Object.fromEntries([...sets].map(([kind, set]) => [kind, [...set]])),
    lines: Object.fromEntries([...lines].map(([kind, numbers]) => [kind, Float64Array.from(numbers)])),
    identified,
    ...(templates !== undefined && { templates }),
    summary,
    rejected,
    format: source.format,
    formatFrom: source.formatFrom,
    formatReason: source.formatReason,
  };
}

/** The templates' bands as the `prompt_template` set, each with the line of the first template that has it. */
function addTemplateBands(
  templates: TemplateOfFile[],
  sets: Map<string, Set<string>>,
  lines: Map<string, number[]>,
): void {
  const bands = new Set<string>();
  const first: number[] = [];
  for (const template of templates) {
    for (const band of template.bands) {
      if (bands.has(band)) continue;
      bands.add(band);
      first.push(template.line);
    }
  }
  sets.set(PROMPT_KIND, bands);
  lines.set(PROMPT_KIND, first);
}

/**
 * A copy of `value` that holds only its own characters. The normalizer builds canonical values by
 * slicing and joining the input line, and V8 keeps such strings as references to their parts (and
 * so to the line and the file's read buffers): about 120 bytes per kept e-mail instead of about
 * 45. A million values are kept for a whole session, so each distinct one is copied once, here.
 */
export function detached(value: string): string {
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
    const { name, code, message, details } = reply.error;
    // The same error the reading would have thrown on this thread (its class, code, message and details).
    if (name === 'IndicatorError' && code !== undefined)
      throw new IndicatorError(code as IndicatorErrorCode, message, details === undefined ? {} : { details });
    if (name === 'ClientError' && code !== undefined) throw new ClientError(code as ClientErrorCode, message);
    throw Object.assign(new Error(message), { name });
  }
  const sets: Record<string, string[]> = {};
  const lines: Record<string, Float64Array> = {};
  for (const { kind, bytes, ends, lines: first } of reply.sets) {
    lines[kind] = first;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Array<string>(ends.length);
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      values[i] = buffer.toString('utf8', start, ends[i]);
      start = ends[i] as number;
    }
    sets[kind] = values;
  }
  return { sets, lines, ...reply.input };
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
