/**
 * `overlap simulate` as a developer runs it, in a child process, from a folder that holds their
 * own `overlap.toml` and with their own OVERLAP_* variables set, all pointing elsewhere:
 *   - it says each of its own steps, and passes each lab's progress lines on with the lab's name;
 *   - the lab processes take nothing from that config file or those variables (a leaked setting
 *     would send them to a closed port, a bad worker count or another state directory);
 *   - the results still equal the plaintext intersection.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-simulate-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHARED = Array.from({ length: 40 }, (_, k) => `shared-${k}@progress.example`);
const own = (lab: string) => Array.from({ length: 60 }, (_, k) => `own-${lab}-${k}@progress.example`);

describe('overlap simulate, in a developer folder with its own settings', () => {
  test('prints its steps and each lab phase by name; the labs ignore the folder config and OVERLAP_* variables', async () => {
    // Spelled messily so that the lab's canonicalization, not this test, makes them match.
    writeFileSync(join(dir, 'a.txt'), `${[...SHARED.map((v) => v.toUpperCase()), ...own('a')].join('\n')}\n`);
    writeFileSync(join(dir, 'b.txt'), `${[...own('b'), ...SHARED.map((v) => ` ${v} `)].join('\n')}\n`);
    const leakedFile = join(dir, 'leaked-from-file');
    const leakedEnv = join(dir, 'leaked-from-env');
    writeFileSync(
      join(dir, 'overlap.toml'),
      `relay = "http://127.0.0.1:9"\nstate_dir = "${leakedFile}"\nworkers = 7\n[session]\nregion = "GB"\n`,
    );
    const other = join(dir, 'other.toml');
    writeFileSync(other, `relay = "http://127.0.0.1:9"\nstate_dir = "${leakedFile}"\n`);
    const out = join(dir, 'out');
    const run = await runCli(
      ['simulate', '--lab', 'lab-a=a.txt', '--lab', 'lab-b=b.txt', '--kind', 'email', '--out', out],
      {
        cwd: dir,
        env: {
          OVERLAP_CONFIG: other,
          OVERLAP_RELAY: 'http://127.0.0.1:9',
          OVERLAP_STATE_DIR: leakedEnv,
          OVERLAP_WORKERS: 'not-a-number',
          OVERLAP_RETRY_FOR: 'never',
          OVERLAP_REGION: 'GB',
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n');
    // simulate's own steps, in order.
    const steps = [
      /^overlap: 2 lab processes started/,
      /^overlap: relay started at http:\/\/127\.0\.0\.1:\d+/,
      /^overlap: labs enrolled: lab-a \(key [0-9a-f]+\), lab-b/,
      /^overlap: session [0-9a-f]{32} created: kinds email/,
      /^overlap: 2 lab processes running session/,
      /^overlap: transcript fetched: /,
    ];
    const at = steps.map((step) => lines.findIndex((line) => step.test(line)));
    expect(
      at.every((i) => i >= 0),
      run.stderr,
    ).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    // Each lab's own lines, passed on with its name, between the start of the run and the transcript.
    for (const lab of ['lab-a', 'lab-b']) {
      const own = lines.filter((line) => line.startsWith(`overlap: ${lab}: `));
      expect(
        own.some((line) => /blinding \d+ indicators/i.test(line)),
        run.stderr,
      ).toBe(true);
      expect(
        own.some((line) => /results/i.test(line)),
        run.stderr,
      ).toBe(true);
      expect(lines.indexOf(`overlap: ${lab} finished`)).toBeGreaterThan(at[4] as number);
      // Not doubled: the lab's own "overlap: " prefix is replaced by simulate's and the lab's name.
      expect(own.some((line) => line.startsWith(`overlap: ${lab}: overlap:`))).toBe(false);
    }
    expect(existsSync(leakedFile)).toBe(false);
    expect(existsSync(leakedEnv)).toBe(false);
    // Both labs found exactly the shared suspects (canonical: lowercase, trimmed).
    for (const [lab, other] of [
      ['lab-a', 'lab-b'],
      ['lab-b', 'lab-a'],
    ]) {
      const rows = readFileSync(join(out, `${lab}.results.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { kind: string; value: string; labs: string[] });
      expect(rows.map((row) => row.value).sort()).toEqual([...SHARED].sort());
      expect(rows.every((row) => row.kind === 'email' && row.labs.join() === other)).toBe(true);
    }
  }, 240_000);
});
