/**
 * `overlap simulate` refuses what no run could do with its exit code and words. The labs' count,
 * repeated names and files are checked before a lab process is started; the names' form and the
 * policy only once the simulation is loaded, after the lab processes started (so that they load
 * while it does): then they are stopped. Either way nothing is left behind: no process still running with the test's own
 * temporary directory in its environment (read from /proc: Linux), and no working folder in it.
 * The real CLI in a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-simulate-mistakes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'a.txt'), 'one@shared.example\n');
writeFileSync(join(dir, 'b.txt'), 'one@shared.example\n');

/** Processes (of this user: /proc/PID/environ is readable for those only) whose environment holds `entry`. */
function processesWith(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) found.push(Number(name));
    } catch {
      // Another user's process, or one that just exited.
    }
  }
  return found;
}

test('processesWith finds a running process by its environment (else the check below proves nothing)', async () => {
  const entry = `TMPDIR=${join(dir, 'probe')}`;
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    env: { ...process.env, TMPDIR: join(dir, 'probe') },
    stdio: 'ignore',
  });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    expect(processesWith(entry)).toContain(child.pid);
  } finally {
    child.kill();
  }
});

const manyLabs = Array.from({ length: 65 }, (_, i) => ['--lab', `lab-${i}=a.txt`]).flat();

describe('overlap simulate refuses, and leaves nothing behind', () => {
  test.each([
    [
      'a missing file',
      ['--lab', 'lab-a=a.txt', '--lab', 'lab-b=missing.txt'],
      66,
      /lab-b: cannot read \S*missing\.txt/,
      false,
    ],
    [
      'a bad lab name',
      ['--lab', 'Lab A=a.txt', '--lab', 'lab-b=b.txt'],
      64,
      /lab name "Lab A" is not a lab id: 1 to 63 of a-z/,
      true,
    ],
    ['a lab given twice', ['--lab', 'lab-a=a.txt', '--lab', 'lab-a=b.txt'], 64, /lab lab-a is given twice/, false],
    [
      'too many witnesses',
      ['--lab', 'lab-a=a.txt', '--lab', 'lab-b=b.txt', '--witnesses', '9'],
      64,
      /--witnesses must be a whole number from 0 to 8/,
      false,
    ],
    ['one lab', ['--lab', 'lab-a=a.txt'], 64, /at least two --lab/, false],
    ['65 labs', manyLabs, 64, /at most 64 labs, got 65/, false],
    [
      'a bad policy',
      ['--lab', 'lab-a=a.txt', '--lab', 'lab-b=b.txt', '--reveal', 'everything'],
      64,
      /--reveal: /,
      true,
    ],
  ] as const)(
    '%s',
    async (_label, args, code, message, labsStarted) => {
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const run = await runCli(['simulate', ...args, '--kind', 'email', '--out', join(dir, 'out')], {
        cwd: dir,
        env: { TMPDIR: tmp },
      });
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/relay started|session [0-9a-f]{32} created/);
      if (labsStarted) expect(run.stderr).toMatch(/2 lab processes started/);
      else expect(run.stderr).not.toMatch(/lab processes started/);
      // The CLI waits for the lab processes it stopped: none is left once it has exited.
      expect(processesWith(`TMPDIR=${tmp}`)).toEqual([]);
      // (tsx, which runs the CLI from source here, keeps its cache there too.)
      expect(readdirSync(tmp).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
    },
    120_000,
  );
});
