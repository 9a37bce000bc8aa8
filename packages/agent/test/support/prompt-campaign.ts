/**
 * A synthetic distillation campaign's prompt logs for two labs, with the generator's ground truth:
 * which template each prompt was made from. Each lab holds three templates, four variants of each
 * (a filler word, the numbering, a number and the case changed); two of the templates are held by
 * both labs, each in variants of its own. The templates share little vocabulary, so no two of them
 * collapse into one, and a variant of one matches no other.
 */
import { writeFileSync } from 'node:fs';

export const TEMPLATES = [
  'Articulate your internal reasoning step by step before answering the following question about cell biology. Number each step, and finally give a short answer of at most {n} sentences.',
  'You are a strict grader. Grade the answer below against this rubric and reply with a score from one to {n} together with one sentence of justification for the score you gave.',
  'Rewrite the following paragraph about medieval trade routes so that a ten year old understands it, keep every fact intact, and use no more than {n} short sentences in total.',
  'Act as a senior software engineer. Explain in detail, with the full chain of thought you used, how you would implement a distributed cache inside a large codebase, listing {n} concrete steps.',
] as const;

export type Lab = 'lab-a' | 'lab-b';

/** The templates each lab's prompts are made from: 0 and 1 are held by both. */
export const HELD: Readonly<Record<Lab, readonly number[]>> = { 'lab-a': [0, 1, 2], 'lab-b': [0, 1, 3] };
export const SHARED: readonly number[] = [0, 1];
export const VARIANTS = 4;

const FILLERS: Readonly<Record<Lab, readonly string[]>> = {
  'lab-a': ['Please', 'Kindly', 'Now', 'Carefully'],
  'lab-b': ['Quickly', 'Honestly', 'Simply', 'Again'],
};

export interface Prompt {
  id: string;
  value: string;
  /** The index in TEMPLATES of the template it was made from. */
  template: number;
}

/** Variant `k` of template `t` as `lab` logs it. */
function variant(lab: Lab, t: number, k: number): string {
  const base = (TEMPLATES[t] as string).replace('{n}', String(3 + k + (lab === 'lab-b' ? 4 : 0)));
  const filler = (FILLERS[lab][k] as string).toLowerCase();
  const text = `${k + 1}) ${FILLERS[lab][(k + t) % VARIANTS]}, ${base.charAt(0).toLowerCase()}${base.slice(1)} ${filler}!`;
  return k % 2 === 1 ? text.toUpperCase() : text;
}

/** A lab's prompts, interleaved as a log is: the first variant of every template, then the second, … */
export function promptsOf(lab: Lab): Prompt[] {
  const prompts: Prompt[] = [];
  for (let k = 0; k < VARIANTS; k++) {
    for (const t of HELD[lab]) prompts.push({ id: `${lab}-t${t}-v${k}`, value: variant(lab, t, k), template: t });
  }
  return prompts;
}

/** Writes `prompts` as JSON lines records of kind prompt_template (with an id each, and a context the reader drops). */
export function writePrompts(path: string, prompts: readonly Prompt[]): void {
  const lines = prompts.map((p, i) =>
    JSON.stringify({ kind: 'prompt_template', value: p.value, id: p.id, context: { account: `acct-${i}` } }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
}
