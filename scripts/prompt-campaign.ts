/**
 * A deterministic synthetic generator of distillation-campaign prompt logs, for measuring the
 * `prompt_template` kind (bench/prompt-templates.ts, test/prompt-campaign.test.ts) on data whose
 * ground truth is known: every prompt names the template it was made from.
 *
 * A campaign is CAMPAIGN_TEMPLATES templates written after the public accounts of distillation
 * campaigns (2026): chain-of-thought elicitation, rubric grading, rewrites, agentic-coding traces,
 * "act as an expert" explanations (prompt-campaign-templates.ts). A prompt is one template with its
 * slots filled and a campaign script's noise (prompt-campaign-noise.ts). Lab k sees
 * TEMPLATES_PER_LAB templates from k × TEMPLATE_SHIFT on (lab-a 0–29, lab-b 10–39, …), with its
 * own draws of fillers and noise, among UNRELATED_PER_LAB everyday requests of its own whose frame
 * is their template (`other-17`): two labs' prompts are "the same template" when they name the same
 * template. campaignLog is the large mode: one lab, LARGE_PROMPTS prompts of LARGE_TEMPLATES
 * templates, to measure a lab's own collapse of its log into templates.
 *
 * Pure: no I/O, no clock, no Math.random (prompt-campaign-random.ts); the same options give the
 * same logs byte for byte. indicatorLines and chatLines give a log's text; the caller writes it.
 */

import { renderPrompt } from './prompt-campaign-noise.js';
import {
  CAMPAIGN_SEED,
  CAMPAIGN_TEMPLATES,
  CHAT_MODEL,
  LARGE_PROMPTS,
  LARGE_TEMPLATES,
  LARGE_UNRELATED_SHARE,
  PROMPTS_PER_TEMPLATE,
  TEMPLATE_SHIFT,
  TEMPLATES_PER_LAB,
  UNRELATED_PER_LAB,
} from './prompt-campaign-parameters.js';
import { Random, streamSeed } from './prompt-campaign-random.js';
import { type CampaignTemplate, campaignTemplates, ordinaryTemplates } from './prompt-campaign-templates.js';

export {
  CAMPAIGN_SEED,
  CAMPAIGN_TEMPLATES,
  CHAT_MODEL,
  FILLERS_PER_SLOT,
  LARGE_PROMPTS,
  LARGE_TEMPLATES,
  LARGE_UNRELATED_SHARE,
  MAX_TEMPLATE_JACCARD,
  NOISE,
  PROMPTS_PER_TEMPLATE,
  TEMPLATE_PARTS,
  TEMPLATE_SHIFT,
  TEMPLATE_SLOTS,
  TEMPLATE_WORDS,
  TEMPLATES_PER_LAB,
  UNRELATED_PER_LAB,
} from './prompt-campaign-parameters.js';
export { Random, streamSeed } from './prompt-campaign-random.js';
export type { CampaignTemplate, Slot } from './prompt-campaign-templates.js';
export { campaignTemplates, ordinaryTemplates } from './prompt-campaign-templates.js';

export interface CampaignPrompt {
  id: string;
  text: string;
  /** The campaign template (`cot-3`) or everyday frame (`other-17`) it was made from; null: none. */
  template: string | null;
}

export interface LabLog {
  lab: string;
  /** The campaign templates this lab's log holds prompts of, in template order. */
  campaignTemplates: string[];
  prompts: CampaignPrompt[];
}

export interface CampaignOptions {
  seed?: number;
  labs?: number;
  templates?: number;
  templatesPerLab?: number;
  templateShift?: number;
  promptsPerTemplate?: number;
  unrelatedPerLab?: number;
}

export interface LargeLogOptions {
  seed?: number;
  prompts?: number;
  templates?: number;
  /** The share of the prompts that are everyday requests rather than the campaign's. */
  unrelatedShare?: number;
  lab?: string;
}

export function labName(lab: number): string {
  return `lab-${String.fromCharCode(97 + lab)}`;
}

/** The campaign templates lab k sees: a window of templatesPerLab from k × templateShift on, wrapping. */
export function labTemplateIndices(lab: number, options: CampaignOptions = {}): number[] {
  const count = options.templates ?? CAMPAIGN_TEMPLATES;
  const perLab = options.templatesPerLab ?? TEMPLATES_PER_LAB;
  const shift = options.templateShift ?? TEMPLATE_SHIFT;
  if (perLab > count) throw new RangeError(`${perLab} templates per lab of ${count}`);
  return Array.from({ length: perLab }, (_, i) => (lab * shift + i) % count).sort((x, y) => x - y);
}

/** Each lab's log: promptsPerTemplate prompts of each template it sees and its own everyday prompts, interleaved. */
export function campaignLogs(options: CampaignOptions = {}): LabLog[] {
  const seed = options.seed ?? CAMPAIGN_SEED;
  const labs = options.labs ?? 2;
  if (labs < 1 || labs > 26) throw new RangeError(`${labs} labs (1 to 26)`);
  const templates = campaignTemplates(seed, options.templates ?? CAMPAIGN_TEMPLATES);
  const frames = ordinaryTemplates(seed);
  return Array.from({ length: labs }, (_, lab) => {
    const random = new Random(streamSeed(seed, `lab/${lab}`));
    const seen = labTemplateIndices(lab, options).map((i) => templates[i] as CampaignTemplate);
    const drafts: Omit<CampaignPrompt, 'id'>[] = [];
    for (const template of seen) {
      for (let k = 0; k < (options.promptsPerTemplate ?? PROMPTS_PER_TEMPLATE); k++)
        drafts.push(promptOf(template, random));
    }
    for (let k = 0; k < (options.unrelatedPerLab ?? UNRELATED_PER_LAB); k++)
      drafts.push(promptOf(random.pick(frames), random));
    const name = labName(lab);
    return { lab: name, campaignTemplates: seen.map((t) => t.name), prompts: withIds(name, random.shuffle(drafts)) };
  });
}

/** The large mode: one lab's log of `prompts` prompts, each of a template drawn at random (or an everyday frame). */
export function campaignLog(options: LargeLogOptions = {}): LabLog {
  const seed = options.seed ?? CAMPAIGN_SEED;
  const templates = campaignTemplates(seed, options.templates ?? LARGE_TEMPLATES);
  const frames = ordinaryTemplates(seed);
  const share = options.unrelatedShare ?? LARGE_UNRELATED_SHARE;
  const random = new Random(streamSeed(seed, 'large'));
  const drafts: Omit<CampaignPrompt, 'id'>[] = [];
  for (let k = 0; k < (options.prompts ?? LARGE_PROMPTS); k++)
    drafts.push(promptOf(random.pick(random.chance(share) ? frames : templates), random));
  const name = options.lab ?? labName(0);
  return { lab: name, campaignTemplates: templates.map((t) => t.name), prompts: withIds(name, drafts) };
}

function promptOf(template: CampaignTemplate, random: Random): Omit<CampaignPrompt, 'id'> {
  return { text: renderPrompt(template, random), template: template.name };
}

/** Ids in log order, `lab-a-req-000001` …: unique within the log and across labs. */
function withIds(lab: string, drafts: Omit<CampaignPrompt, 'id'>[]): CampaignPrompt[] {
  return drafts.map((draft, i) => ({ id: `${lab}-req-${String(i + 1).padStart(6, '0')}`, ...draft }));
}

// ————— log formats —————

/** `{"kind":"prompt_template","value":…,"id":…}`: one line of the indicator JSON-lines format. */
export function indicatorLine(prompt: CampaignPrompt): string {
  return JSON.stringify({ kind: 'prompt_template', value: prompt.text, id: prompt.id });
}

const SYSTEM_PROMPTS = [
  'You are a helpful assistant.',
  'You are a helpful, harmless and honest assistant.',
  'Answer the user as accurately as possible.',
  'You are a concise assistant. Follow the instructions exactly.',
];

/** One OpenAI Chat Completions request body on one line; the prompt is the user message. */
export function chatLine(prompt: CampaignPrompt, model: string = CHAT_MODEL): string {
  const system = SYSTEM_PROMPTS[streamSeed(0, prompt.id) % SYSTEM_PROMPTS.length] as string;
  return JSON.stringify({
    id: prompt.id,
    model,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: prompt.text },
    ],
  });
}

/** A log's text in the indicator format, one line a prompt, each line ending in a newline. */
export function indicatorLines(prompts: readonly CampaignPrompt[]): string {
  return prompts.map((p) => `${indicatorLine(p)}\n`).join('');
}

/** A log's text as Chat Completions request bodies, one line a prompt, each line ending in a newline. */
export function chatLines(prompts: readonly CampaignPrompt[], model: string = CHAT_MODEL): string {
  return prompts.map((p) => `${chatLine(p, model)}\n`).join('');
}
