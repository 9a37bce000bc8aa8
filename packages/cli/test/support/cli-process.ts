/**
 * The real `overlap` command in a child process, as a user runs it: from source through tsx (as
 * `pnpm overlap` does), in any working directory, with its own environment. `runCli` waits for the
 * exit; `startCli` returns the running child with a way to wait for a line of its output.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface CliRunOptions {
  cwd?: string;
  /** Added to (or, with `undefined` values, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Text written to stdin, then closed (default: stdin closed at once). */
  input?: string;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The node arguments that start the CLI from source, usable from any directory. */
export function cliArgs(args: readonly string[]): string[] {
  const tsx = import.meta.resolve('tsx');
  return ['--import', tsx, '--conditions=@overlap/source', MAIN, ...args];
}

export function cliEnv(extra: CliRunOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A test never picks up the developer's own settings.
  for (const name of Object.keys(env)) if (name.startsWith('OVERLAP_')) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr (so far) matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<CliExit>;
}

export function startCli(args: readonly string[], options: CliRunOptions = {}): RunningCli {
  const child = spawn(process.execPath, cliArgs(args), {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of watchers) watcher();
  };
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
    notify();
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString();
    notify();
  });
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const exited = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
      notify();
    });
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) {
            watchers.delete(check);
            resolve();
          } else if (closed || child.exitCode !== null) {
            watchers.delete(check);
            reject(new Error(`overlap exited before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        watchers.add(check);
        check();
      }),
  };
}

export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliExit> {
  return startCli(args, options).exited;
}
