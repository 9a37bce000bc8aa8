/**
 * A lab's session results written for people and tools: CSV (RFC 4180), JSON Lines, or a STIX 2.1
 * bundle (results-stix.ts) that OpenCTI or MISP can import. Pure: no I/O and no clock, so writing
 * the same results twice gives the same bytes. `overlap results` and `overlap session run` write
 * these; an SDK user calls `formatResults` on a `SessionResults` document built from a
 * `SessionOutcome` (its `results` are the outcome's `SharedIndicator`s).
 *
 * The policies and what they reveal are spec/protocol.md §5: `labs` names the other labs holding
 * an item, `count` says how many, `threshold` t says only that at least t labs hold it.
 *
 * Threat: the names in `labs` come from other labs through the relay, and the values come from
 * suspects' data, so both are attacker-controlled text. CSV cells are quoted and guarded against
 * formula injection (analysts open these files in spreadsheets, which run a cell starting with `=`);
 * STIX pattern strings are escaped so a value cannot end its string and add comparisons.
 */
import type { RevealPolicy } from '@overlap/protocol';
import { ClientError } from './errors.js';
import { type CheckedResult, type SessionResults, show, validateResults } from './results-document.js';
import { stixBundle } from './results-stix.js';

export const RESULT_FORMATS = ['csv', 'jsonl', 'stix'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export interface FormatResultsOptions {
  /**
   * Accepted so the command can pass its clock like everywhere else, but not read: every timestamp
   * written is `finished`, so the output depends on the document alone.
   */
  now?: Date;
  /** Mixed into every STIX id: two exports of one session with different seeds get different ids. */
  idSeed?: string;
}

/** The results of `doc` in `format`; `ClientError('BAD_RESULTS')` listing every problem with the document. */
export function formatResults(doc: SessionResults, format: ResultFormat, options: FormatResultsOptions = {}): string {
  if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
    throw new ClientError(
      'BAD_ARGUMENT',
      `unknown results format ${show(format)}; use one of ${RESULT_FORMATS.join(', ')}`,
    );
  }
  const results = validateResults(doc);
  if (format === 'jsonl') return results.map((r) => resultJsonLine(doc.policy, r)).join('');
  if (format === 'csv') return csvTable(results);
  return stixBundle(doc, results, options.idSeed ?? '');
}

/** One result as a line of the JSON lines format (what the policy reveals, nothing else). */
export function resultJsonLine(
  policy: RevealPolicy,
  r: { kind: string; value: string; labs?: string[]; count?: number | undefined },
): string {
  if (policy.kind === 'labs') return `${JSON.stringify({ kind: r.kind, value: r.value, labs: r.labs ?? [] })}\n`;
  if (policy.kind === 'count') return `${JSON.stringify({ kind: r.kind, value: r.value, count: r.count })}\n`;
  return `${JSON.stringify({ kind: r.kind, value: r.value })}\n`;
}

function csvTable(results: CheckedResult[]): string {
  const rows = [['kind', 'value', 'labs', 'count']];
  for (const r of results) rows.push([r.kind, r.value, r.labs.join(';'), r.count === undefined ? '' : String(r.count)]);
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

/**
 * One CSV cell. A cell starting with `=`, `+`, `-`, `@`, tab or CR is a formula to Excel, LibreOffice
 * and Google Sheets (OWASP "CSV Injection"), and analysts open these files in spreadsheets, so such
 * a cell gets a leading `'`, which spreadsheets read as "text" and hide. The cost: every phone
 * number (`+1…`) is written `'+1…`, which a program reading the file must strip. Then RFC 4180 §2:
 * a cell holding a comma, a quote, CR or LF is quoted, with quotes doubled.
 */
export function csvField(text: string): string {
  const guarded = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}
