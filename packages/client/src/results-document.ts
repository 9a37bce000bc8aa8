/**
 * A lab's session results as a document (what `overlap session run` writes for `overlap results`,
 * and what an SDK user builds from a `SessionOutcome`), and its validation: the document may come
 * from a file, so its shape is checked, not only its values, and every problem is listed.
 *
 * Threat: lab names come from other labs through the relay and values from suspects' data: a name
 * with `;` (the CSV list separator) or naming this lab, a repeated result, or an unknown kind is
 * refused before anything is written.
 */
import { INDICATOR_KIND_NAMES, type IndicatorKindName, isIndicatorKindName } from '@overlap/indicators';
import type { RevealPolicy } from '@overlap/protocol';
import { ClientError } from './errors.js';
import type { SharedIndicator, TemplateMatch } from './overlap-client.js';

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

/** A result once checked: a known kind, its labs sorted (empty unless the policy is `labs`). */
export interface CheckedResult {
  kind: IndicatorKindName;
  value: string;
  labs: string[];
  count: number | undefined;
  /** A prompt template's bands matched (its `value` is its text). */
  template?: TemplateMatch;
}

const SESSION = /^[0-9a-f]{32}$/;
const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const CANONICAL_ASN = /^AS(?:0|[1-9][0-9]{0,9})$/;
const MAX_ISSUES_SHOWN = 20;

/** A value as an error message may quote it: strings cut to 64 characters, anything else by type. */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The results, checked and sorted by kind then value (code-unit order), labs sorted. */
export function validateResults(doc: SessionResults): CheckedResult[] {
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
    if (r.kind === 'prompt_template') checkTemplate(r.template, policyKind, r.labs, `${at}.template`, issues);
    else if (r.template !== undefined) issues.push(`${at}.template: present on a ${String(r.kind)} result`);
    if (issues.length > before) continue;
    const key = `${r.kind as string}\u0000${r.value as string}`;
    if (seen.has(key)) issues.push(`${at}: repeats ${r.kind as string} ${show(r.value)}`);
    seen.add(key);
    const labs = Array.isArray(r.labs) ? [...(r.labs as string[])].sort() : [];
    const result: CheckedResult = {
      kind: r.kind as IndicatorKindName,
      value: r.value as string,
      labs,
      count: r.count as number,
    };
    if (r.template !== undefined) result.template = r.template as TemplateMatch;
    checked.push(result);
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

/**
 * A template's match: b and its prompts whole numbers ≥ 1; `matched` whole numbers from 0 to b
 * and `jaccard` numbers from 0 to 1, per lab under `labs` (every lab the result names among them),
 * else one of each.
 */
function checkTemplate(template: unknown, policy: unknown, labs: unknown, at: string, issues: string[]): void {
  const t = (typeof template === 'object' && template !== null ? template : undefined) as
    | Record<string, unknown>
    | undefined;
  if (t === undefined) {
    issues.push(`${at}: a prompt_template result needs its template's match (bands, prompts, matched, jaccard)`);
    return;
  }
  const unknown = Object.keys(t).filter((key) => !['bands', 'prompts', 'matched', 'jaccard'].includes(key));
  if (unknown.length > 0) issues.push(`${at}: unknown field(s) ${unknown.join(', ')}`);
  const bands = t.bands;
  if (!(Number.isSafeInteger(bands) && (bands as number) >= 1)) issues.push(`${at}.bands: must be an integer ≥ 1`);
  if (!(Number.isSafeInteger(t.prompts) && (t.prompts as number) >= 1))
    issues.push(`${at}.prompts: must be an integer ≥ 1`);
  const isShared = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= (bands as number);
  const isJaccard = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  if (policy !== 'labs') {
    if (!isShared(t.matched)) issues.push(`${at}.matched: must be an integer from 0 to bands`);
    if (!isJaccard(t.jaccard)) issues.push(`${at}.jaccard: must be a number from 0 to 1`);
    return;
  }
  for (const [field, check] of [
    ['matched', isShared],
    ['jaccard', isJaccard],
  ] as const) {
    const perLab = t[field];
    if (typeof perLab !== 'object' || perLab === null || Array.isArray(perLab)) {
      issues.push(`${at}.${field}: must map each lab to its figure`);
      continue;
    }
    for (const [lab, figure] of Object.entries(perLab)) {
      if (lab === '' || lab.includes(';') || !check(figure))
        issues.push(`${at}.${field}[${show(lab)}]: not a lab's figure`);
    }
    for (const lab of Array.isArray(labs) ? labs : []) {
      if (!Object.hasOwn(perLab, lab as string)) issues.push(`${at}.${field}: has no figure for ${show(lab)}`);
    }
  }
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
