/**
 * runCommand against real processes and files: its output lands whole, private and only on
 * success; every way a command fails is the caller's code; a hung command and every process it
 * started die at the timeout or on abort (their pids are checked gone); stderr stays bounded and
 * is quoted only when the caller allows.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AgentError } from '../src/errors.js';
import { commandEnvironment, runCommand } from '../src/run-command.js';

const node = process.execPath;
const what = 'the test command';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-run-command-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Polls `condition` until it holds (the machine is shared and slow: no fixed sleeps). */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** Whether `pid` is a live process (a zombie nobody reaped yet counts as dead). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function failure(run: Promise<unknown>): Promise<AgentError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

/** A shell that starts `sleep` in the background, writes its own pid and sleep's, and waits. */
function treeArgv(pids: string, options: { ignoreTerm?: boolean } = {}): string[] {
  const trap = options.ignoreTerm === true ? "trap '' TERM; " : '';
  return ['sh', '-c', `${trap}sleep 1000 & echo $$ $! > "$1.tmp"; mv "$1.tmp" "$1"; wait`, 'sh', pids];
}

async function pidsFrom(file: string): Promise<number[]> {
  await waitFor(
    () =>
      stat(file).then(
        () => true,
        () => false,
      ),
    'the pid file',
  );
  return (await readFile(file, 'utf8')).trim().split(' ').map(Number);
}

describe('success', () => {
  test('stdout is streamed into the file, exactly, 0600 in a new 0700 folder, even with umask 0', async () => {
    const out = join(dir, 'new', 'deeper', 'out.txt');
    const previous = process.umask(0);
    try {
      const text = 'first line\nsecond, with ünïcødé\n';
      const run = await runCommand([node, '-e', `process.stdout.write(${JSON.stringify(text)})`], {
        what,
        timeoutMs: 20_000,
        failure: 'SOURCE_FAILED',
        stdoutTo: out,
      });
      expect(await readFile(out, 'utf8')).toBe(text);
      expect(run).toMatchObject({ exitCode: 0, stdoutBytes: Buffer.byteLength(text) });
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
    } finally {
      process.umask(previous);
    }
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'new', 'deeper'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'new', 'deeper'))).toEqual(['out.txt']); // no temporary file left
  });

  test('a large output is streamed whole', async () => {
    const out = join(dir, 'big.txt');
    const run = await runCommand(
      [node, '-e', "for (let i = 0; i < 4096; i++) process.stdout.write('x'.repeat(1023) + '\\n')"],
      {
        what,
        timeoutMs: 20_000,
        failure: 'SOURCE_FAILED',
        stdoutTo: out,
      },
    );
    expect(run.stdoutBytes).toBe(4096 * 1024);
    expect((await stat(out)).size).toBe(4096 * 1024);
  });

  test('without stdoutTo, stdout is discarded', async () => {
    const run = await runCommand([node, '-e', "process.stdout.write('ignored')"], {
      what,
      timeoutMs: 20_000,
      failure: 'DELIVERY_FAILED',
    });
    expect(run).toMatchObject({ exitCode: 0, stdoutBytes: 0 });
  });
});

describe('failures', () => {
  test('a non-zero exit is the failure code with its status, and leaves no output file', async () => {
    const out = join(dir, 'out.txt');
    const error = await failure(
      runCommand([node, '-e', "process.stdout.write('half a list'); process.exit(3)"], {
        what,
        timeoutMs: 20_000,
        failure: 'SOURCE_FAILED',
        stdoutTo: out,
      }),
    );
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.details).toMatchObject({ exitCode: 3 });
    expect(error.message).toContain(what);
    expect(await readdir(dir)).toEqual([]);
  });

  test('a failed run leaves the file a previous run wrote as it was', async () => {
    const out = join(dir, 'out.txt');
    await writeFile(out, 'the previous list\n');
    const error = await failure(
      runCommand([node, '-e', "process.stdout.write('partial'); process.exit(1)"], {
        what,
        timeoutMs: 20_000,
        failure: 'SOURCE_FAILED',
        stdoutTo: out,
      }),
    );
    expect(error.code).toBe('SOURCE_FAILED');
    expect(await readFile(out, 'utf8')).toBe('the previous list\n');
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  test('death by a signal is the failure code, naming the signal', async () => {
    const error = await failure(
      runCommand([node, '-e', "process.kill(process.pid, 'SIGSEGV')"], {
        what,
        timeoutMs: 20_000,
        failure: 'DELIVERY_FAILED',
      }),
    );
    expect(error.code).toBe('DELIVERY_FAILED');
    expect(error.details).toMatchObject({ signal: 'SIGSEGV' });
  });

  test('a command that cannot be started (ENOENT, EACCES, no working directory) is the failure code', async () => {
    const options = { what, timeoutMs: 20_000, failure: 'SOURCE_FAILED' } as const;
    const missing = await failure(runCommand(['overlap-test-no-such-program', '--flag'], options));
    expect(missing.code).toBe('SOURCE_FAILED');
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const script = join(dir, 'not-executable.sh');
    await writeFile(script, '#!/bin/sh\necho hi\n');
    await chmod(script, 0o644);
    const denied = await failure(runCommand([script], options));
    expect(denied.code).toBe('SOURCE_FAILED');
    expect((denied.cause as NodeJS.ErrnoException).code).toBe('EACCES');
    const noCwd = await failure(runCommand([node, '-e', ''], { ...options, cwd: join(dir, 'missing') }));
    expect(noCwd.code).toBe('SOURCE_FAILED');
    expect(await readdir(dir)).toEqual(['not-executable.sh']);
  });

  test('an empty argv, or a bad timeout, is BAD_CONFIG', async () => {
    const options = { what, timeoutMs: 1000, failure: 'SOURCE_FAILED' } as const;
    expect((await failure(runCommand([], options))).code).toBe('BAD_CONFIG');
    expect((await failure(runCommand([''], options))).code).toBe('BAD_CONFIG');
    expect((await failure(runCommand([node, 'a\0b'], options))).code).toBe('BAD_CONFIG');
    expect((await failure(runCommand([node], { ...options, timeoutMs: 0 }))).code).toBe('BAD_CONFIG');
  });
});

describe('timeouts and aborts', () => {
  test('a command that never ends is stopped at the timeout, and leaves no output file', async () => {
    const out = join(dir, 'out.txt');
    const error = await failure(
      runCommand([node, '-e', "process.stdout.write('some'); setInterval(() => {}, 1000)"], {
        what,
        timeoutMs: 300,
        failure: 'SOURCE_FAILED',
        stdoutTo: out,
      }),
    );
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.details).toMatchObject({ timedOut: true });
    expect(await readdir(dir)).toEqual([]);
  });

  test('at the timeout the whole process group dies: the command and the child it started', async () => {
    const pids = join(dir, 'pids');
    const error = await failure(runCommand(treeArgv(pids), { what, timeoutMs: 300, failure: 'SOURCE_FAILED' }));
    expect(error.details).toMatchObject({ timedOut: true });
    const [shell, sleeper] = await pidsFrom(pids);
    await waitFor(() => !isAlive(shell as number) && !isAlive(sleeper as number), 'the group to be gone');
  });

  test('a group that ignores SIGTERM is killed after the grace', async () => {
    const pids = join(dir, 'pids');
    const error = await failure(
      runCommand(treeArgv(pids, { ignoreTerm: true }), { what, timeoutMs: 300, failure: 'DELIVERY_FAILED' }),
    );
    expect(error).toMatchObject({ code: 'DELIVERY_FAILED', details: { timedOut: true } });
    const [shell, sleeper] = await pidsFrom(pids);
    await waitFor(() => !isAlive(shell as number) && !isAlive(sleeper as number), 'the group to be gone');
  });

  test('an abort stops the whole group and rejects with the signal’s reason, leaving no output file', async () => {
    const pids = join(dir, 'pids');
    const controller = new AbortController();
    const reason = new Error('the agent is stopping');
    const run = runCommand(treeArgv(pids), {
      what,
      timeoutMs: 60_000,
      failure: 'SOURCE_FAILED',
      stdoutTo: join(dir, 'out.txt'),
      signal: controller.signal,
    });
    const [shell, sleeper] = await pidsFrom(pids);
    expect(isAlive(sleeper as number)).toBe(true);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    await waitFor(() => !isAlive(shell as number) && !isAlive(sleeper as number), 'the group to be gone');
    expect(await readdir(dir)).toEqual(['pids']);
  });

  test('an already aborted signal starts nothing', async () => {
    const reason = new Error('already stopped');
    const marker = join(dir, 'ran');
    await expect(
      runCommand(['sh', '-c', 'touch "$1"', 'sh', marker], {
        what,
        timeoutMs: 20_000,
        failure: 'SOURCE_FAILED',
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('stderr', () => {
  // exitCode, not exit(): a pipe's writes still pending would be lost.
  const failing = (stderr: string) => [
    node,
    '-e',
    `process.stderr.write(${JSON.stringify(stderr)}); process.exitCode = 2`,
  ];

  test('its last line is quoted only with showStderr', async () => {
    const options = { what, timeoutMs: 20_000, failure: 'SOURCE_FAILED' } as const;
    const stderr = 'reading line 1\ncannot parse suspect@example.com\n\n';
    const hidden = await failure(runCommand(failing(stderr), options));
    expect(hidden.message).not.toContain('suspect@example.com');
    expect(hidden.details).toMatchObject({ exitCode: 2, stderrBytes: Buffer.byteLength(stderr) });
    const shown = await failure(runCommand(failing(stderr), { ...options, showStderr: true }));
    expect(shown.message).toContain('cannot parse suspect@example.com');
    expect(shown.message).not.toContain('reading line 1');
  });

  test('only its tail is kept, and control characters are not quoted', async () => {
    const options = {
      what,
      timeoutMs: 20_000,
      failure: 'DELIVERY_FAILED',
      showStderr: true,
      maxStderrBytes: 64,
    } as const;
    const flood = [
      node,
      '-e',
      "process.stderr.write('z'.repeat(1 << 20) + '\\nthe \\u001b[31mend\\n'); process.exitCode = 1",
    ];
    const error = await failure(runCommand(flood, options));
    expect(error.details).toMatchObject({ stderrBytes: (1 << 20) + 14 });
    expect(error.message).toContain('the ?[31mend');
    expect(error.message).not.toContain('\u001b');
    const longLine = await failure(runCommand(failing('y'.repeat(100_000)), options));
    expect(longLine.message.length).toBeLessThan(what.length + 200);
    expect(longLine.message).toContain('y'.repeat(32));
  });
});

test('commandEnvironment drops every secret and adds on top', () => {
  const env = commandEnvironment(
    {
      PATH: '/usr/bin',
      OVERLAP_KEY_PASSPHRASE: 'pw',
      overlap_key_passphrase: 'pw',
      MY_SECRET_TOKEN: 't',
      OVERLAP_WEBHOOK_URL: 'https://hooks.example',
      UNSET: undefined,
    },
    { OVERLAP_SESSION: 's1' },
  );
  expect(env).toEqual({ PATH: '/usr/bin', OVERLAP_SESSION: 's1' });
});
