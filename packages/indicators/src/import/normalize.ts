/**
 * Turns raw records into canonical ones, in input order, one output per input record: accepted
 * (kind and canonical value; a repeat of an earlier kind and value is still accepted, marked
 * `duplicateOf` the first line) or rejected (an error code and message). Counts go to `summary`.
 *
 * Duplicates are found exactly, with a map from kind and value to first line: memory grows with the
 * number of distinct values (about 100 bytes each), never with the size of the input, which is read
 * as a stream. `dedupe: false` turns that map off for inputs with hundreds of millions of values.
 */
import { IndicatorError } from '../errors.js';
import type { CanonicalizeOptions } from '../kind.js';
import { getIndicatorKind } from '../kinds.js';
import { isErrorRecord, type NormalizedRecord, type RawRecord } from './record.js';

export interface NormalizeOptions {
  /** Kind for records that name none (plain lines, CSV without a kind column). */
  kind?: string;
  /** Region for phone numbers whose record names none. */
  region?: string;
  /** Find duplicates (default true). */
  dedupe?: boolean;
}

export interface NormalizeSummary {
  records: number;
  accepted: number;
  /** Accepted records that repeat an earlier kind and value (counted in `accepted` too). */
  duplicates: number;
  rejected: number;
  /** Rejections by error code. */
  rejectedBy: Record<string, number>;
}

export function emptySummary(): NormalizeSummary {
  return { records: 0, accepted: 0, duplicates: 0, rejected: 0, rejectedBy: {} };
}

export async function* normalizeRecords(
  records: AsyncIterable<RawRecord>,
  options: NormalizeOptions = {},
  summary: NormalizeSummary = emptySummary(),
): AsyncGenerator<NormalizedRecord> {
  const firstLine = options.dedupe === false ? undefined : new Map<string, number>();
  for await (const record of records) {
    summary.records++;
    const out = normalizeOne(record, options);
    if (isErrorRecord(out)) {
      summary.rejected++;
      summary.rejectedBy[out.error.code] = (summary.rejectedBy[out.error.code] ?? 0) + 1;
    } else {
      summary.accepted++;
      if (firstLine) {
        const key = `${out.kind}\u0000${out.value}`;
        const first = firstLine.get(key);
        if (first === undefined) firstLine.set(key, out.line);
        else {
          out.duplicateOf = first;
          summary.duplicates++;
        }
      }
    }
    yield out;
  }
}

function normalizeOne(record: RawRecord, options: NormalizeOptions): NormalizedRecord {
  if (isErrorRecord(record)) return record;
  const origin = record.id === undefined ? { line: record.line } : { line: record.line, id: record.id };
  const kindName = record.kind ?? options.kind;
  if (kindName === undefined || kindName === '') {
    return {
      ...origin,
      error: { code: 'MISSING_FIELD', message: `line ${record.line} names no kind (use a kind column or --kind)` },
    };
  }
  try {
    const kind = getIndicatorKind(kindName);
    const canonicalizeOptions: CanonicalizeOptions = {};
    const region = record.region ?? options.region;
    if (region !== undefined) canonicalizeOptions.region = region;
    const value = kind.canonicalize(record.value, canonicalizeOptions);
    // Built whole, not spread from `origin`: a literal of the record's final shape, made at once,
    // instead of a copy that gains fields one by one (a million-record file makes a million).
    const accepted: NormalizedRecord =
      record.id === undefined
        ? { line: record.line, kind: kind.name, value }
        : { line: record.line, id: record.id, kind: kind.name, value };
    if (record.firstSeen !== undefined) accepted.firstSeen = record.firstSeen;
    if (record.confidence !== undefined) accepted.confidence = record.confidence;
    if (record.label !== undefined) accepted.label = record.label;
    return accepted;
  } catch (error) {
    if (error instanceof IndicatorError) return { ...origin, error: { code: error.code, message: error.message } };
    throw error;
  }
}
