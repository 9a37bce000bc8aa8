/**
 * The README's main job: `overlap demo` runs a real three-lab exchange over examples/data and ends
 * with a passing audit. What each lab learns must be exactly what examples/data/expected.json says
 * the `labs` policy reveals (computed from the plaintext when the data was generated).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '@overlap/cli';
import { afterAll, expect, test } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'overlap-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Expected {
  labs: Record<string, { accepted: number; rejected: number; kinds: Record<string, { held_by_another_lab: number }> }>;
}

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
      .map((line) => JSON.parse(line) as { kind: string; labs: string[] });
    for (const [kind, counts] of Object.entries(facts.kinds)) {
      expect(rows.filter((r) => r.kind === kind).length, `${lab} ${kind}`).toBe(counts.held_by_another_lab);
    }
    expect(rows.every((r) => r.labs.length > 0 && !r.labs.includes(lab))).toBe(true);
  }
}, 180_000);
