/**
 * The simulation's lab processes: one `overlap session run` per lab, as a lab runs it, started
 * early (simulation-lab-process.ts loads the packages while the relay starts) and told its
 * arguments once the session exists. Each line a lab prints on stderr is passed on as it arrives,
 * prefixed with the lab's name (`overlap: lab-a: uploading chunks 3/16`).
 *
 * Isolation: a lab process gets only what the simulation means to give it, so a developer's own
 * settings cannot leak into the exchange (another relay, another state directory, a region):
 *   - it runs in the simulation's work directory (no `./overlap.toml` of the developer's), with
 *     `--config` naming an empty file there (no `$OVERLAP_CONFIG`);
 *   - no `OVERLAP_*` variable of this process's environment reaches it, except OVERLAP_DEBUG and
 *     OVERLAP_MEMORY_TRACE (diagnostics: they change what is printed, not what is done) and
 *     OVERLAP_CRYPTO_BACKEND (the relay in this process and the labs compute on one backend);
 *     OVERLAP_KEY_PASSPHRASE is empty (the simulation's key files are not encrypted).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { IndicatorFile } from '@overlap/client';

/** OVERLAP_* variables a lab process inherits: diagnostics and the crypto backend, no setting. */
const INHERITED = new Set(['OVERLAP_DEBUG', 'OVERLAP_MEMORY_TRACE', 'OVERLAP_CRYPTO_BACKEND']);

/** What a lab process said once its modules were loaded, and when. */
export interface LabProcessReady {
  /** ms from the process's start to its entry module (node's own start-up). */
  boot_ms: number;
  /** ms its entry took to load the packages `overlap session run` uses. */
  load_ms: number;
  /** ms from the spawn to the ready line, as this process saw it. */
  spawn_to_ready_ms: number;
}

/** What a lab process answered of its input file (simulation-lab-process.ts): counts, never values. */
export type LabInputReport =
  | {
      summary: IndicatorFile['summary'];
      /** Distinct canonical values per kind. */
      distinct: Record<string, number>;
      /** Prompt templates, whose bands are the `prompt_template` values. */
      templates?: number;
      first_rejected?: { line: number; code: string };
    }
  | { error: string };

export interface LabProcessExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Its last lines on stderr (at most 20), for a failure's report. */
  lastLines: string[];
  /** Stopped by the simulation (another lab failed), not by itself. */
  stopped: boolean;
}

export function labEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (!name.startsWith('OVERLAP_') || INHERITED.has(name)) env[name] = value;
  }
  env.OVERLAP_KEY_PASSPHRASE = '';
  return env;
}

export class LabProcess {
  readonly name: string;
  readonly ready: Promise<LabProcessReady>;
  /** Its report on the input `prefetch` sent it. */
  readonly input: Promise<LabInputReport>;
  readonly exited: Promise<LabProcessExit>;
  readonly #child: ChildProcess;
  readonly #control: Socket;
  readonly #log: (line: string) => void;
  #stopped = false;
  #quiet = false;
  #lastLines: string[] = [];

  /** Starts a lab process in `cwd`; its stderr lines go to `log`, prefixed with its name. */
  static start(name: string, options: { cwd: string; log: (line: string) => void }): LabProcess {
    return new LabProcess(name, options);
  }

  private constructor(name: string, options: { cwd: string; log: (line: string) => void }) {
    this.name = name;
    this.#log = options.log;
    const spawned = performance.now();
    this.#child = spawn(process.execPath, labProcessCommand(), {
      cwd: options.cwd,
      env: labEnvironment(process.env),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.#control = this.#child.stdio[3] as Socket;
    let stdout = '';
    this.#child.stdout?.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    this.#child.stderr?.setEncoding('utf8');
    let partial = '';
    this.#child.stderr?.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    });
    let onReady: (ready: LabProcessReady) => void = () => {};
    let onInput: (report: LabInputReport) => void = () => {};
    const early = new Promise<never>((_, reject) => {
      this.#child.on('close', () => reject(new Error(`${name}'s process exited before it answered`)));
    });
    this.ready = Promise.race([new Promise<LabProcessReady>((resolve) => (onReady = resolve)), early]);
    this.input = Promise.race([new Promise<LabInputReport>((resolve) => (onInput = resolve)), early]);
    this.ready.catch(() => {}); // its exit is reported through `exited`
    this.input.catch(() => {});
    let buffered = '';
    this.#control.setEncoding('utf8');
    this.#control.on('data', (text: string) => {
      buffered += text;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const message = JSON.parse(buffered.slice(0, end)) as {
          ready?: Omit<LabProcessReady, 'spawn_to_ready_ms'>;
          input?: LabInputReport;
        };
        buffered = buffered.slice(end + 1);
        if (message.ready !== undefined)
          onReady({ ...message.ready, spawn_to_ready_ms: Math.round(performance.now() - spawned) });
        if (message.input !== undefined) onInput(message.input);
      }
    });
    this.#control.on('error', () => {}); // the child's end closing early shows as its exit
    this.exited = new Promise((resolve) => {
      this.#child.on('error', (error) => this.#line(`cannot start: ${error.message}`));
      this.#child.on('close', (code, signal) => {
        if (partial !== '') this.#line(partial);
        resolve({ name, code, signal, stdout, lastLines: this.#lastLines, stopped: this.#stopped });
      });
    });
  }

  /**
   * Has the process read `file` now, as its `session run --input FILE` with these options will (the
   * run takes that reading); `input` answers the counts. Before `run`.
   */
  prefetch(file: string, options: { kind?: string; region?: string }): void {
    this.#control.write(`${JSON.stringify({ prefetch: { path: file, ...options } })}\n`);
  }

  /** Runs `overlap ARGS` in the process (once). */
  run(args: readonly string[]): void {
    // Not end(): the pipe would close both ways before the ready line is read. The process ends
    // its side once it has the arguments, and this side follows.
    this.#control.write(`${JSON.stringify({ args })}\n`);
  }

  /**
   * Ends the process (SIGTERM) if it still runs, and stops passing its lines on: after another
   * lab's failure its own "interrupted; run again to resume" would only mislead.
   */
  stop(): void {
    this.#quiet = true;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#stopped = true;
    this.#control.destroy();
    this.#child.kill('SIGTERM');
  }

  #line(line: string): void {
    if (line.trim() === '') return;
    const text = line.startsWith('overlap: ') ? line.slice('overlap: '.length) : line;
    this.#lastLines = [...this.#lastLines.slice(-19), text];
    if (!this.#quiet) this.#log(`${this.name}: ${text}`);
  }
}

/**
 * How to start a lab process: the built entry with plain node, or in a source checkout the
 * TypeScript entry through tsx (resolved from here, so any working directory does).
 */
function labProcessCommand(): string[] {
  const built = fileURLToPath(new URL('./simulation-lab-process.js', import.meta.url));
  if (existsSync(built)) return [built];
  const source = fileURLToPath(new URL('./simulation-lab-process.ts', import.meta.url));
  return ['--import', import.meta.resolve('tsx'), '--conditions=@overlap/source', source];
}
