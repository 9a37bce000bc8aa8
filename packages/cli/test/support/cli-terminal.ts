/**
 * The real `overlap` command on a pseudo-terminal, as a person at a keyboard runs it: python3's
 * `pty` module gives the CLI a terminal for stdin, stdout and stderr (so `isTTY` is true and a
 * passphrase prompt reads keys in raw mode), and copies what the test types into it. Output comes
 * back as the terminal shows it (stdout and stderr together, with the terminal's CR LF).
 */
import { spawn } from 'node:child_process';
import { type CliRunOptions, cliArgs, cliEnv } from './cli-process.js';

/**
 * pty.fork and a copy loop. What the test types is held until the terminal stops echoing (the CLI
 * asking for a passphrase turns echo off), for at most 10 s: so a test can type a passphrase as
 * soon as the prompt shows, without racing the CLI's switch to raw mode, and a CLI that never
 * turns echo off still gets the text, echoed, for the test to catch.
 */
const SPAWN_ON_A_TERMINAL = `
import os, pty, select, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
pending, held_since, stdin_open = b'', None, True
while True:
    readable, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [], 0.02)
    if fd in readable:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in readable:
        data = os.read(0, 65536)
        if data:
            pending += data
            held_since = held_since or time.monotonic()
        else:
            stdin_open = False
    if pending:
        try:
            echoing = termios.tcgetattr(fd)[3] & termios.ECHO
        except termios.error:
            echoing = 0
        if not echoing or time.monotonic() - held_since > 10:
            os.write(fd, pending)
            pending, held_since = b'', None
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
`;

export interface CliOnTerminal {
  /** What the terminal has shown so far. */
  screen(): string;
  /** Resolves once the screen (from `from` on) matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp, from?: number): Promise<void>;
  /** Types text at the keyboard (`\r` is Enter), delivered once the terminal stops echoing (above). */
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
