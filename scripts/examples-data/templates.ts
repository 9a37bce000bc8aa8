/**
 * The prompt templates of the example data: what each lab must find, computed the way a lab does
 * (its prompts collapsed with the library's TemplateCollector, each template's bands counted among
 * every other lab's bands, a result at t of them: @overlap/client's templateResults under `labs`),
 * and checked against the ground truth of prompts.ts (which template each prompt was made from).
 *
 * The answer is template-level only — how many prompts and templates each lab holds, and per
 * shared template its first prompt's id and line, how many prompts it stands for and which labs
 * hold it — never a band count, so expected.json does not change when the MinHash parameters do.
 * The data is checked to give the ground truth's answer under every setting of SETTINGS (word
 * shingles of 1 or 2, t from 8 to 14 of the bands), and under the library's own parameters.
 */
import {
  type MinHashParameters,
  PROMPT_TEMPLATE_PARAMETERS,
  promptBands,
  TemplateCollector,
} from '@overlap/indicators';
import { LABS, type LabName } from './plan.js';
import { type PromptPlan, plannedHolders } from './prompts.js';

/** A prompt record as the lab's file was read: its line, its id, its normalized text. */
export interface PromptRead {
  line: number;
  id?: string;
  text: string;
}

export type PromptsRead = Record<LabName, PromptRead[]>;

export interface SharedTemplate {
  /** The template's first prompt (its representative): its id and line in the lab's file. */
  id: string;
  line: number;
  /** How many of the lab's prompts it stands for. */
  prompts: number;
  /** The other labs holding it. */
  labs: LabName[];
}

export interface LabTemplates {
  prompts: number;
  templates: number;
  /** The lab's templates that another lab holds, in file order: its results for the kind. */
  shared: SharedTemplate[];
}

export type TemplateAnswer = Record<LabName, LabTemplates>;

/** The settings the data must give the same answer under, beside the library's own parameters. */
export const SETTINGS: readonly { shingleSize: number; minBands: number }[] = [1, 2].flatMap((shingleSize) =>
  [8, 10, 12, 14].map((minBands) => ({ shingleSize, minBands })),
);

interface Collapsed {
  answer: TemplateAnswer;
  /** Per lab, the template each prompt joined (an index into the lab's templates). */
  joined: Record<LabName, number[]>;
  /** Per lab, per template (in its order), how many of its bands each other lab holds. */
  matched: Record<LabName, Partial<Record<LabName, number>>[]>;
}

/** What a lab finds with these parameters: each lab's collapse, then band matches across labs. */
export function collapse(read: PromptsRead, parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS): Collapsed {
  const collectors = {} as Record<LabName, TemplateCollector>;
  const joined = {} as Record<LabName, number[]>;
  const bandsOf = {} as Record<LabName, Set<string>>;
  for (const lab of LABS) {
    const collector = new TemplateCollector(parameters);
    joined[lab] = read[lab].map((p) => collector.add(p.text, p.line, p.id));
    collectors[lab] = collector;
    bandsOf[lab] = new Set(collector.templates.flatMap((t) => t.bands));
  }
  const answer = {} as TemplateAnswer;
  const matched = {} as Collapsed['matched'];
  for (const lab of LABS) {
    const templates = collectors[lab].templates;
    const shared: SharedTemplate[] = [];
    matched[lab] = [];
    for (const template of templates) {
      const counts: Partial<Record<LabName, number>> = {};
      for (const other of LABS.filter((l) => l !== lab))
        counts[other] = template.bands.filter((band) => bandsOf[other].has(band)).length;
      matched[lab].push(counts);
      const labs = LABS.filter((other) => (counts[other] ?? 0) >= parameters.minBands);
      if (labs.length === 0) continue;
      if (template.id === undefined) throw new Error(`${lab}: the template of line ${template.line} has no prompt id`);
      shared.push({ id: template.id, line: template.line, prompts: template.prompts, labs });
    }
    answer[lab] = { prompts: read[lab].length, templates: templates.length, shared };
  }
  return { answer, joined, matched };
}

/** The answer the ground truth gives: a template is shared when another lab's prompts were made from it too. */
export function truthAnswer(read: PromptsRead, plan: PromptPlan): TemplateAnswer {
  const holders = plannedHolders(plan);
  const answer = {} as TemplateAnswer;
  for (const lab of LABS) {
    const templateOf = templateOfId(plan, lab);
    const prompts = read[lab].map((p) => ({ ...p, template: templateOf(p) }));
    const shared: SharedTemplate[] = [];
    for (const template of new Set(prompts.map((p) => p.template))) {
      const labs = (holders.get(template) ?? []).filter((other) => other !== lab);
      if (labs.length === 0) continue;
      const own = prompts.filter((p) => p.template === template);
      const first = own[0] as (typeof own)[number];
      shared.push({ id: first.id as string, line: first.line, prompts: own.length, labs });
    }
    answer[lab] = {
      prompts: prompts.length,
      templates: new Set(prompts.map((p) => p.template)).size,
      shared: shared.sort((x, y) => x.line - y.line),
    };
  }
  return answer;
}

function templateOfId(plan: PromptPlan, lab: LabName): (p: PromptRead) => string {
  const planned = lab in plan ? plan[lab as keyof PromptPlan] : [];
  const byId = new Map(planned.map((p) => [p.id, p.template]));
  return (p) => {
    const template = p.id === undefined ? undefined : byId.get(p.id);
    if (template === undefined) throw new Error(`${lab}: line ${p.line} is no planned prompt`);
    return template;
  };
}

/**
 * Fails unless every setting (SETTINGS and the library's parameters) collapses each lab's prompts
 * exactly into the templates they were made from and finds exactly the shared ones; answers the
 * library's (equal to the truth's) and the narrowest margins seen, for the generator's report.
 */
export function checkTemplates(read: PromptsRead, plan: PromptPlan): { answer: TemplateAnswer; margins: Margins[] } {
  const truth = truthAnswer(read, plan);
  const problems: string[] = [];
  const settings = [PROMPT_TEMPLATE_PARAMETERS, ...SETTINGS.map((s) => ({ ...PROMPT_TEMPLATE_PARAMETERS, ...s }))];
  for (const parameters of settings) {
    const name = `shingles of ${parameters.shingleSize}, t = ${parameters.minBands}`;
    const { answer, joined } = collapse(read, parameters);
    for (const lab of LABS) {
      const templateOf = templateOfId(plan, lab);
      const members = new Map<number, Set<string>>();
      read[lab].forEach((p, i) => {
        const index = joined[lab][i] as number;
        members.set(index, (members.get(index) ?? new Set()).add(templateOf(p)));
      });
      for (const [index, templates] of members) {
        if (templates.size > 1) problems.push(`${name}: ${lab} template ${index} joins ${[...templates].join(', ')}`);
      }
    }
    if (JSON.stringify(answer) !== JSON.stringify(truth))
      problems.push(`${name}: ${JSON.stringify(answer)}, the truth ${JSON.stringify(truth)}`);
  }
  if (problems.length > 0)
    throw new Error(`the example prompts do not give their planned templates:\n${problems.join('\n')}`);
  const margins = [...new Set(settings.map((s) => s.shingleSize))].map((shingleSize) =>
    bandMargins(read, plan, { ...PROMPT_TEMPLATE_PARAMETERS, shingleSize }),
  );
  return { answer: truth, margins };
}

export interface Margins {
  shingleSize: number;
  /** The fewest bands two prompts of one template share. */
  within: number;
  /** The most bands two prompts of different templates share. */
  apart: number;
  /** The fewest bands of a shared template that another lab holding it holds. */
  shared: number;
  /** The most bands of a template that another lab not holding it holds (among all its templates). */
  unshared: number;
}

/** How far the data is from a wrong answer, for one shingle size: t anywhere above `apart` and `unshared` and up to `within` and `shared` gives the truth. */
function bandMargins(read: PromptsRead, plan: PromptPlan, parameters: MinHashParameters): Margins {
  const all = LABS.flatMap((lab) => {
    const templateOf = templateOfId(plan, lab);
    return read[lab].map((p) => ({ template: templateOf(p), bands: promptBands(p.text, parameters) }));
  });
  let within = Number.POSITIVE_INFINITY;
  let apart = 0;
  for (const [i, x] of all.entries()) {
    const bands = new Set(x.bands);
    for (const y of all.slice(i + 1)) {
      const common = y.bands.filter((band) => bands.has(band)).length;
      if (x.template === y.template) within = Math.min(within, common);
      else apart = Math.max(apart, common);
    }
  }
  const holders = plannedHolders(plan);
  const { joined, matched } = collapse(read, parameters);
  let shared = Number.POSITIVE_INFINITY;
  let unshared = 0;
  for (const lab of LABS) {
    const templateOf = templateOfId(plan, lab);
    matched[lab].forEach((counts, index) => {
      const first = read[lab][joined[lab].indexOf(index)] as PromptRead;
      const truth = holders.get(templateOf(first)) ?? [];
      for (const [other, count] of Object.entries(counts) as [LabName, number][]) {
        if ((truth as LabName[]).includes(other)) shared = Math.min(shared, count);
        else unshared = Math.max(unshared, count);
      }
    });
  }
  return { shingleSize: parameters.shingleSize, within, apart, shared, unshared };
}
