/**
 * The README's main job: `overlap demo` runs a real three-lab exchange over examples/data and ends
 * with a passing audit. What each lab learns must be exactly what examples/data/expected.json says
 * the `labs` policy reveals (computed from the plaintext when the data was generated): per kind the
 * values another lab holds, and of its prompts one result per template another lab holds, traced
 * to the lab's own first prompt of it. No band value of a template appears in any output.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '@overlap/cli';
import { PROMPT_TEMPLATE_PARAMETERS } from '@overlap/indicators';
import { afterAll, expect, test } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'overlap-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface SharedTemplate {
  id: string;
  line: number;
  prompts: number;
  labs: string[];
}

interface Expected {
  labs: Record<string, { accepted: number; rejected: number; kinds: Record<string, { held_by_another_lab: number }> }>;
  prompt_templates: { labs: Record<string, { prompts: number; templates: number; shared: SharedTemplate[] }> };
}

interface Row {
  kind: string;
  value: string;
  labs: string[];
  line?: number;
  id?: string;
  template?: { prompts: number; matched: Record<string, number> };
}

/** A band value as the exchange sends it (`jj:` and the rows in hex): never shown to anyone. */
const BAND = /\b\d{2}:[0-9a-f]{16}/;

test('the demo reveals exactly the planted overlaps to each lab and ends with a passing audit', async () => {
  let stdout = '';
  let stderr = '';
  const code = await runProgram(['demo', '--out', out], {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  expect(code, stderr).toBe(0);
  expect(stdout).toMatch(/Demo done in [\d.]+ s: every result came from a real exchange, and the audit passed\./);
  expect(stdout).not.toContain('FAIL');
  const expected = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'examples', 'data', 'expected.json'), 'utf8'),
  ) as Expected;
  for (const [lab, facts] of Object.entries(expected.labs)) {
    const rows = readFileSync(join(out, `${lab}.results.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row);
    for (const [kind, counts] of Object.entries(facts.kinds)) {
      expect(rows.filter((r) => r.kind === kind).length, `${lab} ${kind}`).toBe(counts.held_by_another_lab);
    }
    expect(rows.every((r) => r.labs.length > 0 && !r.labs.includes(lab))).toBe(true);

    // Prompts: one result per template another lab holds, each the lab's own template (its first
    // prompt's line and id), standing for as many of its prompts as planned, held by the planned labs.
    const templates = expected.prompt_templates.labs[lab];
    if (templates === undefined) throw new Error(`expected.json has no prompt templates of ${lab}`);
    const found = rows
      .filter((r) => r.kind === 'prompt_template')
      .map((r) => ({ id: r.id, line: r.line, prompts: r.template?.prompts, labs: r.labs }))
      .sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
    expect(found, `${lab} prompt_template`).toEqual(templates.shared);
    for (const r of rows.filter((r) => r.kind === 'prompt_template')) {
      for (const other of r.labs) {
        expect(r.template?.matched[other], `${lab} ${r.id}`).toBeGreaterThanOrEqual(
          PROMPT_TEMPLATE_PARAMETERS.minBands,
        );
      }
    }
    // The summary counts templates, not bands: `revealed / held`.
    expect(stdout).toContain(`${templates.shared.length} / ${templates.templates} templates`);
  }
  expect(
    Object.values(expected.prompt_templates.labs).some((t) => t.shared.length > 0),
    'the demo has shared templates',
  ).toBe(true);
  // "Who shares which suspects" counts each lab's own templates once, not once per lab that reports them.
  const a = expected.prompt_templates.labs['lab-a']?.shared.length;
  expect(a).toBe(expected.prompt_templates.labs['lab-b']?.shared.length);
  expect(stdout).toMatch(new RegExp(`prompt_template +lab-a \\+ lab-b: ${a} templates\n`));
  // No band value anywhere: not in what the demo prints, nor in any file it writes.
  expect(stdout).not.toMatch(BAND);
  expect(stderr).not.toMatch(BAND);
  for (const name of readdirSync(out, { recursive: true, encoding: 'utf8' })) {
    let text: string;
    try {
      text = readFileSync(join(out, name), 'latin1');
    } catch {
      continue; // a folder
    }
    expect(text, name).not.toMatch(BAND);
  }
}, 180_000);
