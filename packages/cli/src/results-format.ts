/**
 * A lab's session results written for people and tools: CSV (RFC 4180), JSON Lines, or a STIX 2.1
 * bundle (OASIS STIX 2.1, patterning in §9) that OpenCTI or MISP can import. Pure: no I/O and no
 * clock; the STIX ids are derived from the document, so writing the same results twice gives the
 * same bytes and a platform that imports both sees one set of objects.
 *
 * The policies and what they reveal are spec/protocol.md §5: `labs` names the other labs holding
 * an item, `count` says how many, `threshold` t says only that at least t labs hold it.
 *
 * Threat: the names in `labs` come from other labs through the relay, and the values come from
 * suspects' data, so both are attacker-controlled text. CSV cells are quoted and guarded against
 * formula injection (analysts open these files in spreadsheets, which run a cell starting with `=`);
 * STIX pattern strings are escaped so a value cannot end its string and add comparisons.
 */
import { createHash } from 'node:crypto';
import { INDICATOR_KIND_NAMES, type IndicatorKindName, isIndicatorKindName } from '@overlap/indicators';
import { CliError } from './errors.js';

export const RESULT_FORMATS = ['csv', 'jsonl', 'stix'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export type ResultsPolicy = { kind: 'labs' } | { kind: 'count' } | { kind: 'threshold'; t: number };

export interface SessionResult {
  kind: string;
  value: string;
  /** Under `labs`: the other labs holding the item. */
  labs?: string[];
  /** Under `count`: how many other labs hold the item. */
  count?: number;
}

export interface SessionResults {
  /** 32 lowercase hex digits. */
  session: string;
  /** This lab's name (its enrollment lab id). */
  lab: string;
  /** The relay log's origin, e.g. `overlap-relay/0123abcd`. */
  relay: string;
  policy: ResultsPolicy;
  /** ISO 8601 UTC timestamp of when the results arrived. */
  finished: string;
  /** The canonical indicators of this lab that the policy reveals. */
  results: SessionResult[];
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

interface CheckedResult {
  kind: IndicatorKindName;
  value: string;
  labs: string[];
  count: number | undefined;
}

/** The results of `doc` in `format`; `CliError('DATA')` listing every problem with the document. */
export function formatResults(doc: SessionResults, format: ResultFormat, options: FormatResultsOptions = {}): string {
  if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
    throw new CliError('USAGE', `unknown results format ${show(format)}; use one of ${RESULT_FORMATS.join(', ')}`);
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
    throw new CliError('DATA', `invalid session results: ${issues.slice(0, MAX_ISSUES_SHOWN).join('; ')}${more}`);
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
  policy: ResultsPolicy,
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

// ---- STIX 2.1 ---------------------------------------------------------------------------------

/** A STIX pattern string literal (STIX 2.1 §9, Patterning): `'` and `\` are backslash-escaped, nothing else is. */
function stixString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function stixPattern(kind: IndicatorKindName, value: string): string {
  switch (kind) {
    case 'email':
      return `[email-addr:value = ${stixString(value)}]`;
    case 'ip':
    case 'ip_prefix':
      // canonical IPv6 always has a colon and IPv4 never does; a prefix keeps its CIDR length
      return `[${value.includes(':') ? 'ipv6-addr' : 'ipv4-addr'}:value = ${stixString(value)}]`;
    case 'domain':
    case 'registrable_domain':
      return `[domain-name:value = ${stixString(value)}]`;
    case 'url':
      return `[url:value = ${stixString(value)}]`;
    case 'asn':
      return `[autonomous-system:number = ${value.slice(2)}]`;
    case 'phone':
    case 'account':
    case 'payment_fingerprint':
    case 'crypto_wallet':
    case 'ja4':
      // STIX 2.1 has no cyber-observable object for these: a custom object path (patterns may name any
      // object type name; `x-` marks it as ours), so platforms keep the pattern even if they
      // cannot turn it into an observable.
      return `[x-overlap-indicator:kind = ${stixString(kind)} AND x-overlap-indicator:value = ${stixString(value)}]`;
  }
}

/**
 * An RFC 4122 UUID from SHA-256 of the parts (JSON-encoded, so no two lists of parts collide),
 * with the version nibble set to 5 and the variant bits to 10, like a name-based UUIDv5. STIX
 * prefers UUIDv4 for SDOs; determinism matters more here (a re-import updates, not duplicates).
 */
function stableUuid(...parts: string[]): string {
  const bytes = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6);
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function policyText(policy: ResultsPolicy): string {
  if (policy.kind === 'labs') return 'labs (each indicator comes with the other labs that hold it)';
  if (policy.kind === 'count') return 'count (each indicator comes with how many other labs hold it)';
  return `threshold ${policy.t} (only indicators held by at least ${policy.t} labs, without who or how many)`;
}

function revealed(policy: ResultsPolicy, r: CheckedResult): string {
  if (policy.kind === 'labs') return `also held by ${r.labs.join(', ')}`;
  if (policy.kind === 'count') return `held by ${r.count} other ${r.count === 1 ? 'lab' : 'labs'}`;
  return `held by at least ${policy.t} labs`;
}

function sightingCount(policy: ResultsPolicy, r: CheckedResult): { count?: number } {
  if (policy.kind === 'labs') return { count: r.labs.length };
  if (policy.kind === 'count' && r.count !== undefined) return { count: r.count };
  return {};
}

function stixBundle(doc: SessionResults, results: CheckedResult[], seed: string): string {
  // STIX timestamps are RFC 3339 UTC with created/modified to the millisecond: toISOString is both.
  const at = new Date(doc.finished).toISOString();
  // The identity is the session, the same for every lab in it; indicators and sightings are per lab.
  const identityId = `identity--${stableUuid('identity', seed, doc.session)}`;
  const head = (type: string, id: string) => ({ type, spec_version: '2.1', id, created: at, modified: at });
  const objects: object[] = [
    {
      ...head('identity', identityId),
      name: `Overlap session ${doc.session}`,
      description: `Overlap private set intersection session ${doc.session}, recorded in the relay log ${doc.relay}. Policy: ${policyText(doc.policy)}.`,
      identity_class: 'system',
    },
  ];
  for (const r of results) {
    const item = [seed, doc.session, doc.lab, r.kind, r.value];
    const indicatorId = `indicator--${stableUuid('indicator', ...item)}`;
    const what = revealed(doc.policy, r);
    objects.push(
      {
        ...head('indicator', indicatorId),
        created_by_ref: identityId,
        name: `${r.kind} ${r.value}`,
        description: `An indicator of ${doc.lab}, ${what} (Overlap session ${doc.session}).`,
        indicator_types: ['malicious-activity'],
        pattern: stixPattern(r.kind, r.value),
        pattern_type: 'stix',
        valid_from: at,
      },
      {
        ...head('sighting', `sighting--${stableUuid('sighting', ...item)}`),
        created_by_ref: identityId,
        description: `${doc.lab} holds this indicator; it is ${what}.`,
        first_seen: at,
        last_seen: at,
        ...sightingCount(doc.policy, r),
        sighting_of_ref: indicatorId,
        where_sighted_refs: [identityId],
      },
    );
  }
  const bundle = { type: 'bundle', id: `bundle--${stableUuid('bundle', seed, doc.session, doc.lab)}`, objects };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
