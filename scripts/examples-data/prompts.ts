/**
 * The prompts of a synthetic distillation campaign in the example data (kind `prompt_template`),
 * with the ground truth of which template each prompt was made from. Eight extraction templates
 * (chain-of-thought elicitation, rubric grading, rewrites, agentic tool-use traces, …), each filled
 * several times per lab with other fillers, a word or two changed, and a campaign script's noise
 * (numbering, case, white space, punctuation, quote marks); four of them reach both lab-a and
 * lab-b, two each only one. Among them, each lab's own everyday prompts, one of each. lab-c's STIX
 * bundle cannot carry prompts, so it has none.
 *
 * The templates are written to be far apart (few words in common) and the instances of one
 * template close (only fillers and a word or two differ), so that which templates the labs share
 * does not depend on the MinHash parameters (shingle size, the band threshold t): templates.ts
 * checks that for several settings. Every prompt is synthetic: the fillers are made up, links
 * are under example.com (RFC 2606).
 */
import { normalizePromptText } from '@overlap/indicators';
import type { LabName } from './plan.js';
import { Prng } from './prng.js';

/** The labs whose formats carry prompt records (CSV and JSONL; STIX does not). */
export const PROMPT_LABS = ['lab-a', 'lab-b'] as const satisfies readonly LabName[];
export type PromptLab = (typeof PROMPT_LABS)[number];

export interface CampaignTemplate {
  /** The ground truth's name of the template. */
  name: string;
  /** What it extracts, for the README. */
  what: string;
  /** `{slot}` filled from SLOTS, `[a|b|c]` one of the words, per instance. */
  frame: string;
  labs: readonly PromptLab[];
}

export const CAMPAIGN: readonly CampaignTemplate[] = [
  {
    name: 'step-by-step',
    what: 'chain-of-thought elicitation',
    frame:
      '[Explain|Show|Lay out] your reasoning step by step before you answer the question below about {topic}. Write out every intermediate thought, number each step, state any assumption you rely on, and only then give a final answer of at most {n} sentences.',
    labs: ['lab-a', 'lab-b'],
  },
  {
    name: 'rubric-grading',
    what: 'rubric grading',
    frame:
      'You are a strict grader. Score the response below against this rubric: {rubric}. Use a scale from {n} to {n}, justify [every|each] point you deduct, and list which criteria {audience} would say the response fails to meet. Response: {response}',
    labs: ['lab-a', 'lab-b'],
  },
  {
    name: 'rewrite',
    what: 'rewrite requests',
    frame:
      'Rewrite the following passage on {topic} so that {audience} can follow it easily. Keep all facts intact but change the wording completely, and return three alternative versions ranked by clarity, [shortest|simplest|clearest] first: {passage}',
    labs: ['lab-a', 'lab-b'],
  },
  {
    name: 'agent-trace',
    what: 'agentic tool-use traces',
    frame:
      'You are an autonomous coding agent working in the repository at {url}. Plan the change {change} to {task}, then print each tool call you would make, the output you expect from it, and how you [verify|check|confirm] the result before moving on.',
    labs: ['lab-a', 'lab-b'],
  },
  {
    name: 'expert-persona',
    what: '"act as an expert" explanations',
    frame:
      'Act as a world-class expert in {topic}. Describe in exhaustive detail how you would approach this problem, including hidden considerations a novice misses and mistakes that even seasoned professionals [commonly|often|routinely] make.',
    labs: ['lab-a'],
  },
  {
    name: 'self-critique',
    what: 'self-critique and revision',
    frame:
      'Reply to this prompt on {topic}, then critique your own reply as a skeptical reviewer would, identify its weaknesses, and produce an improved version that [fixes|repairs|addresses] every weakness you found.',
    labs: ['lab-a'],
  },
  {
    name: 'qa-pairs',
    what: 'synthetic training pairs',
    frame:
      'Generate {n} diverse question and answer pairs about {topic} suitable for fine-tuning a smaller model; vary the difficulty, include a detailed explanation with [every|each] answer, and output them as JSON lines.',
    labs: ['lab-b'],
  },
  {
    name: 'translate-explain',
    what: 'translations with their reasons',
    frame:
      'Translate this excerpt into {language}: {excerpt}. Afterwards [justify|defend|motivate] your terminology decisions one by one, citing idioms, register and cultural nuance that professional translators weigh.',
    labs: ['lab-b'],
  },
];

/** Everyday requests, one prompt each: lab-a gets the first ten, lab-b the others. */
export const ORDINARY: readonly string[] = [
  'What is a good vegetarian lasagna recipe with spinach and ricotta for {n} hungry guests?',
  'Plan a {n} day trip to Lisbon on a small budget, with museums, tram rides and cheap seafood.',
  'Draft a polite email to my landlord about the broken heating in our flat since Monday.',
  'Which running shoes suit flat feet on long distances, and how often should they be replaced?',
  'Suggest catchy names for a small bakery selling sourdough loaves, croissants and cinnamon buns.',
  'How do I fix a leaking kitchen tap myself without calling a plumber?',
  'Summarize the plot of Moby Dick in one paragraph, without spoilers about Ahab.',
  'Convert {n} degrees Fahrenheit to Celsius and show the formula.',
  'Write a birthday poem for my grandmother who loves gardening, roses and crossword puzzles.',
  'What are the official rules of pickleball, including serving and the kitchen zone?',
  'Help me write a cover letter for a junior accountant position at a logistics company.',
  'Recommend three science fiction novels similar to Dune, preferably with desert planets.',
  'Why is the sky blue during the day but red at sunset? Keep it simple.',
  'Weekly home workout schedule for beginners without equipment, thirty minutes daily.',
  'Packing list for a winter hiking weekend between Alpine mountain huts?',
  'Ideal boiling time for soft eggs with runny yolks at high altitude?',
  'Roth IRA versus traditional IRA: which suits retirement savings better?',
  'Compose a short wedding toast honoring my older brother and his new wife Maya.',
  'Which houseplants survive in low light, like a north facing bathroom?',
  'Tips for sleeping better when working rotating night shifts at a hospital?',
];

const ORDINARY_OF: Record<PromptLab, readonly string[]> = {
  'lab-a': ORDINARY.slice(0, 10),
  'lab-b': ORDINARY.slice(10),
};

const SLOTS: Record<string, readonly string[]> = {
  topic: [
    'cell biology',
    'revolutionary France',
    'quantum tunnelling',
    'german tax law',
    'medieval trade routes',
    'volcanic eruptions',
    'graph databases',
    'protein folding',
    'monetary policy',
    'plate tectonics',
    'compiler optimization',
    'roman history',
    'organic chemistry',
    'game theory',
  ],
  audience: ['children', 'executives', 'students', 'nurses', 'beginners', 'journalists'],
  task: [
    'the billing module',
    'the search index',
    'the payment retries',
    'the login flow',
    'the nightly export',
    'the cache layer',
  ],
  language: ['French', 'German', 'Japanese', 'Brazilian Portuguese', 'Korean', 'Turkish', 'Polish'],
  rubric: ['clear, correct and complete', 'cite at least two sources', 'accuracy matters more than style'],
  response: [
    'the mitochondria is the powerhouse of the cell',
    'prices rose sharply in spring because demand grew',
    'photosynthesis turns light into sugar',
  ],
  passage: [
    'cells divide by mitosis after copying their chromosomes',
    'the treaty ended a long and costly war',
    'interest rates rise when inflation runs hot',
  ],
  change: ['add retries with backoff', 'rename the config flag', 'drop the legacy endpoint', 'cache the user lookup'],
  excerpt: [
    'we ship on friday',
    'the meeting moved to noon',
    'thank you for your patience',
    'the river froze overnight',
  ],
};

/** Instances of each campaign template per lab. */
export const INSTANCES = { min: 5, max: 8 } as const;

export interface PlannedPrompt {
  /** The lab's own request id (never sent; results show it). */
  id: string;
  /** The prompt as the lab's log holds it. */
  text: string;
  /** The ground truth: the campaign template's name, or `ordinary-N` for an everyday request. */
  template: string;
}

export type PromptPlan = Record<PromptLab, PlannedPrompt[]>;

/** Slots written as a quoted span (which the normalization masks as one placeholder). */
const QUOTED_SLOTS: ReadonlySet<string> = new Set(['rubric', 'response', 'passage', 'change', 'excerpt']);

/** A quoted span in one of the quote marks the normalization masks. */
function quoted(rng: Prng, text: string): string {
  return rng.pick([`"${text}"`, `"${text}"`, `“${text}”`, `«${text}»`]); // straight quotes half the time
}

function fill(rng: Prng, frame: string): string {
  return frame
    .replace(/\[([^\]]+)\]/g, (_, options: string) => rng.pick(options.split('|')))
    .replace(/\{(\w+)\}/g, (_, slot: string) => {
      if (slot === 'n') return String(rng.between(2, 12));
      if (slot === 'url') return `https://git.example.com/${rng.pick(['acme', 'infra', 'labs'])}/${rng.hex(6)}`;
      const values = SLOTS[slot];
      if (values === undefined) throw new Error(`no filler for {${slot}}`);
      const value = rng.pick(values);
      return QUOTED_SLOTS.has(slot) ? quoted(rng, value) : value;
    });
}

const titleCase = (text: string) => text.replace(/\b\p{L}/gu, (c) => c.toUpperCase());

/**
 * A campaign script's noise: numbering, case, white space and punctuation, none of which changes a
 * word (the normalization masks numbers and drops the rest). `lineBreaks`: whether the file can
 * hold a prompt of several lines (JSONL can; lab-a's CSV is kept to one line a record).
 */
function noisy(rng: Prng, text: string, lineBreaks: boolean): string {
  let out = text;
  out = rng.pick<(t: string) => string>([
    (t) => t,
    (t) => t,
    (t) => `${rng.between(1, 40)}. ${t}`,
    (t) => `(${rng.between(1, 40)}) ${t}`,
    (t) => `#${rng.between(100, 999)} ${t}`,
  ])(out);
  out = rng.pick<(t: string) => string>([
    (t) => t,
    (t) => t,
    (t) => t.toUpperCase(),
    (t) => t.toLowerCase(),
    titleCase,
  ])(out);
  out = rng.pick<(t: string) => string>([
    (t) => t,
    (t) => t.replaceAll(', ', ',  ').replaceAll('. ', '.   '),
    (t) => t.replaceAll(' ', '  '),
    (t) => `  ${t.replaceAll(': ', ':\t')} `,
    (t) => (lineBreaks ? t.replaceAll('. ', '.\n') : `${t}\t`),
  ])(out);
  out = rng.pick<(t: string) => string>([
    (t) => t,
    (t) => t.replaceAll(',', ''),
    (t) => t.replace(/\.(\s|$)/g, '!$1'),
    (t) => `${t} ???`,
    (t) => t.replaceAll(', ', ' — '),
    (t) => t.replace(/([,.:;?])(\s|$)/g, ' $1$2'),
  ])(out);
  return out;
}

/** Each lab's prompts, shuffled (files.ts scatters them among its other records), with the template each was made from. */
export function planPrompts(): PromptPlan {
  const plan = {} as PromptPlan;
  // Normalized texts drawn so far, in either lab: no prompt is an exact copy of another.
  const seen = new Set<string>();
  for (const lab of PROMPT_LABS) {
    const rng = new Prng(`prompts:${lab}`);
    const lineBreaks = lab === 'lab-b';
    const prompts: Omit<PlannedPrompt, 'id'>[] = [];
    const add = (text: string, template: string) => {
      // Each prompt normalizes to a text of its own: a repeat would be a duplicate record, and
      // the same text in two labs would be found by exact matching, not as a template.
      const normalized = normalizePromptText(text);
      if (seen.has(normalized)) return false;
      seen.add(normalized);
      prompts.push({ text, template });
      return true;
    };
    for (const template of CAMPAIGN.filter((t) => t.labs.includes(lab))) {
      const count = rng.between(INSTANCES.min, INSTANCES.max);
      for (let made = 0, tries = 0; made < count; tries++) {
        if (tries > 100) throw new Error(`${lab}: cannot draw ${count} distinct prompts of ${template.name}`);
        if (add(noisy(rng, fill(rng, template.frame), lineBreaks), template.name)) made++;
      }
    }
    for (const frame of ORDINARY_OF[lab]) {
      const template = `ordinary-${ORDINARY.indexOf(frame)}`;
      if (!add(noisy(rng, fill(rng, frame), lineBreaks), template)) throw new Error(`${lab}: ${template} repeats`);
    }
    const ids = new Set<string>();
    const id = (): string => {
      const candidate = lab === 'lab-a' ? `req-${rng.hex(10)}` : `chatcmpl-${rng.hex(12)}`;
      if (ids.has(candidate)) return id();
      ids.add(candidate);
      return candidate;
    };
    // Interleaved, as a log is: the campaign's prompts arrive among everyone else's.
    plan[lab] = rng.shuffle(prompts).map((p) => ({ id: id(), ...p }));
  }
  return plan;
}

/** The templates each lab's prompts were made from, and the labs holding each (the ground truth). */
export function plannedHolders(plan: PromptPlan): Map<string, PromptLab[]> {
  const holders = new Map<string, PromptLab[]>();
  for (const lab of PROMPT_LABS) {
    for (const template of new Set(plan[lab].map((p) => p.template))) {
      holders.set(template, [...(holders.get(template) ?? []), lab]);
    }
  }
  return holders;
}
