/**
 * The `overlap` program as real child processes, for the agent's tests that need a relay and other
 * labs (as test/agent.processes.test.ts starts them): a relay (`overlap relay serve --init`) on a
 * free loopback port, one-shot commands (keygen, admin enroll, session create), and agents
 * (`overlap agent`) whose JSON log lines are collected as they come. Every wait is for a condition,
 * never for a fixed time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { finished, until } from '../../../../test/support/processes.js';

const main = join(import.meta.dirname, '..', '..', '..', 'cli', 'src', 'main.ts');
const children = new Set<ChildProcess>();

/** Starts `overlap <args>` from the TypeScript sources (tsx, the @overlap/source condition). */
export function overlap(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], {
    cwd: import.meta.dirname, // where tsx resolves; every path given is absolute
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Runs `overlap <args>` to its end; throws with its stderr unless it exits 0. */
export async function run(...args: string[]): Promise<string> {
  const exit = await finished(overlap(args));
  if (exit.code !== 0) throw new Error(`overlap ${args.slice(0, 2).join(' ')} exited ${exit.code}: ${exit.err}`);
  return exit.out;
}

/** Kills (SIGKILL) every process these helpers started that is still running, and waits for each. */
export async function killAll(): Promise<void> {
  const exits = [...children].map((child) => finished(child));
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(exits);
}

export interface RelayProcess {
  child: ChildProcess;
  url: string;
  vkey: string;
  adminPublicKey: string;
  adminKeyFile: string;
}

/** `overlap relay serve --init` on a free port, once it says it listens. */
export async function startRelay(db: string): Promise<RelayProcess> {
  const child = overlap(['relay', 'serve', '--init', '--db', db, '--port', '0', '--json']);
  const banner = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code}: ${err}`)));
  });
  const info = JSON.parse(banner) as {
    url: string;
    vkey: string;
    adminPublicKey: string;
    initialized?: { adminKeyFile?: string };
  };
  const adminKeyFile = info.initialized?.adminKeyFile;
  if (adminKeyFile === undefined) throw new Error(`the relay made no admin key: ${banner}`);
  return { child, url: info.url, vkey: info.vkey, adminPublicKey: info.adminPublicKey, adminKeyFile };
}

/** A lab's key (no passphrase) in `home`/lab.key, enrolled as `lab`. */
export async function enrollLab(relay: RelayProcess, home: string, lab: string): Promise<void> {
  const identity = join(home, 'identity.json');
  await run('keygen', '--out', join(home, 'lab.key'), '--no-passphrase', '--public', identity);
  await run(
    'admin',
    'enroll',
    '--relay',
    relay.url,
    '--admin-key',
    relay.adminKeyFile,
    '--log-key',
    relay.vkey,
    '--identity',
    identity,
    '--lab',
    lab,
  );
}

export type LogEvent = Record<string, unknown> & { event?: string };

/** An `overlap agent` process and every line it has logged so far (JSON, or `{event: 'stderr'}`). */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly events: LogEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    config: string,
  ) {
    this.child = overlap(['agent', '--config', config]);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    let pending = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as LogEvent);
        else if (line.trim() !== '') this.events.push({ event: 'stderr', text: line });
      }
    });
  }

  /** The first event matching `match`, once logged; throws if the agent exits first. */
  async logged(match: (e: LogEvent) => boolean, ms = 180_000): Promise<LogEvent> {
    return until(
      `${this.name}'s agent to log it`,
      () => {
        const found = this.events.find(match);
        if (found !== undefined) return found;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`${this.name}'s agent exited: ${JSON.stringify(this.events.slice(-5))}`);
        }
        return undefined;
      },
      ms,
    );
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exited;
  }
}
