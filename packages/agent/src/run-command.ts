/**
 * Running one of the lab's own commands (a source command that prints the current suspects, a
 * delivery command that takes a session's results on), bounded in time, in memory and in what it
 * leaves behind. POSIX only, like the agent.
 *
 * - An argv array, started without a shell: no word splitting, globbing or `$(…)` in a setting
 *   that a file or a person wrote. `argv[0]` is looked up in PATH as execvp does.
 * - The command leads its own process group (`detached`), so at the timeout or on abort the whole
 *   tree it started is signalled: SIGTERM, SIGKILL after a grace of 2 s, and SIGKILL again once
 *   it ended, for a grandchild that outlived its parent. The run ends only when every holder of
 *   its pipes is gone (`close`), so a background child that keeps printing is also "still running".
 * - Its stdout goes to a file or nowhere; it is streamed, never held in memory. The file is 0600
 *   in a 0700 folder whatever the umask, written under a temporary name and renamed over
 *   `stdoutTo` only when the command succeeded: a failed, killed or aborted run leaves no file,
 *   never half a list that a later step could take for the whole one.
 * - Only the last `maxStderrBytes` of its stderr are kept, and its last line reaches the error
 *   only when the caller allows: a source command's stderr may quote the suspects it read, and
 *   errors reach the agent's logs, which never carry an indicator value (agent-log.ts).
 * - Its environment is this process's minus every secret (`commandEnvironment`), unless the
 *   caller gives one.
 *
 * Threats: a hung export that stalls every session; a killed command's children living on; a
 * partial output read as a complete list; suspect data or a passphrase leaking into logs or into
 * a command that does not need them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { makePrivateDirectory, syncDirectory } from '@overlap/files';
import { AgentError } from './errors.js';

/** The code a command's failure is reported under: whose command it was. */
export type CommandFailureCode = 'SOURCE_FAILED' | 'DELIVERY_FAILED';

export interface RunCommandOptions {
  /** What the command is, for messages: "the source command of kind email (./export.sh)". */
  what: string;
  /** Milliseconds before the command's process group is stopped and the run fails. */
  timeoutMs: number;
  /** The code of every failure of the command (not of its arguments: those are `BAD_CONFIG`). */
  failure: CommandFailureCode;
  /** Its working directory (default: this process's). */
  cwd?: string;
  /** Its whole environment (default: `commandEnvironment(process.env)`). */
  env?: Record<string, string>;
  /** A file its stdout goes to, replacing any file there, only if it succeeds; else stdout is discarded. */
  stdoutTo?: string;
  /** How much of the end of its stderr is kept (default 4096 bytes). */
  maxStderrBytes?: number;
  /** Quote the last line of its stderr in the error (default false: it may quote suspect data). */
  showStderr?: boolean;
  /** Stops the command as a timeout does; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface CommandRun {
  exitCode: number;
  /** Bytes written to `stdoutTo` (0 when stdout was discarded). */
  stdoutBytes: number;
  durationMs: number;
}

const KILL_GRACE_MS = 2000;
const DEFAULT_MAX_STDERR_BYTES = 4096;
/** The most of a stderr line an error quotes. */
const MAX_QUOTED_CHARS = 300;

/**
 * Environment variables a lab's command never receives: the key's passphrase, webhook secrets,
 * anything named a secret. A command that needs one is given it by name by its own wrapper.
 */
const SECRET_NAME = /PASSPHRASE|SECRET|^OVERLAP_WEBHOOK_/i;

/** `base` without secrets (see SECRET_NAME), then `additions` on top. */
export function commandEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  additions: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base))
    if (value !== undefined && !SECRET_NAME.test(name)) env[name] = value;
  return Object.assign(env, additions);
}

/** Runs `argv` to its end; resolves only if it exited 0 (and its stdout, if asked, is in `stdoutTo`). */
export async function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandRun> {
  checkArguments(argv, options);
  options.signal?.throwIfAborted();
  const started = performance.now();
  const output = options.stdoutTo === undefined ? undefined : await openOutput(options.stdoutTo, options);
  let renamed = false;
  try {
    const ending = await supervise(argv, options, output?.handle);
    if (ending.stopped === 'abort') throw options.signal?.reason;
    const failure = await failureOf(argv, ending, options);
    if (failure !== undefined) throw failure;
    if (output !== undefined) {
      await finishOutput(output, options);
      renamed = true;
    }
    return { exitCode: 0, stdoutBytes: ending.stdoutBytes, durationMs: Math.round(performance.now() - started) };
  } finally {
    if (output !== undefined && !renamed) {
      await output.handle.close().catch(() => {});
      await unlink(output.temporary).catch(() => {});
    }
  }
}

function checkArguments(argv: readonly string[], options: RunCommandOptions): void {
  const bad = (why: string) => new AgentError('BAD_CONFIG', `${options.what}: ${why}`);
  if (argv.length === 0 || argv[0] === '') throw bad('the command is empty (give its argv, program first)');
  if (argv.some((arg) => arg.includes('\0'))) throw bad('an argument of the command has a NUL character');
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)
    throw bad(`the timeout must be a positive number of milliseconds, not ${options.timeoutMs}`);
  const max = maxStderr(options);
  if (!Number.isSafeInteger(max) || max < 0) throw bad(`maxStderrBytes must be a whole number ≥ 0, not ${max}`);
}

function maxStderr(options: RunCommandOptions): number {
  return options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES;
}

interface Output {
  path: string;
  temporary: string;
  handle: FileHandle;
}

/** A new private temporary file beside `path` (created exclusively: nothing planted there is followed). */
async function openOutput(path: string, options: RunCommandOptions): Promise<Output> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    await makePrivateDirectory(dirname(path));
    handle = await open(temporary, 'wx', 0o600);
    await handle.chmod(0o600); // open's mode went through the umask
    return { path, temporary, handle };
  } catch (cause) {
    await handle?.close().catch(() => {});
    if (handle !== undefined) await unlink(temporary).catch(() => {});
    throw outputFailed(options, `cannot make its output file ${path}`, cause);
  }
}

async function finishOutput(output: Output, options: RunCommandOptions): Promise<void> {
  try {
    await output.handle.sync();
    await output.handle.close();
    await rename(output.temporary, output.path);
    await syncDirectory(dirname(output.path));
  } catch (cause) {
    throw outputFailed(options, `cannot write its output to ${output.path}`, cause);
  }
}

function outputFailed(options: RunCommandOptions, doing: string, cause: unknown): AgentError {
  return new AgentError(options.failure, `${options.what}: ${doing}: ${reasonOf(cause)}`, { cause });
}

interface Ending {
  /** Set when the command could not be started at all. */
  startError?: unknown;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the agent stopped it, if it did ('output': writing its stdout failed, with `outputError`). */
  stopped?: 'timeout' | 'abort' | 'output';
  outputError?: unknown;
  stdoutBytes: number;
  stderr: StderrTail;
}

/** Starts the command and watches it to its end (every pipe closed), stopping it when it must. */
function supervise(argv: readonly string[], options: RunCommandOptions, out: FileHandle | undefined): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    const ending: Ending = { code: null, signal: null, stdoutBytes: 0, stderr: new StderrTail(maxStderr(options)) };
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), {
        shell: false,
        detached: true,
        stdio: ['ignore', out === undefined ? 'ignore' : 'pipe', 'pipe'],
        env: options.env ?? commandEnvironment(process.env),
        ...(options.cwd !== undefined && { cwd: options.cwd }),
      });
    } catch (startError) {
      resolve({ ...ending, startError });
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    const stop = (why: NonNullable<Ending['stopped']>): void => {
      if (ending.stopped !== undefined || child.pid === undefined) return;
      ending.stopped = why;
      signalGroup(child, 'SIGTERM');
      const kill = () => {
        signalGroup(child, 'SIGKILL');
        // The whole group is dead by now: a pipe still open is held by a process that left the
        // group (setsid). Stop waiting for it.
        timers.push(setTimeout(() => [child.stdout, child.stderr].map((pipe) => pipe?.destroy()), KILL_GRACE_MS));
      };
      timers.push(setTimeout(kill, KILL_GRACE_MS));
    };
    const aborted = () => stop('abort');
    timers.push(setTimeout(() => stop('timeout'), options.timeoutMs));
    options.signal?.addEventListener('abort', aborted, { once: true });
    if (options.signal?.aborted) stop('abort');
    child.stderr?.on('data', (chunk: Buffer) => ending.stderr.add(chunk));
    const copying =
      out === undefined || child.stdout === null
        ? Promise.resolve()
        : copyTo(child.stdout, out, ending).catch((error: unknown) => {
            ending.outputError ??= error;
            stop('output');
          });
    child.on('error', (error) => {
      if (child.pid === undefined) ending.startError = error; // later ones would be about signals: none are sent through it
    });
    child.once('close', (code, signal) => {
      if (ending.stopped !== undefined) signalGroup(child, 'SIGKILL'); // a grandchild that outlived the leader
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', aborted);
      void copying.then(() => resolve({ ...ending, code, signal }));
    });
  });
}

async function copyTo(from: Readable, to: FileHandle, ending: Ending): Promise<void> {
  for await (const chunk of from as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; ) at += (await to.write(chunk, at, chunk.length - at)).bytesWritten;
    ending.stdoutBytes += chunk.length;
  }
}

/** Signals every process of the command's group. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the whole group is gone already. Nothing could be done about anything else here.
  }
}

/** The error for a run that did not succeed, or undefined if it did. */
async function failureOf(
  argv: readonly string[],
  ending: Ending,
  options: RunCommandOptions,
): Promise<AgentError | undefined> {
  const { what, failure } = options;
  if (ending.startError !== undefined) {
    const why = await whyNotStarted(argv[0] as string, ending.startError, options.cwd);
    return new AgentError(failure, `${what} could not be started: ${why}`, { cause: ending.startError });
  }
  if (ending.stopped === 'output') return outputFailed(options, 'writing its output failed', ending.outputError);
  let problem: string;
  const details: Record<string, unknown> = { stderrBytes: ending.stderr.bytes };
  if (ending.stopped === 'timeout') {
    problem = `timed out after ${options.timeoutMs / 1000} s and was stopped`;
    details.timedOut = true;
  } else if (ending.signal !== null) {
    problem = `was killed by ${ending.signal}`;
    details.signal = ending.signal;
  } else if (ending.code !== 0) {
    problem = `exited with status ${ending.code}`;
    details.exitCode = ending.code;
  } else return undefined;
  return new AgentError(failure, `${what} ${problem}${stderrPart(ending.stderr, options.showStderr === true)}`, {
    details,
  });
}

function stderrPart(stderr: StderrTail, show: boolean): string {
  if (stderr.bytes === 0) return '';
  if (!show) return ` (its stderr, ${stderr.bytes} bytes, is not shown: it may quote indicator values)`;
  const line = stderr.lastLine();
  return line === '' ? '' : `; the last line of its stderr: ${line}`;
}

async function whyNotStarted(program: string, error: unknown, cwd: string | undefined): Promise<string> {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES') return `permission denied for ${program} (is it an executable file?)`;
  if (code !== 'ENOENT') return reasonOf(error);
  // spawn says ENOENT for a missing working directory too.
  const cwdIsDirectory =
    cwd === undefined ||
    (await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  if (!cwdIsDirectory) return `its working directory ${cwd} is not a directory`;
  return program.includes('/') ? `${program} does not exist` : `${program} is not found in PATH`;
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/** The end of a command's stderr: its last `max` bytes, and how many bytes there were in all. */
class StderrTail {
  bytes = 0;
  #tail: Buffer = Buffer.alloc(0);
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    const joined = Buffer.concat([this.#tail, chunk]);
    // Copied, so a large chunk is not kept alive by the small tail of it.
    this.#tail = joined.length > this.#max ? Buffer.from(joined.subarray(joined.length - this.#max)) : joined;
  }

  /** The last non-blank line kept, its control and format characters (terminal escapes, bidi overrides) made `?`. */
  lastLine(): string {
    const text = this.#tail.toString('utf8').replace(/\s+$/u, '');
    const line = text
      .slice(text.lastIndexOf('\n') + 1)
      .replace(/[\p{Cc}\p{Cf}]/gu, '?')
      .trim();
    return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS)}…` : line;
  }
}
