/**
 * `overlap simulate` with a lab whose every record is rejected (the issue: it exited 0, "0 shared"):
 * it exits 65 naming the lab, its file and its counts, before any lab runs, and writes no result;
 * with `--allow-empty` that lab joins with an empty set on purpose, the exchange runs, and nobody
 * shares anything with it. Each run is the real CLI in a child process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-simulate-empty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const labs = (a: string) => ['--lab', `lab-a=${a}`, '--lab', 'lab-b=b.txt', '--lab', 'lab-c=c.txt', '--kind', 'email'];

beforeAll(() => {
  // Not e-mail addresses: with --kind email, every one is rejected.
  writeFileSync(join(dir, 'a.txt'), 'alice at example dot com\n+44 20 7946 0000\nhttps://example.com/\n');
  writeFileSync(join(dir, 'blank.txt'), '');
  writeFileSync(join(dir, 'b.txt'), 'one@shared.example\nb-own@b.example\n');
  writeFileSync(join(dir, 'c.txt'), 'ONE@shared.example\nc-own@c.example\n');
});

describe('overlap simulate with a lab whose every record is rejected', () => {
  test('exits 65 naming the lab, its file and its counts; nothing is run or written', async () => {
    const out = join(dir, 'refused');
    const run = await runCli(['simulate', ...labs('a.txt'), '--out', out], { cwd: dir });
    expect(run.code, run.stderr).toBe(65);
    expect(run.stderr).toMatch(
      /lab-a: every one of the 3 records of \S*a\.txt was rejected \(first: line 1, [A-Z_]+\)/,
    );
    expect(run.stderr).toMatch(/--allow-empty/);
    // The others are not blamed, and no lab process ran anything.
    expect(run.stderr).not.toMatch(/lab-[bc]: every|lab-[bc]: \S+ has|read as|hashing|finished/);
    // No rejected value is echoed (they are suspects' data).
    expect(run.stderr).not.toMatch(/alice|7946|https/);
    expect(run.stderr).not.toMatch(/session [0-9a-f]{32} created/);
    for (const lab of ['lab-a', 'lab-b', 'lab-c']) expect(existsSync(join(out, `${lab}.results.jsonl`))).toBe(false);
  }, 180_000);

  test('an empty file is refused the same way', async () => {
    const run = await runCli(['simulate', ...labs('blank.txt'), '--out', join(dir, 'blank')], { cwd: dir });
    expect(run.code, run.stderr).toBe(65);
    expect(run.stderr).toMatch(/lab-a: \S*blank\.txt has no records/);
  }, 180_000);

  test('--allow-empty: that lab joins with an empty set and shares nothing; the others find what they share', async () => {
    const out = join(dir, 'allowed');
    const run = await runCli(['simulate', ...labs('a.txt'), '--allow-empty', '--out', out, '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/lab-a: every one of the 3 records .* it joins with an empty set \(--allow-empty\)/);
    const summary = JSON.parse(run.stdout) as { labs: { name: string; accepted: number; revealed: number }[] };
    expect(summary.labs.map((lab) => [lab.name, lab.accepted, lab.revealed])).toEqual([
      ['lab-a', 0, 0],
      ['lab-b', 2, 1],
      ['lab-c', 2, 1],
    ]);
    expect(readFileSync(join(out, 'lab-a.results.jsonl'), 'utf8')).toBe('');
    const b = readFileSync(join(out, 'lab-b.results.jsonl'), 'utf8').trim();
    expect(JSON.parse(b)).toMatchObject({ kind: 'email', value: 'one@shared.example', labs: ['lab-c'] });
  }, 240_000);
});
