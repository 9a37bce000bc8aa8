/**
 * The real `overlap` command on a pseudo-terminal, as a person at a keyboard runs it: python3's
 * `pty.spawn` gives the CLI a terminal for stdin, stdout and stderr (so `isTTY` is true and a
 * passphrase prompt reads keys in raw mode), and copies what the test types into it. Output comes
 * back as the terminal shows it (stdout and stderr together, with the terminal's CR LF).
 */
import { spawn } from 'node:child_process';
import { type CliRunOptions, cliArgs, cliEnv } from './cli-process.js';

const SPAWN_ON_A_TERMINAL = [
  'import os, pty, sys',
  'status = pty.spawn(sys.argv[1:])',
  'sys.exit(os.waitstatus_to_exitcode(status) if status >= 0 else 1)',
].join('\n');

export interface CliOnTerminal {
  /** What the terminal has shown so far. */
  screen(): string;
  /** Resolves once the screen (from `from` on) matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp, from?: number): Promise<void>;
  /** Types text at the keyboard (`\r` is Enter). */
  type(text: string): void;
  exited: Promise<{ code: number | null; screen: string }>;
}

export function startCliOnTerminal(args: readonly string[], options: Omit<CliRunOptions, 'input'> = {}): CliOnTerminal {
  const child = spawn('python3', ['-c', SPAWN_ON_A_TERMINAL, process.execPath, ...cliArgs(args)], {
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    env: cliEnv(options.env),
  });
  let screen = '';
  let closed = false;
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of watchers) watcher();
  };
  child.stdout.on('data', (data: Buffer) => {
    screen += data.toString();
    notify();
  });
  child.stderr.on('data', (data: Buffer) => {
    screen += data.toString();
    notify();
  });
  const exited = new Promise<{ code: number | null; screen: string }>((resolve) => {
    child.on('close', (code) => {
      closed = true;
      resolve({ code, screen });
      notify();
    });
  });
  return {
    screen: () => screen,
    type: (text) => void child.stdin.write(text),
    exited,
    waitFor: (pattern, from = 0) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(screen.slice(from))) {
            watchers.delete(check);
            resolve();
          } else if (closed) {
            watchers.delete(check);
            reject(new Error(`overlap exited before showing ${pattern}:\n${screen}`));
          }
        };
        watchers.add(check);
        check();
      }),
  };
}
