/**
 * `overlap simulate` refuses what no run could do (a missing file, a bad lab name, a lab given
 * twice, a bad policy) with its exit code and words — and, since it starts the lab processes before
 * it checks anything (so that they load while it does), it leaves nothing behind: no lab process
 * still running and no working folder in the temporary directory. The real CLI in a child process,
 * with a temporary directory of the test's own.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-simulate-mistakes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'a.txt'), 'one@shared.example\n');
writeFileSync(join(dir, 'b.txt'), 'one@shared.example\n');

describe('overlap simulate refuses, and leaves nothing behind', () => {
  test.each([
    [
      'a missing file',
      ['--lab', 'lab-a=a.txt', '--lab', 'lab-b=missing.txt'],
      66,
      /lab-b: cannot read \S*missing\.txt/,
    ],
    ['a bad lab name', ['--lab', 'Lab A=a.txt', '--lab', 'lab-b=b.txt'], 64, /lab name "Lab A": lowercase letters/],
    ['a lab given twice', ['--lab', 'lab-a=a.txt', '--lab', 'lab-a=b.txt'], 64, /lab lab-a is given twice/],
    ['a bad policy', ['--lab', 'lab-a=a.txt', '--lab', 'lab-b=b.txt', '--reveal', 'everything'], 64, /--reveal: /],
  ] as const)(
    '%s',
    async (_label, args, code, message) => {
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const run = await runCli(['simulate', ...args, '--kind', 'email', '--out', join(dir, 'out')], {
        cwd: dir,
        env: { TMPDIR: tmp },
      });
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/relay started|session [0-9a-f]{32} created/);
      // The lab processes were started, then stopped and waited for; their working folder removed.
      expect(run.stderr).toMatch(/2 lab processes started/);
      // (tsx, which runs the CLI from source here, keeps its cache there too.)
      expect(readdirSync(tmp).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
    },
    120_000,
  );
});
