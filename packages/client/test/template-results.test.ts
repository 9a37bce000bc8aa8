/**
 * Prompt templates' results (template-results.ts): band rows gathered back into the lab's own
 * templates under each reveal policy, compared with a count made here from the rows; the results
 * document refuses a malformed template match; every output format shows the template's text and
 * figures, never a band value. Also readIndicatorFile: prompts collapsed into templates, whose
 * bands are the kind's set. The real exchange is test/prompt-templates.exchange.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize, PROMPT_TEMPLATE_PARAMETERS, promptBands } from '@overlap/indicators';
import { afterAll, describe, expect, test } from 'vitest';
import {
  formatResults,
  readIndicatorFile,
  type SessionOutcome,
  type SessionResults,
  sourcesOfReading,
  type TemplateOfFile,
  templateResults,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function template(text: string, line: number, prompts = 1): TemplateOfFile {
  const normalized = canonicalize('prompt_template', text);
  return { text: normalized, line, prompts, bands: promptBands(normalized) };
}

const cot = template('Articulate your internal reasoning step by step before answering', 1, 40);
const rubric = template('Grade the answer below against the rubric and reply with a score', 2, 7);
const outcome = (policy: SessionOutcome['policy'], rows: SessionOutcome['results']): SessionOutcome => ({
  session: '0'.repeat(32),
  policy,
  results: rows,
});

describe('templateResults', () => {
  test('labs: per other lab its bands matched; named where at or over t; other kinds untouched', () => {
    const rows = [
      { kind: 'email', value: 'a@example.com', labs: ['lab-b'] },
      ...cot.bands.slice(0, 20).map((value) => ({ kind: 'prompt_template', value, labs: ['lab-b', 'lab-c'] })),
      ...cot.bands.slice(20, 30).map((value) => ({ kind: 'prompt_template', value, labs: ['lab-b'] })),
      ...rubric.bands.slice(0, 5).map((value) => ({ kind: 'prompt_template', value, labs: ['lab-c'] })),
      { kind: 'url', value: 'http://x.example/', labs: ['lab-c'] },
    ];
    const got = templateResults({ templates: [cot, rubric] }, outcome({ kind: 'labs' }, rows));
    expect(got.results).toEqual([
      rows[0],
      {
        kind: 'prompt_template',
        value: cot.text,
        labs: ['lab-b', 'lab-c'],
        template: {
          bands: 64,
          prompts: 40,
          matched: { 'lab-b': 30, 'lab-c': 20 },
          jaccard: {
            'lab-b': Math.round(Math.sqrt(30 / 64) * 1000) / 1000,
            'lab-c': Math.round(Math.sqrt(20 / 64) * 1000) / 1000,
          },
        },
      },
      rows.at(-1),
    ]);
    // The rubric's 5 bands are under t = 10: no result. With t = 5 it is one, for lab-c only.
    const loose = templateResults({ templates: [cot, rubric] }, outcome({ kind: 'labs' }, rows), { minBands: 5 });
    expect(loose.results.find((r) => r.value === rubric.text)?.labs).toEqual(['lab-c']);
  });

  test('count: bands held by some lab, and how many labs hold its t-th most held band', () => {
    const rows = cot.bands.slice(0, 14).map((value, i) => ({ kind: 'prompt_template', value, count: i < 12 ? 2 : 1 }));
    const got = templateResults({ templates: [cot] }, outcome({ kind: 'count' }, rows));
    expect(got.results).toEqual([
      {
        kind: 'prompt_template',
        value: cot.text,
        count: 2,
        template: { bands: 64, prompts: 40, matched: 14, jaccard: Math.round(Math.sqrt(14 / 64) * 1000) / 1000 },
      },
    ]);
  });

  test('threshold: only templates with t revealed bands', () => {
    const rows = (n: number) => cot.bands.slice(0, n).map((value) => ({ kind: 'prompt_template', value }));
    const t = PROMPT_TEMPLATE_PARAMETERS.minBands;
    expect(templateResults({ templates: [cot] }, outcome({ kind: 'threshold', t: 3 }, rows(t - 1))).results).toEqual(
      [],
    );
    expect(templateResults({ templates: [cot] }, outcome({ kind: 'threshold', t: 3 }, rows(t))).results).toHaveLength(
      1,
    );
  });

  test('a band two templates share counts for both; a bad t is refused', () => {
    const twin = { ...rubric, bands: [...cot.bands.slice(0, 12), ...rubric.bands.slice(12)] };
    const rows = cot.bands.slice(0, 12).map((value) => ({ kind: 'prompt_template', value, labs: ['lab-b'] }));
    const got = templateResults({ templates: [cot, twin] }, outcome({ kind: 'labs' }, rows));
    expect(got.results.map((r) => r.value).sort()).toEqual([cot.text, rubric.text].sort());
    expect(() => templateResults({ templates: [cot] }, outcome({ kind: 'labs' }, rows), { minBands: 0 })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
  });

  test('a template of another band count (not of this rules version) is refused, naming its line', () => {
    const short = { ...cot, bands: cot.bands.slice(0, 32) };
    const rows = cot.bands.slice(0, 12).map((value) => ({ kind: 'prompt_template', value, labs: ['lab-b'] }));
    expect(() => templateResults({ templates: [short] }, outcome({ kind: 'labs' }, rows))).toThrow(
      expect.objectContaining({
        code: 'BAD_ARGUMENT',
        message: expect.stringContaining(`line ${cot.line} has 32 bands, not the 64`),
      }),
    );
  });
});

describe('results documents and formats with templates', () => {
  const doc = (results: unknown[]): SessionResults => ({
    session: 'a'.repeat(32),
    lab: 'lab-a',
    relay: 'overlap-relay/test',
    policy: { kind: 'labs' },
    finished: '2026-12-07T00:00:00Z',
    results: results as SessionResults['results'],
  });
  const good = {
    kind: 'prompt_template',
    value: cot.text,
    labs: ['lab-b'],
    template: { bands: 64, prompts: 40, matched: { 'lab-b': 30 }, jaccard: { 'lab-b': 0.685 } },
  };

  test('every format shows the text and the figures, never a band', () => {
    const jsonl = formatResults(doc([good]), 'jsonl');
    expect(JSON.parse(jsonl)).toEqual(good);
    const csv = formatResults(doc([good, { kind: 'email', value: 'a@example.com', labs: ['lab-b'] }]), 'csv');
    expect(csv.split('\r\n')).toEqual([
      'kind,value,labs,count,bands_matched,jaccard,prompts',
      'email,a@example.com,lab-b,,,,',
      `prompt_template,${cot.text},lab-b,,lab-b=30,lab-b=0.685,40`,
      '',
    ]);
    const stix = formatResults(doc([good]), 'stix');
    expect(stix).toContain('30 of 64 bands');
    for (const text of [jsonl, csv, stix]) for (const band of cot.bands) expect(text).not.toContain(band);
  });

  test.each([
    ['no template match', { ...good, template: undefined }, /needs its template's match/],
    ['matched over b', { ...good, template: { ...good.template, matched: { 'lab-b': 65 } } }, /matched\["lab-b"\]/],
    ['jaccard over 1', { ...good, template: { ...good.template, jaccard: { 'lab-b': 1.5 } } }, /jaccard\["lab-b"\]/],
    ['a named lab without figures', { ...good, labs: ['lab-b', 'lab-c'] }, /no figure for "lab-c"/],
    ['an unknown field', { ...good, template: { ...good.template, bandValues: [] } }, /unknown field\(s\) bandValues/],
    [
      'a template on another kind',
      { kind: 'email', value: 'a@example.com', labs: ['lab-b'], template: good.template },
      /present on a email result/,
    ],
  ])('refused: %s', (_name, result, message) => {
    expect(() => formatResults(doc([result]), 'jsonl')).toThrow(message);
  });
});

describe('readIndicatorFile with prompts', () => {
  test('prompts collapse into templates; their bands are the set, each traced to its template', async () => {
    const path = join(dir, 'prompts.jsonl');
    const prompts = [
      'Articulate your internal reasoning step by step before answering this question about cell biology. Give 3 steps, then a one-line answer.',
      'articulate your internal reasoning, step by step, before answering this question about the french revolution!! give 5 steps, then a one-line answer',
      'Plan a three day trip to Lisbon with a small budget',
      'Articulate your internal reasoning step by step before answering this question about cell biology. Give 3 steps, then a one-line answer.',
    ];
    writeFileSync(
      path,
      prompts
        .map((value, i) => JSON.stringify({ kind: 'prompt_template', value, ...(i === 2 && { id: 'p-3' }) }))
        .join('\n'),
    );
    const input = await readIndicatorFile(path);
    expect(input.templates?.map((t) => [t.line, t.prompts, t.id])).toEqual([
      [1, 3, undefined],
      [3, 1, 'p-3'],
    ]);
    const bands = new Set([...(input.templates ?? [])].flatMap((t) => t.bands));
    expect(new Set(input.sets.prompt_template)).toEqual(bands);
    expect(input.sets.prompt_template?.length).toBe(bands.size);
    const isolated = await readIndicatorFile(path, { isolate: true });
    expect(isolated.templates).toEqual(input.templates);
    expect(isolated.sets).toEqual(input.sets);
    // A template's result is found at its first prompt's line when no record has an id.
    const plain = join(dir, 'plain.jsonl');
    writeFileSync(plain, prompts.map((value) => JSON.stringify({ kind: 'prompt_template', value })).join('\n'));
    const read = await readIndicatorFile(plain);
    const sources = sourcesOfReading(read, [{ kind: 'prompt_template', value: read.templates?.[1]?.text ?? '' }]);
    expect([...(sources?.lines ?? [])]).toEqual([3]);
  });
});
