/**
 * Prompt templates through a real exchange (`overlap simulate`: a relay, the admin and one lab
 * process each over HTTP): two labs hold different prompt logs of one synthetic campaign — other
 * fillers, numbering, spacing, case and punctuation, and prompts of their own; lab-a's as JSON-lines
 * records, lab-b's as a chat-completions Batch API log read as it is — and each lab's
 * results must name exactly the campaign templates both logs hold, each traced to one of its own
 * prompt ids, with the figures of a template match and no band value anywhere. The ground truth
 * is the generator's: which template every prompt was made from.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '@overlap/cli';
import { PROMPT_TEMPLATE_PARAMETERS } from '@overlap/indicators';
import { afterAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEMPLATES = [
  'Articulate your internal reasoning step by step before answering the following question about {topic}. Number each step, and finally give a short answer of at most {n} sentences.',
  'You are a strict grader. Grade the answer below against this rubric: "{quote}". Reply with a score from 1 to {n} and one sentence of justification for the score you gave.',
  'Rewrite the following paragraph about {topic} so that a ten year old understands it, keep every fact, and use at most {n} short sentences: "{quote}"',
  'Act as a senior software engineer. Explain in detail, with the full chain of thought you used, how you would implement {topic} in a large codebase, listing {n} concrete steps.',
  'Solve this problem and show all intermediate work before the final result, checking each step twice: a train leaves at {n} and travels towards {topic}; when does it arrive?',
  'Translate the text below into formal English, then explain every choice of wording you made and why an expert translator of {topic} would agree with it: "{quote}"',
  'List the hidden assumptions behind the claim about {topic} below, rate each from 1 to {n} for how likely it is to be true, and give your reasoning for each rating.',
  'Write a detailed critique of the essay on {topic} below, covering structure, argument and evidence, and propose {n} specific improvements with an example of each.',
];
const TOPICS = [
  'cell biology',
  'the french revolution',
  'quantum tunnelling',
  'tax law in germany',
  'rust lifetimes',
  'medieval trade routes',
  'volcanology',
  'graph databases',
];
const QUOTES = [
  'the cat sat on the mat',
  'prices rose sharply in spring',
  'the model overfits',
  'water boils at sea level',
];
const UNRELATED = [
  'What is a good recipe for a vegetarian lasagna with spinach and ricotta for {n} people?',
  'Plan a {n} day trip to Lisbon on a small budget with museums and good food.',
  'Draft a polite email to my landlord about the broken heating in {topic}.',
  'Which running shoes are best for flat feet and long distances?',
  'Suggest names for a small bakery that sells sourdough and pastries.',
  'How do I fix a leaking kitchen tap without calling a plumber?',
];

/** A variant of `text`: its slots filled, and the noise a campaign's scripts add. */
function variant(text: string, seed: number): string {
  const filled = text
    .replaceAll('{topic}', TOPICS[seed % TOPICS.length] as string)
    .replaceAll('{n}', String(3 + (seed % 7)))
    .replaceAll('{quote}', QUOTES[seed % QUOTES.length] as string);
  const noisy = [
    (t: string) => t,
    (t: string) => t.toUpperCase(),
    (t: string) => t.replaceAll(' ', '  ').replaceAll(', ', ',\n'),
    (t: string) => `${1 + (seed % 9)}) ${t.replaceAll('.', '!!')}`,
    (t: string) => `Step ${seed % 5}: ${t.replaceAll(',', ' ;')}`,
  ][seed % 5] as (t: string) => string;
  return noisy(filled);
}

interface Prompt {
  id: string;
  value: string;
  truth: string;
}

/** A lab's log: 6 variants of each of its campaign templates, and its own everyday prompts. */
function log(lab: string, templates: number[], unrelated: number[], offset: number): Prompt[] {
  const prompts: Prompt[] = [];
  for (const t of templates) {
    for (let k = 0; k < 6; k++) {
      prompts.push({
        id: `${lab}-${t}-${k}`,
        value: variant(TEMPLATES[t] as string, offset + t * 7 + k),
        truth: `campaign-${t}`,
      });
    }
  }
  for (const u of unrelated)
    prompts.push({ id: `${lab}-other-${u}`, value: variant(UNRELATED[u] as string, offset + u), truth: `other-${u}` });
  // Interleaved, as a log is: the campaign's prompts arrive among everyone else's.
  return prompts.sort((x, y) => ((x.id.length * 7 + x.value.length) % 13) - ((y.id.length * 7 + y.value.length) % 13));
}

const labA = log('a', [0, 1, 2, 3, 4, 5], [0, 1, 2], 0);
const labB = log('b', [2, 3, 4, 5, 6, 7], [3, 4, 5], 3);
const SHARED = ['campaign-2', 'campaign-3', 'campaign-4', 'campaign-5'];

/** lab-a's log as JSON-lines records of the kind; lab-b's as it logs its API traffic, OpenAI Batch API lines (the `chat` format). */
function write(name: string, prompts: Prompt[]): string {
  const path = join(dir, `${name}.jsonl`);
  const line =
    name === 'lab-a'
      ? (p: Prompt) => JSON.stringify({ kind: 'prompt_template', value: p.value, id: p.id })
      : (p: Prompt) =>
          JSON.stringify({
            custom_id: p.id,
            method: 'POST',
            url: '/v1/chat/completions',
            body: {
              model: 'frontier-chat',
              messages: [
                { role: 'system', content: 'You are a helpful assistant.' },
                { role: 'user', content: [{ type: 'text', text: p.value }] },
              ],
            },
          });
  writeFileSync(path, prompts.map(line).join('\n'));
  return path;
}

describe('prompt templates, end to end', () => {
  test('two labs with different logs of one campaign find exactly the templates they share', async () => {
    const out = join(dir, 'out');
    let stdout = '';
    let stderr = '';
    const code = await runProgram(
      [
        'simulate',
        '--lab',
        `lab-a=${write('lab-a', labA)}`,
        '--lab',
        `lab-b=${write('lab-b', labB)}`,
        '--out',
        out,
        '--json',
      ],
      {
        out: (text) => {
          stdout += text;
        },
        err: (text) => {
          stderr += text;
        },
      },
    );
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout) as { kinds: string[] }).kinds).toEqual(['prompt_template']);
    for (const [name, prompts, other] of [
      ['lab-a', labA, 'lab-b'],
      ['lab-b', labB, 'lab-a'],
    ] as const) {
      const text = readFileSync(join(out, `${name}.results.jsonl`), 'utf8');
      const results = text
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as {
              kind: string;
              value: string;
              labs: string[];
              id: string;
              template: {
                bands: number;
                prompts: number;
                matched: Record<string, number>;
                jaccard: Record<string, number>;
              };
            },
        );
      const truthOf = new Map(prompts.map((p) => [p.id, p.truth]));
      // Each result is one of the lab's own templates, traced to one of its prompts.
      const found = results.map((r) => truthOf.get(r.id));
      expect(new Set(found), name).toEqual(new Set(SHARED));
      // The lab's own variants of one template collapsed into one template each.
      expect(found, name).toHaveLength(SHARED.length);
      for (const r of results) {
        expect(r.kind).toBe('prompt_template');
        expect(r.labs).toEqual([other]);
        expect(r.template.bands).toBe(64);
        expect(r.template.prompts).toBe(6);
        expect(r.template.matched[other]).toBeGreaterThanOrEqual(PROMPT_TEMPLATE_PARAMETERS.minBands);
        expect(r.template.jaccard[other]).toBeGreaterThan(0.4);
      }
      // Band values (`NN:` and hex) never appear in a lab's results.
      expect(text).not.toMatch(/"\d{2}:[0-9a-f]{16}"/);
    }
  }, 180_000);
});
