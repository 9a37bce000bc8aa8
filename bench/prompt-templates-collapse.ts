/**
 * The local-collapse part of `pnpm bench prompt-templates` (bench/prompt-templates.ts): one lab's
 * 100,000 prompts of scripts/prompt-campaign.ts's large log collapsed by TemplateCollector, with the
 * fixed COLLAPSE_OPTIONS and a sweep of others on the first 30,000: templates found against the true
 * ones, purity (found templates of one truth), split rate, and speed.
 */
import {
  COLLAPSE_OPTIONS,
  type CollapseOptions,
  canonicalize,
  PROMPT_TEMPLATE_PARAMETERS,
  TemplateCollector,
} from '@overlap/indicators';
import { campaignLog, LARGE_TEMPLATES, LARGE_UNRELATED_SHARE } from '../scripts/prompt-campaign.js';

const line = (text = '') => process.stdout.write(`${text}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number, d: number) => (d === 0 ? '—' : `${((100 * n) / d).toFixed(2)}%`);

interface Collapse {
  found: number;
  truths: number;
  pure: number;
  mixedPrompts: number;
  split: number;
  collectMs: number;
}

function collapse(
  log: ReturnType<typeof campaignLog>,
  normalized: readonly string[],
  options: CollapseOptions,
): Collapse {
  const collector = new TemplateCollector(PROMPT_TEMPLATE_PARAMETERS, options);
  const started = performance.now();
  const joined = normalized.map((text, i) => collector.add(text, i + 1, log.prompts[i]?.id));
  const collectMs = performance.now() - started;
  const truthsOf = new Map<number, Set<string>>();
  const collectedOf = new Map<string, Set<number>>();
  for (const [i, index] of joined.entries()) {
    const truth = log.prompts[i]?.template ?? `none-${i}`;
    truthsOf.set(index, (truthsOf.get(index) ?? new Set()).add(truth));
    collectedOf.set(truth, (collectedOf.get(truth) ?? new Set()).add(index));
  }
  return {
    found: collector.templates.length,
    truths: collectedOf.size,
    pure: [...truthsOf.values()].filter((truths) => truths.size === 1).length,
    mixedPrompts: joined.filter((index) => (truthsOf.get(index)?.size ?? 0) > 1).length,
    split: [...collectedOf.values()].filter((found) => found.size > 1).length,
    collectMs,
  };
}

export function printCollapse(seed: number): void {
  let started = performance.now();
  const log = campaignLog({ seed });
  const generated = performance.now() - started;
  started = performance.now();
  const normalized = log.prompts.map((p) => canonicalize('prompt_template', p.text));
  const normalizing = performance.now() - started;
  const c = collapse(log, normalized, COLLAPSE_OPTIONS);
  line(
    `local collapse: one lab, ${fmt(log.prompts.length)} prompts of ${LARGE_TEMPLATES} campaign templates and the everyday frames (${LARGE_UNRELATED_SHARE * 100}% of the prompts), through TemplateCollector (COLLAPSE_OPTIONS: join at ≥ ${COLLAPSE_OPTIONS.minBands} bands shared with one of a template's first ${COLLAPSE_OPTIONS.members} prompts)`,
  );
  line(`  true templates present                ${fmt(c.truths)}`);
  line(`  templates found                       ${fmt(c.found)}`);
  line(
    `  purity (found templates of one truth) ${pct(c.pure, c.found)}   (${fmt(c.found - c.pure)} mixed, holding ${pct(c.mixedPrompts, normalized.length)} of the prompts)`,
  );
  line(
    `  split rate (true templates found as more than one)  ${pct(c.split, c.truths)}   (${(c.found / c.truths).toFixed(2)} found per true template)`,
  );
  line(
    `  time: generate ${(generated / 1000).toFixed(2)} s, normalize ${(normalizing / 1000).toFixed(2)} s (${fmt((normalized.length * 1000) / normalizing)} prompts/s), collect ${(c.collectMs / 1000).toFixed(2)} s (${fmt((normalized.length * 1000) / c.collectMs)} prompts/s)`,
  );
  const prompts = 30_000;
  line(`  other collapse options, on the first ${fmt(prompts)} prompts:`);
  line('    minBands  members  templates  true  mixed templates  prompts in mixed  split  prompts/s');
  const head = { ...log, prompts: log.prompts.slice(0, prompts) };
  for (const options of COLLAPSE_SWEEP) {
    const s = collapse(head, normalized.slice(0, prompts), options);
    const fixed = options === COLLAPSE_OPTIONS ? ' (fixed)' : '';
    line(
      `    ${String(options.minBands).padStart(8)}  ${String(options.members).padStart(7)}  ${fmt(s.found).padStart(9)}  ${fmt(s.truths).padStart(4)}  ${fmt(s.found - s.pure).padStart(15)}  ${pct(s.mixedPrompts, prompts).padStart(16)}  ${pct(s.split, s.truths).padStart(5)}  ${fmt((prompts * 1000) / s.collectMs).padStart(9)}${fixed}`,
    );
  }
}

const COLLAPSE_SWEEP: readonly CollapseOptions[] = [
  COLLAPSE_OPTIONS,
  { minBands: PROMPT_TEMPLATE_PARAMETERS.minBands, members: 1 },
  { minBands: COLLAPSE_OPTIONS.minBands, members: 1 },
  { minBands: 14, members: 4 },
  { minBands: 20, members: 4 },
  { minBands: 16, members: 8 },
];
