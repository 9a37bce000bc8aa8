/**
 * A lab's suspect list, from a file in any import format (chosen by extension: .csv, .jsonl,
 * .json for a STIX 2.1 bundle, anything else one value per line with `kind`), canonicalized by
 * @overlap/indicators into distinct values per kind. Rejected records are counted and the first
 * ones kept with their line numbers, so a job can report them; nothing is dropped silently.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import {
  emptySummary,
  formatFromPath,
  type ImportFormat,
  isErrorRecord,
  type NormalizeSummary,
  normalizeRecords,
  readRecords,
} from '@overlap/indicators';
import { ClientError } from './errors.js';

export interface IndicatorInput {
  /** Distinct canonical values per kind, in first-seen order. */
  sets: Record<string, string[]>;
  summary: NormalizeSummary;
  /** The first rejected records (at most 20), with where they are. */
  rejected: { line: number; id?: string; code: string; message: string }[];
  format: ImportFormat;
}

export interface IndicatorInputOptions {
  /** Kind for records that name none (plain lines, CSV without a kind column). */
  kind?: string;
  /** Region for phone numbers without a country code. */
  region?: string;
  format?: ImportFormat;
}

export async function readIndicatorFile(path: string, options: IndicatorInputOptions = {}): Promise<IndicatorInput> {
  try {
    await access(path);
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', `cannot read the indicator file ${path}`, { cause });
  }
  const format = options.format ?? formatFromPath(path);
  const summary = emptySummary();
  const sets = new Map<string, Set<string>>();
  const rejected: IndicatorInput['rejected'] = [];
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
