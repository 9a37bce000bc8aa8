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
import { INDICATOR_KIND_NAMES, type IndicatorKindName, isIndicatorKindName } from '@overlap/indicators';
import type { RevealPolicy } from '@overlap/protocol';
import { ClientError } from './errors.js';
import type { SharedIndicator } from './overlap-client.js';
import { stixBundle } from './results-stix.js';

export const RESULT_FORMATS = ['csv', 'jsonl', 'stix'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export interface SessionResults {
  /** 32 lowercase hex digits. */
  session: string;
  /** This lab's name (its enrollment lab id). */
  lab: string;
  /** The relay log's origin, e.g. `overlap-relay/0123abcd`. */
  relay: string;
  policy: RevealPolicy;
  /** ISO 8601 UTC timestamp of when the results arrived. */
  finished: string;
  /** The canonical indicators of this lab that the policy reveals. */
  results: SharedIndicator[];
}

export interface FormatResultsOptions {
  /**
   * Accepted so the command can pass its clock like everywhere else, but not read: every timestamp
   * written is `finished`, so the output depends on the document alone.
   */
  now?: Date;
  /** Mixed into every STIX id: two exports of one session with different seeds get different ids. */
  idSeed?: string;
}

/** A result once checked: a known kind, its labs sorted (empty unless the policy is `labs`). */
export interface CheckedResult {
  kind: IndicatorKindName;
  value: string;
  labs: string[];
  count: number | undefined;
}

/** The results of `doc` in `format`; `ClientError('BAD_RESULTS')` listing every problem with the document. */
export function formatResults(doc: SessionResults, format: ResultFormat, options: FormatResultsOptions = {}): string {
  if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
    throw new ClientError(
      'BAD_ARGUMENT',
      `unknown results format ${show(format)}; use one of ${RESULT_FORMATS.join(', ')}`,
    );
  }
  const results = checkResults(doc);
  if (format === 'jsonl') return results.map((r) => resultJsonLine(doc.policy, r)).join('');
  if (format === 'csv') return csvTable(results);
  return stixBundle(doc, results, options.idSeed ?? '');
}

// ---- validation -------------------------------------------------------------------------------

const SESSION = /^[0-9a-f]{32}$/;
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const CANONICAL_ASN = /^AS(?:0|[1-9][0-9]{0,9})$/;
const MAX_ISSUES_SHOWN = 20;

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The results, checked and sorted by kind then value (code-unit order), labs sorted. */
function checkResults(doc: SessionResults): CheckedResult[] {
  // The document may come straight from JSON.parse: check the shape, not only the values.
  const issues: string[] = [];
  const d = doc as unknown as Record<string, unknown>;
  if (typeof d.session !== 'string' || !SESSION.test(d.session))
    issues.push('session: must be 32 lowercase hex digits');
  if (!isText(d.lab)) issues.push('lab: must be a non-empty string');
  if (!isText(d.relay)) issues.push('relay: must be a non-empty string');
  if (!isUtcTimestamp(d.finished)) issues.push('finished: must be an ISO 8601 UTC timestamp (…Z)');
  const policy = d.policy as { kind?: unknown; t?: unknown } | null | undefined;
  const policyKind = policy?.kind;
  if (policyKind !== 'labs' && policyKind !== 'count' && policyKind !== 'threshold') {
    issues.push('policy.kind: must be labs, count or threshold');
  } else if (policyKind === 'threshold' && !(Number.isSafeInteger(policy?.t) && (policy?.t as number) >= 2)) {
    issues.push('policy.t: must be an integer of at least 2');
  }
  const checked: CheckedResult[] = [];
  if (!Array.isArray(d.results)) issues.push('results: must be an array');
  const seen = new Set<string>();
  for (const [i, item] of (Array.isArray(d.results) ? d.results : []).entries()) {
    const at = `results[${i}]`;
    const r = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const before = issues.length;
    if (!isIndicatorKindName(r.kind)) {
      issues.push(`${at}.kind: unknown kind ${show(r.kind)}; known kinds: ${INDICATOR_KIND_NAMES.join(', ')}`);
    }
    if (!isText(r.value)) issues.push(`${at}.value: must be a non-empty string`);
    else if (r.kind === 'asn' && !CANONICAL_ASN.test(r.value))
      issues.push(`${at}.value: not a canonical ASN (AS64500)`);
    if (policyKind === 'labs') {
      // names come from the other labs through the relay
      const labs = r.labs;
      if (!Array.isArray(labs) || labs.length === 0) issues.push(`${at}.labs: must list the other labs`);
      else {
        for (const [j, lab] of labs.entries()) {
          if (!isText(lab) || lab.includes(';')) issues.push(`${at}.labs[${j}]: must be a lab name without ';'`);
          else if (lab === d.lab) issues.push(`${at}.labs[${j}]: names this lab, which only other labs can be`);
        }
        if (new Set(labs).size !== labs.length) issues.push(`${at}.labs: names a lab twice`);
      }
    } else if (r.labs !== undefined) issues.push(`${at}.labs: present under the ${String(policyKind)} policy`);
    if (policyKind === 'count') {
      if (!(Number.isSafeInteger(r.count) && (r.count as number) >= 1))
        issues.push(`${at}.count: must be an integer ≥ 1`);
    } else if (r.count !== undefined) issues.push(`${at}.count: present under the ${String(policyKind)} policy`);
    if (issues.length > before) continue;
    const key = `${r.kind as string}\u0000${r.value as string}`;
    if (seen.has(key)) issues.push(`${at}: repeats ${r.kind as string} ${show(r.value)}`);
    seen.add(key);
    const labs = Array.isArray(r.labs) ? [...(r.labs as string[])].sort() : [];
    checked.push({ kind: r.kind as IndicatorKindName, value: r.value as string, labs, count: r.count as number });
  }
  if (issues.length > 0) {
    const more = issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : '';
    throw new ClientError(
      'BAD_RESULTS',
      `invalid session results: ${issues.slice(0, MAX_ISSUES_SHOWN).join('; ')}${more}`,
    );
  }
  return checked.sort((a, b) => compare(a.kind, b.kind) || compare(a.value, b.value));
}

function isUtcTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !UTC_TIMESTAMP.test(value)) return false;
  const time = Date.parse(value);
  // Date.parse rolls 2025-02-30 over to March: require the fields to survive the round trip.
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === value.slice(0, 19);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- JSON Lines and CSV -----------------------------------------------------------------------

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
