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
 * With `sources` (traceResults), each result also carries where its first record is in the lab's
 * own input: CSV columns and JSON fields `line`, `id`, `label`, and in STIX an external reference.
 *
 * Threat: the names in `labs` come from other labs through the relay, and the values come from
 * suspects' data, so both are attacker-controlled text. CSV cells are quoted, and by default
 * guarded against formula injection (analysts open these files in spreadsheets, which run a cell
 * starting with `=`); JSON lines and STIX are data formats that nothing evaluates, and are never
 * guarded. STIX pattern strings are escaped so a value cannot end its string and add comparisons.
 */
import type { RevealPolicy } from '@overlap/protocol';
import { ClientError } from './errors.js';
import type { TemplateMatch } from './overlap-client.js';
import type { RecordSource, ResultSources } from './result-trace.js';
import { type CheckedResult, type SessionResults, show, validateResults } from './results-document.js';
import { stixBundle } from './results-stix.js';

export const RESULT_FORMATS = ['csv', 'jsonl', 'stix'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/**
 * What CSV cells are guarded against: `formulas` (the default, for files people open in a
 * spreadsheet) prefixes `'` to a cell a spreadsheet would run as a formula; `none` (for programs,
 * such as a SIEM joining on the values) writes every cell as it is.
 */
export const CSV_GUARDS = ['formulas', 'none'] as const;
export type CsvGuard = (typeof CSV_GUARDS)[number];

export interface FormatResultsOptions {
  /**
   * Accepted so the command can pass its clock like everywhere else, but not read: every timestamp
   * written is `finished`, so the output depends on the document alone.
   */
  now?: Date;
  /** Mixed into every STIX id: two exports of one session with different seeds get different ids. */
  idSeed?: string;
  /** CSV only (JSON lines and STIX are never guarded): `formulas` by default, or `none`. */
  csvGuard?: CsvGuard;
  /** Where each result's first record is in the lab's input (`traceResults(…).sources`). */
  sources?: ResultSources;
}

/** The results of `doc` in `format`; `ClientError('BAD_RESULTS')` listing every problem with the document. */
export function formatResults(doc: SessionResults, format: ResultFormat, options: FormatResultsOptions = {}): string {
  if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
    throw new ClientError(
      'BAD_ARGUMENT',
      `unknown results format ${show(format)}; use one of ${RESULT_FORMATS.join(', ')}`,
    );
  }
  const guard = options.csvGuard ?? 'formulas';
  if (!(CSV_GUARDS as readonly string[]).includes(guard)) {
    throw new ClientError('BAD_ARGUMENT', `unknown CSV guard ${show(guard)}; use one of ${CSV_GUARDS.join(', ')}`);
  }
  const results = validateResults(doc);
  const { sources } = options;
  const sourceOf = (r: CheckedResult) => sources?.get(r.kind)?.get(r.value);
  if (format === 'jsonl') return results.map((r) => resultJsonLine(doc.policy, r, sourceOf(r))).join('');
  if (format === 'csv') return csvTable(results, guard, sources === undefined ? undefined : sourceOf);
  return stixBundle(doc, results, options.idSeed ?? '', sources === undefined ? undefined : sourceOf);
}

/**
 * One result as a line of the JSON lines format (what the policy reveals, nothing else), with
 * where its record is in the lab's input (`line`, `id`, `label`) when `source` is given.
 */
export function resultJsonLine(
  policy: RevealPolicy,
  r: { kind: string; value: string; labs?: string[]; count?: number | undefined; template?: TemplateMatch | undefined },
  source?: RecordSource,
): string {
  const shown =
    policy.kind === 'labs'
      ? { kind: r.kind, value: r.value, labs: r.labs ?? [] }
      : policy.kind === 'count'
        ? { kind: r.kind, value: r.value, count: r.count }
        : { kind: r.kind, value: r.value };
  const revealed = r.template === undefined ? shown : { ...shown, template: r.template };
  return `${JSON.stringify(source === undefined ? revealed : { ...revealed, ...sourceFields(source) })}\n`;
}

function sourceFields(source: RecordSource): RecordSource {
  return {
    line: source.line,
    ...(source.id !== undefined && { id: source.id }),
    ...(source.label !== undefined && { label: source.label }),
  };
}

function csvTable(
  results: CheckedResult[],
  guard: CsvGuard,
  sourceOf: ((r: CheckedResult) => RecordSource | undefined) | undefined,
): string {
  // Prompt templates add their figures (the columns only appear when there is one).
  const templates = results.some((r) => r.template !== undefined);
  const rows = [
    [
      'kind',
      'value',
      'labs',
      'count',
      ...(templates ? ['bands_matched', 'jaccard', 'prompts'] : []),
      ...(sourceOf ? ['line', 'id', 'label'] : []),
    ],
  ];
  for (const r of results) {
    const row = [r.kind, r.value, r.labs.join(';'), r.count === undefined ? '' : String(r.count)];
    if (templates) row.push(...templateCells(r.template));
    if (sourceOf) {
      const source = sourceOf(r);
      row.push(source === undefined ? '' : String(source.line), source?.id ?? '', source?.label ?? '');
    }
    rows.push(row);
  }
  return rows.map((row) => `${row.map((cell) => csvField(cell, guard)).join(',')}\r\n`).join('');
}

/** `lab-b=40;lab-c=13` (per lab, under `labs`) or `40`; the Jaccard figures alike; the prompts. */
function templateCells(template: TemplateMatch | undefined): string[] {
  if (template === undefined) return ['', '', ''];
  const cell = (figure: Record<string, number> | number) =>
    typeof figure === 'number'
      ? String(figure)
      : Object.entries(figure)
          .map(([lab, n]) => `${lab}=${n}`)
          .join(';');
  return [cell(template.matched), cell(template.jaccard), String(template.prompts)];
}

const FORMULA_START = /^[=+\-@\t\r]/;
/** `+` or `-` then digits only: a number to every spreadsheet, never a formula that can call anything. */
const SIGNED_INTEGER = /^[+-][0-9]+$/;

/**
 * One CSV cell. With the `formulas` guard: a cell starting with `=`, `+`, `-`, `@`, tab or CR is a
 * formula to Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"), and analysts open these
 * files in spreadsheets, so such a cell gets a leading `'`, which spreadsheets read as "text" and
 * hide — except a plain signed integer (`+15551234567`, `-12`): a spreadsheet reads it as a number
 * (a formula of one constant at worst, which can call nothing), and canonical phone numbers are
 * exactly that, so they stay as they are for the programs that join on them. `-2+3`, `+1 555`,
 * `+cmd|…` are still guarded. With `none`, nothing is. Then RFC 4180 §2: a cell holding a comma,
 * a quote, CR or LF is quoted, with quotes doubled (quoting does not stop a formula, the guard does).
 */
export function csvField(text: string, guard: CsvGuard = 'formulas'): string {
  const guarded = guard === 'formulas' && FORMULA_START.test(text) && !SIGNED_INTEGER.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}
