/**
 * A session's results for prompt templates, gathered back from bands into the lab's own templates
 * (spec/indicators.md §2, `prompt_template`, "Results"). The exchange matched each band value on
 * its own; here, per template of the lab's file, the bands that came back are counted, and a
 * template is a result when at least `minBands` (t) of its b bands match: under `labs` for some
 * other lab, which the result names (`labs`: the labs at or over t), with the count and implied
 * Jaccard similarity for every lab that matched any band; under `count`, when t of its bands are
 * held by some other lab, `count` being how many other labs hold its t-th most held band; under
 * `threshold`, when t of its bands were revealed. The result's value is the template's text, so
 * it is traced to its first prompt like any other value (its line and the lab's prompt id).
 *
 * t is the lab's own choice (the relay matches bands and never sees templates), by default the
 * rules version's: a lab may ask for more agreement, or see near-misses with less.
 *
 * Pure: the file's templates and the outcome in, a new outcome out; other kinds pass unchanged.
 */
import { impliedJaccard, PROMPT_TEMPLATE_PARAMETERS } from '@overlap/indicators';
import { ClientError } from './errors.js';
import type { TemplateOfFile } from './indicator-input.js';
import type { SessionOutcome, SharedIndicator } from './overlap-client.js';

export interface TemplateResultsOptions {
  /** t: bands a template must match (default: the rules version's, 10 of 64). */
  minBands?: number;
}

const KIND = 'prompt_template';

/** `outcome` with its `prompt_template` rows (bands) replaced by the templates they match. */
export function templateResults(
  input: { templates?: TemplateOfFile[] | undefined },
  outcome: SessionOutcome,
  options: TemplateResultsOptions = {},
): SessionOutcome {
  const parameters = PROMPT_TEMPLATE_PARAMETERS;
  const minBands = options.minBands ?? parameters.minBands;
  if (!Number.isSafeInteger(minBands) || minBands < 1 || minBands > parameters.bands) {
    throw new ClientError(
      'BAD_ARGUMENT',
      `minBands must be a whole number from 1 to ${parameters.bands}, got ${minBands}`,
    );
  }
  const bandRows = outcome.results.filter((r) => r.kind === KIND);
  if (bandRows.length === 0 && input.templates === undefined) return outcome;
  const byBand = new Map(bandRows.map((row) => [row.value, row]));
  const found: SharedIndicator[] = [];
  for (const template of input.templates ?? []) {
    // A template of another band count is not one of this rules version (a saved state of another release).
    if (template.bands.length !== parameters.bands) {
      throw new ClientError(
        'BAD_ARGUMENT',
        `the template of line ${template.line} has ${template.bands.length} bands, not the ${parameters.bands} of prompt_template rules version 1`,
      );
    }
    const rows = template.bands.flatMap((band) => byBand.get(band) ?? []);
    const result = templateResult(outcome.policy.kind, template, rows, minBands);
    if (result !== undefined) found.push(result);
  }
  found.sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  const others = outcome.results.filter((r) => r.kind !== KIND);
  // Kinds stay sorted: the templates go where their kind's rows were.
  const at = others.findIndex((r) => r.kind > KIND);
  const results = at === -1 ? [...others, ...found] : [...others.slice(0, at), ...found, ...others.slice(at)];
  return { ...outcome, results };
}

function templateResult(
  policy: SessionOutcome['policy']['kind'],
  template: TemplateOfFile,
  rows: SharedIndicator[],
  minBands: number,
): SharedIndicator | undefined {
  const b = PROMPT_TEMPLATE_PARAMETERS.bands;
  const jaccardOf = (shared: number) => impliedJaccard(shared);
  const base = { kind: KIND, value: template.text };
  if (policy === 'labs') {
    const perLab = new Map<string, number>();
    for (const row of rows) for (const lab of row.labs ?? []) perLab.set(lab, (perLab.get(lab) ?? 0) + 1);
    const labs = [...perLab].filter(([, shared]) => shared >= minBands).map(([lab]) => lab);
    if (labs.length === 0) return undefined;
    const names = [...perLab.keys()].sort();
    return {
      ...base,
      labs: labs.sort(),
      template: {
        bands: b,
        prompts: template.prompts,
        matched: Object.fromEntries(names.map((lab) => [lab, perLab.get(lab) as number])),
        jaccard: Object.fromEntries(names.map((lab) => [lab, jaccardOf(perLab.get(lab) as number)])),
      },
    };
  }
  if (rows.length < minBands) return undefined;
  const match = { bands: b, prompts: template.prompts, matched: rows.length, jaccard: jaccardOf(rows.length) };
  if (policy === 'count') {
    const counts = rows.map((row) => row.count ?? 0).sort((x, y) => y - x);
    return { ...base, count: counts[minBands - 1] as number, template: match };
  }
  return { ...base, template: match };
}
