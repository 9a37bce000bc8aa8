/**
 * Results traced back to the lab's own records (spec/indicators.md §3.2). When the records carry
 * no ids or labels, the line of each value's first record is known from the reading the session
 * used (`sourcesOfReading`, in the results' order). Otherwise, after a session, the input file is read a second time, streaming, in the same format and with the same `kind` and
 * `region`, and each result (a kind and canonical value) gets the first record that gives it —
 * its line, and its own `id` and `label` when the format carries them — so an engineer can find
 * the account in their own systems.
 *
 * Memory: only the results are held (a map from each result's kind and value to where it was
 * found), never the input's records: a lab with 1,000,000 records and few results holds little
 * more than its results. Reading stops as soon as every result is found.
 */
import {
  type FormatSource,
  type ImportFormat,
  isErrorRecord,
  normalizeRecords,
  readRecords,
} from '@overlap/indicators';
import { detached, type IndicatorFile, type IndicatorFileOptions } from './indicator-input.js';
import { inputSize, namedForFile, openIndicatorSource } from './indicator-source.js';

/** Where a result's first record is in the lab's input. */
export interface RecordSource {
  /** As the importers number records: the line (a CSV row's first line; a STIX object's position). */
  line: number;
  /** The record's own id: a CSV `id` column, a JSONL `id` field, a STIX object's id. */
  id?: string;
  /** The record's label: a CSV `label` column, a JSONL `label` field, a STIX indicator's name. */
  label?: string;
}

/** Where each result is, by kind and canonical value. */
export type ResultSources = ReadonlyMap<string, ReadonlyMap<string, RecordSource>>;

export interface ResultTrace {
  /** kind → canonical value → its first record, for every result found. */
  sources: ResultSources;
  /** How many results were found. */
  found: number;
  /**
   * The results no record of the file gives (the file changed since the session, or other
   * options were given): the first 20 of them, with `missingCount` saying how many in all.
   */
  missing: { kind: string; value: string }[];
  missingCount: number;
  format: ImportFormat;
  formatFrom: FormatSource;
  formatReason: string;
}

export type TraceOptions = Omit<IndicatorFileOptions, 'isolate'>;

const MISSING_KEPT = 20;

/** Where each result's first record is, from the reading itself (sourcesOfReading). */
export interface ReadingSources {
  /** The line of each result's first record, at the result's index; 0: not in the reading. */
  lines: Float64Array;
  found: number;
  /** The first 20 results the reading does not hold, with `missingCount` saying how many in all. */
  missing: { kind: string; value: string }[];
  missingCount: number;
}

/**
 * Where each result's first record is, from the reading the session used (IndicatorFile.lines),
 * without reading the file again: nothing is parsed, and no map of the results is kept (the
 * lines are a typed array in the results' order), so that little is left for the collector just
 * as a lab writes its results. Undefined when the file's records carry ids or labels
 * (`input.identified`): those are not kept, and `traceResults` finds them. Call it while
 * `input.sets` still holds the values.
 */
export function sourcesOfReading(
  input: IndicatorFile,
  results: readonly { kind: string; value: string }[],
): ReadingSources | undefined {
  if (input.identified) return undefined;
  const lines = new Float64Array(results.length);
  // Each kind's results by value (their first index): dropped once the lines are found.
  const wanted = new Map<string, Map<string, number>>();
  results.forEach(({ kind, value }, i) => {
    let byValue = wanted.get(kind);
    if (!byValue) {
      byValue = new Map();
      wanted.set(kind, byValue);
    }
    if (!byValue.has(value)) byValue.set(value, i);
  });
  for (const [kind, byValue] of wanted) {
    // A template's result is its text (templateResults): found among the templates, not the bands.
    const templates = kind === 'prompt_template' ? input.templates : undefined;
    const values = templates?.map((t) => t.text) ?? input.sets[kind] ?? [];
    const first = templates === undefined ? input.lines[kind] : Float64Array.from(templates, (t) => t.line);
    for (let i = 0; i < values.length && first !== undefined; i++) {
      const at = byValue.get(values[i] as string);
      if (at !== undefined) lines[at] = first[i] as number;
    }
  }
  let found = 0;
  const missing: ReadingSources['missing'] = [];
  results.forEach(({ kind, value }, i) => {
    // A result listed twice has the line of its first listing.
    if (lines[i] === 0) lines[i] = lines[wanted.get(kind)?.get(value) as number] as number;
    if (lines[i] !== 0) found++;
    else if (missing.length < MISSING_KEPT) missing.push({ kind, value });
  });
  return { lines, found, missing, missingCount: results.length - found };
}

/**
 * Reads `path` again and finds where each of `results` came from. Pass the options the file was
 * read with (readIndicatorFile's `kind`, `region`, `format`), so that its records canonicalize to
 * the same values. Errors as readIndicatorFile's: `INPUT_UNREADABLE`, or `BAD_FILE` naming the file.
 */
export async function traceResults(
  path: string,
  results: Iterable<{ kind: string; value: string }>,
  options: TraceOptions = {},
): Promise<ResultTrace> {
  await inputSize(path); // a directory or a missing file fails here, as it does for readIndicatorFile
  try {
    return await trace(path, results, options);
  } catch (error) {
    throw namedForFile(path, error);
  }
}

async function trace(
  path: string,
  results: Iterable<{ kind: string; value: string }>,
  options: TraceOptions,
): Promise<ResultTrace> {
  // Every result, not yet found (undefined) or found.
  const wanted = new Map<string, Map<string, RecordSource | undefined>>();
  let remaining = 0;
  for (const { kind, value } of results) {
    let byValue = wanted.get(kind);
    if (!byValue) {
      byValue = new Map();
      wanted.set(kind, byValue);
    }
    if (!byValue.has(value)) {
      byValue.set(value, undefined);
      remaining++;
    }
  }
  const total = remaining;
  const source = await openIndicatorSource(path, options.format);
  const records = normalizeRecords(readRecords(source.format, source.bytes), {
    ...(options.kind !== undefined && { kind: options.kind }),
    ...(options.region !== undefined && { region: options.region }),
    dedupe: false,
  });
  try {
    if (remaining > 0) {
      for await (const record of records) {
        if (isErrorRecord(record)) continue;
        const byValue = wanted.get(record.kind);
        if (byValue === undefined || !byValue.has(record.value) || byValue.get(record.value) !== undefined) continue;
        // Copied: a slice would keep the whole input line (and its read buffer) alive.
        byValue.set(record.value, {
          line: record.line,
          ...(record.id !== undefined && { id: detached(record.id) }),
          ...(record.label !== undefined && { label: detached(record.label) }),
        });
        if (--remaining === 0) break; // every result found: the rest of the file is not read
      }
    }
  } finally {
    source.close();
  }
  const sources = new Map<string, Map<string, RecordSource>>();
  const missing: ResultTrace['missing'] = [];
  for (const [kind, byValue] of wanted) {
    const found = new Map<string, RecordSource>();
    for (const [value, where] of byValue) {
      if (where !== undefined) found.set(value, where);
      else if (missing.length < MISSING_KEPT) missing.push({ kind, value });
    }
    if (found.size > 0) sources.set(kind, found);
  }
  return {
    sources,
    found: total - remaining,
    missing,
    missingCount: remaining,
    format: source.format,
    formatFrom: source.formatFrom,
    formatReason: source.formatReason,
  };
}
