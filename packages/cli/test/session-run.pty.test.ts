/**
 * `overlap session run` at a terminal (a pseudo-terminal, driven by support/pty-drive.py): the
 * progress is a bar rewritten in place, and Ctrl-C — typed, so the terminal sends SIGINT — stops
 * the run, says what was kept and how to resume, and exits 130. Then the same command, run again,
 * resumes from the state kept (and says so) and finishes with the plaintext truth.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliArgs, cliEnv, runCli } from './support/cli-process.js';
import { type Forum, freePort, startForum } from './support/lab-forum.js';

const DRIVER = fileURLToPath(new URL('./support/pty-drive.py', import.meta.url));

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south']);
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

/** Runs the CLI under a pseudo-terminal; Ctrl-C is typed once the output matches `ctrlCOn`. */
function atTerminal(args: string[], cwd: string, ctrlCOn?: RegExp): Promise<{ code: number | null; screen: string }> {
  const driverArgs = [DRIVER, '--timeout', '240', ...(ctrlCOn ? ['--ctrl-c-on', ctrlCOn.source] : [])];
  const child = spawn('python3', [...driverArgs, '--', process.execPath, ...cliArgs(args)], { cwd, env: cliEnv() });
  let screen = '';
  child.stdout.on('data', (data: Buffer) => {
    screen += data.toString();
  });
  child.stderr.on('data', (data: Buffer) => {
    screen += data.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

const values = (lab: string, n: number, shared: number) =>
  Array.from({ length: n }, (_, i) => (i < shared ? `shared${i}@pty.example` : `${lab}${i}@pty.example`));

test('a bar at a terminal; Ctrl-C keeps the state, says how to resume and exits 130; the same command resumes', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = forum.labs.north?.dir as string;
  const south = forum.labs.south?.dir as string;
  writeFileSync(join(north, 'suspects.txt'), `${values('north', 5000, 40).join('\n')}\n`);
  writeFileSync(join(south, 'suspects.txt'), `${values('south', 300, 40).join('\n')}\n`);
  const runArgs = forum.runArgs('north', session);

  // South has not started: north uploads, then waits for it; Ctrl-C there.
  const interrupted = await atTerminal(runArgs, north, /waiting for the other labs/);
  expect(interrupted.code, interrupted.screen).toBe(130);
  // A bar, redrawn in place (carriage return, erase line), with the chunk counts.
  const ERASE_LINE = '\r\u001b[2K';
  expect(interrupted.screen).toContain(`${ERASE_LINE}uploading chunks [`);
  expect(interrupted.screen).toMatch(/uploading chunks \[[#-]{24}\] \d+\/\d+ chunks \(\d+%\)/);
  const state = join(north, '.overlap', 'lab', `${session}.state`);
  expect(interrupted.screen).toContain(`interrupted: state kept in ${state}; run the same command again to resume`);
  expect(interrupted.screen).toContain(`overlap session abort --session ${session}`);
  expect(existsSync(join(state, 'progress.json'))).toBe(true);

  const [resumed, other] = await Promise.all([
    runCli(runArgs, { cwd: north }),
    runCli(forum.runArgs('south', session), { cwd: south }),
  ]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(other.code, other.stderr).toBe(0);
  expect(resumed.stderr).toMatch(
    new RegExp(
      `resuming session ${session} from ${state.replaceAll('/', '\\/')} \\(\\d+ envelopes? not yet acknowledged\\)`,
    ),
  );
  const shared = readFileSync(join(north, '.overlap', 'lab', `${session}.results.jsonl`), 'utf8')
    .trim()
    .split('\n');
  expect(shared.map((line) => (JSON.parse(line) as { value: string }).value).sort()).toEqual(
    values('x', 40, 40).sort(),
  );
  expect(existsSync(state)).toBe(false);
}, 300_000);

test('Ctrl-C before anything was sent says nothing was kept (130)', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = forum.labs.north?.dir as string;
  // No relay listens there: the run is still trying to reach it when Ctrl-C comes.
  writeFileSync(join(north, 'small.txt'), 'a@pty.example\n');
  const args = [
    'session',
    'run',
    ...forum.labArgs('north'),
    '--session',
    session,
    '--input',
    'small.txt',
    '--kind',
    'email',
  ];
  const nobody = `http://127.0.0.1:${await freePort()}`;
  const result = await atTerminal([...args, '--relay', nobody], north, /does not answer/);
  expect(result.code, result.screen).toBe(130);
  expect(result.screen).toContain('interrupted before this lab sent anything: nothing was kept');
  expect(existsSync(join(north, '.overlap', 'lab', `${session}.state`))).toBe(false);
}, 300_000);
