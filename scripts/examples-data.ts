/**
 * Writes the README demo's example data to examples/data/: three labs' synthetic suspect lists
 * (lab-a.csv, lab-b.jsonl, lab-c.json, a STIX 2.1 bundle) with planted overlaps of known size in
 * messy spellings, and in lab-a's and lab-b's the prompts of a synthetic distillation campaign
 * (examples-data/prompts.ts); expected.json with the overlaps and the shared prompt templates
 * recomputed from the written files, and a README.md describing them. Deterministic: the same code
 * writes the same bytes.
 *
 *   npx tsx --conditions=@overlap/source scripts/examples-data.ts [DIR]
 *
 * It fails rather than writes data whose recomputed overlaps, duplicates, rejections or prompt
 * templates differ from the plan (examples-data/plan.ts, files.ts, prompts.ts; the templates under
 * several MinHash settings: templates.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeExpected, type Expected, regionKey } from './examples-data/expected.js';
import { LAB_FILES, labACsv, labBJsonl, labCStix, plannedRejections } from './examples-data/files.js';
import { PLANTED_KINDS } from './examples-data/identifiers.js';
import { DUPLICATES_PER_LAB, LABS, type Planted, plant, REGIONS, regionLabs } from './examples-data/plan.js';
import { type PromptPlan, planPrompts } from './examples-data/prompts.js';
import { renderReadme } from './examples-data/readme.js';
import { checkTemplates, type TemplateAnswer } from './examples-data/templates.js';

export type { Expected } from './examples-data/expected.js';

export const EXAMPLE_DATA_FILES = [...Object.values(LAB_FILES), 'expected.json', 'README.md'] as const;

export interface ExampleData {
  expected: Expected;
  /** The narrowest band margins of the prompts, per shingle size (for the report; not written). */
  margins: ReturnType<typeof checkTemplates>['margins'];
}

export async function writeExampleData(dir: string): Promise<ExampleData> {
  const planted = plant();
  const prompts = planPrompts();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LAB_FILES['lab-a']), labACsv(planted.records['lab-a'], prompts['lab-a']));
  writeFileSync(join(dir, LAB_FILES['lab-b']), labBJsonl(planted.records['lab-b'], prompts['lab-b']));
  writeFileSync(join(dir, LAB_FILES['lab-c']), labCStix(planted.records['lab-c']));
  const { expected, sets, prompts: read } = await computeExpected(dir);
  checkAgainstPlan(expected, sets, planted);
  const { answer, margins } = checkTemplates(read, prompts);
  checkPromptsAgainstPlan(expected.prompt_templates.labs, answer, prompts);
  writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), renderReadme(expected, prompts));
  return { expected, margins };
}

/** expected.json's templates are the library's answer: it must be the ground truth's (checkTemplates). */
function checkPromptsAgainstPlan(written: TemplateAnswer, truth: TemplateAnswer, plan: PromptPlan): void {
  const problems: string[] = [];
  if (JSON.stringify(written) !== JSON.stringify(truth)) problems.push('the templates found are not the planned ones');
  for (const lab of LABS) {
    const planned = lab in plan ? plan[lab as keyof PromptPlan].length : 0;
    if (written[lab].prompts !== planned)
      problems.push(`${lab}: ${written[lab].prompts} prompts read, ${planned} planned`);
  }
  if (problems.length > 0) throw new Error(`the example prompts do not match their plan:\n${problems.join('\n')}`);
}

function checkAgainstPlan(
  expected: Expected,
  sets: Awaited<ReturnType<typeof computeExpected>>['sets'],
  planted: Planted,
): void {
  const problems: string[] = [];
  for (const kind of PLANTED_KINDS) {
    for (const region of REGIONS) {
      const want = planted.canonical[kind][region];
      const got = expected.overlaps[kind]?.[regionKey(region)] ?? 0;
      if (got !== want.length) problems.push(`${kind} ${regionKey(region)}: ${got}, planted ${want.length}`);
      const missing = want.find((value) => regionLabs(region).some((lab) => !sets[lab].get(kind)?.has(value)));
      if (missing !== undefined) problems.push(`${kind} ${regionKey(region)}: ${missing} is missing`);
    }
  }
  for (const lab of LABS) {
    const l = expected.labs[lab];
    if (l.duplicates !== DUPLICATES_PER_LAB) problems.push(`${lab}: ${l.duplicates} duplicates`);
    const want = JSON.stringify(plannedRejections(lab));
    if (JSON.stringify(l.rejected_by) !== want)
      problems.push(`${lab}: rejected ${JSON.stringify(l.rejected_by)}, planned ${want}`);
  }
  if (problems.length > 0) throw new Error(`the example data does not match its plan:\n${problems.join('\n')}`);
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const dir = resolve(process.argv[2] ?? fileURLToPath(new URL('../examples/data', import.meta.url)));
  const { expected, margins } = await writeExampleData(dir);
  for (const lab of LABS) {
    const l = expected.labs[lab];
    const t = expected.prompt_templates.labs[lab];
    process.stdout.write(
      `${lab}: ${l.records} records, ${l.accepted} accepted (${l.duplicates} duplicates), ${l.rejected} rejected; ` +
        `${t.prompts} prompts in ${t.templates} templates, ${t.shared.length} shared\n`,
    );
  }
  for (const m of margins) {
    process.stdout.write(
      `prompts, shingles of ${m.shingleSize}: prompts of one template share ≥ ${m.within} bands, of two ≤ ${m.apart}; ` +
        `a shared template has ≥ ${m.shared} of its bands in the other lab, one not shared ≤ ${m.unshared}\n`,
    );
  }
  process.stdout.write(`wrote ${EXAMPLE_DATA_FILES.map((f) => join(dir, f)).join(', ')}\n`);
}
