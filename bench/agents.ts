/**
 * `pnpm bench agents [N]`: three `overlap agent` processes (the built CLI, as a lab installs it) and
 * an `overlap relay serve` process on loopback, each lab configured by its own overlap.toml.
 * Prints, against issue targets:
 * - join latency: from lab-a's `overlap session create` (the process started; and the id printed)
 *   until the relay lists all three labs as joined, over 5 sessions of 1,000 e-mails each
 *   (target ≤ 2 s);
 * - a 3 × N session (default 10,000 e-mails each, 10% held by all, 10% more by each pair) run
 *   entirely by the agents, from `session create` to the last lab's results delivered, beside the
 *   same session under `overlap simulate` (its timeline from the session's creation to every lab
 *   done; target agents ≤ 1.3 × that);
 * - idle: each agent's CPU over 60 s of doing nothing (from /proc, utime + stime) and its resident
 *   memory (target < 1% of a core, < 120 MB).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient } from '@overlap/client';
import { readKeyFile } from '@overlap/crypto/node';

const line = (text: string) => process.stdout.write(`${text}\n`);
const N = Number(process.argv[3] ?? 10_000);
const root = join(import.meta.dirname, '..');
const cliMain = join(root, 'packages', 'cli', 'dist', 'main.js');
const LABS = ['lab-a', 'lab-b', 'lab-c'] as const;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'overlap-bench-agents-'));

line(
  `pnpm bench agents — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores, Node ${process.version}`,
);

function overlap(...args: string[]): string {
  const run = spawnSync(process.execPath, [cliMain, ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`overlap ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function emailsOf(i: number, n: number, tag: string): string[] {
  const tenth = Math.floor(n / 10);
  const pair = (a: number, b: number) => `${Math.min(a, b)}${Math.max(a, b)}`;
  return Array.from({ length: n }, (_, k) => {
    if (k < tenth) return `all-${k}-${tag}@bench.example`;
    if (k < 2 * tenth) return `pair-${pair(i, (i + 1) % 3)}-${k - tenth}-${tag}@bench.example`;
    if (k < 3 * tenth) return `pair-${pair(i, (i + 2) % 3)}-${k - 2 * tenth}-${tag}@bench.example`;
    return `own-${i}-${k}-${tag}@bench.example`;
  });
}

const events = new Map<string, Record<string, unknown>[]>();
async function until<T>(what: string, check: () => T | undefined, ms = 600_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = check();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1]) / 1024);
}

try {
  spawnSync('npx', ['--yes', 'pnpm@12.4.2', 'run', 'build'], { cwd: root, stdio: 'ignore' });
  const port = await freePort();
  const relayUrl = `http://127.0.0.1:${port}`;
  const init = JSON.parse(overlap('relay', 'init', '--db', join(dir, 'relay.db'), '--json'));
  const relay = spawn(
    process.execPath,
    [cliMain, 'relay', 'serve', '--db', join(dir, 'relay.db'), '--port', String(port), '--json'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(relay);
  await new Promise<void>((resolve) => relay.stdout?.once('data', () => resolve()));
  for (const [i, lab] of LABS.entries()) {
    const home = join(dir, lab);
    mkdirSync(home);
    overlap('keygen', '--out', join(home, 'lab.key'), '--no-passphrase', '--public', join(home, 'identity.json'));
    overlap(
      'admin',
      'enroll',
      '--relay',
      relayUrl,
      '--admin-key',
      init.adminKeyFile,
      '--log-key',
      init.vkey,
      '--identity',
      join(home, 'identity.json'),
      '--lab',
      lab,
    );
    writeFileSync(join(home, 'emails.txt'), `${emailsOf(i, 1_000, 'join').join('\n')}\n`);
    writeFileSync(
      join(home, 'overlap.toml'),
      [
        `relay = "${relayUrl}"`,
        'key = "lab.key"',
        'state_dir = "state"',
        '[trust]',
        `log_key = "${init.vkey}"`,
        `admin_key = "${init.adminPublicKey}"`,
        '[agent]',
        'listen = "off"',
        '[[agent.accept]]',
        'from = ["lab-a"]',
        'kinds = ["email"]',
        'max_items_per_kind = 1000000',
        'sessions_per_day = 1000',
        '[agent.sources.email]',
        'file = "emails.txt"',
        'format = "lines"',
        '[agent.results]',
        'dir = "results"',
        '',
      ].join('\n'),
    );
    const agent = spawn(process.execPath, [cliMain, 'agent', '--config', join(home, 'overlap.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(agent);
    const list: Record<string, unknown>[] = [];
    events.set(lab, list);
    let pending = '';
    agent.stderr?.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) list.push(JSON.parse(l));
    });
  }
  for (const lab of LABS)
    await until(`${lab} started`, () => events.get(lab)?.find((e) => e.event === 'agent_started'));
  const keys = await readKeyFile(join(dir, 'lab-a', 'lab.key'));
  const relayClient = new RelayClient({
    url: relayUrl,
    signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
  });
  const create = (items: number) => {
    const started = performance.now();
    const out = overlap(
      'session',
      'create',
      '--config',
      join(dir, 'lab-a', 'overlap.toml'),
      '--labs',
      LABS.join(','),
      '--kinds',
      'email',
      '--max-items',
      String(items),
    );
    return { session: out.trim(), started, printed: performance.now() };
  };
  const delivered = (session: string) =>
    LABS.every((lab) => events.get(lab)?.some((e) => e.event === 'session_delivered' && e.session === session))
      ? true
      : undefined;

  // 1. Join latency.
  const latencies: { fromStart: number; fromId: number }[] = [];
  for (let run = 0; run < 5; run++) {
    const made = create(1_000);
    for (;;) {
      const status = await relayClient.sessionStatus(made.session);
      if (status.joined.length === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const now = performance.now();
    latencies.push({ fromStart: (now - made.started) / 1000, fromId: (now - made.printed) / 1000 });
    await until('delivered', () => delivered(made.session));
  }
  const worst = (key: 'fromStart' | 'fromId') => Math.max(...latencies.map((l) => l[key])).toFixed(2);
  line(
    `  join latency, 5 sessions: from \`session create\` started ${latencies.map((l) => l.fromStart.toFixed(2)).join(', ')} s (worst ${worst('fromStart')}); from its id printed ${latencies.map((l) => l.fromId.toFixed(2)).join(', ')} s (worst ${worst('fromId')}) (target ≤ 2 s)`,
  );

  // 2. A 3 × N session run by the agents, and the same under `overlap simulate`.
  for (const [i, lab] of LABS.entries())
    writeFileSync(join(dir, lab, 'emails.txt'), `${emailsOf(i, N, 'big').join('\n')}\n`);
  const big = create(N);
  await until('the big session delivered', () => delivered(big.session));
  const agentsSeconds = (performance.now() - big.started) / 1000;
  const shared = LABS.map(
    (lab) =>
      readFileSync(join(dir, lab, 'results', `${big.session}.results.jsonl`), 'utf8')
        .trim()
        .split('\n').length,
  );
  const correct = shared.every((n) => n === 3 * Math.floor(N / 10));
  const simDir = join(dir, 'simulate');
  mkdirSync(simDir);
  for (const [i, lab] of LABS.entries())
    writeFileSync(join(simDir, `${lab}.txt`), `${emailsOf(i, N, 'big').join('\n')}\n`);
  const sim = JSON.parse(
    overlap(
      'simulate',
      ...LABS.flatMap((lab) => ['--lab', `${lab}=${join(simDir, `${lab}.txt`)}`]),
      '--kind',
      'email',
      '--out',
      join(simDir, 'out'),
      '--json',
    )
      .trim()
      .split('\n')
      .at(-1) as string,
  ) as { seconds: number; timeline_ms?: { session_created: number; labs_finished: number } };
  const simSession = sim.timeline_ms
    ? (sim.timeline_ms.labs_finished - sim.timeline_ms.session_created) / 1000
    : sim.seconds;
  line(
    `  3 × ${N.toLocaleString('en-US')} session by agents: ${agentsSeconds.toFixed(2)} s from \`session create\` to the last lab's results (${correct ? 'correct' : 'WRONG'}: ${shared.join(', ')} shared)`,
  );
  line(
    `  the same under \`overlap simulate\`: ${simSession.toFixed(2)} s from the session's creation to every lab done (${sim.seconds.toFixed(2)} s in all) → agents = ${(agentsSeconds / simSession).toFixed(2)} × (target ≤ 1.3)`,
  );
  if (!correct) process.exitCode = 1;

  // 3. Idle.
  const agentPids = children.slice(1).map((c) => c.pid as number);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const before = agentPids.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const elapsed = (performance.now() - t0) / 1000;
  const usage = agentPids.map((pid, i) => ((cpuSeconds(pid) - (before[i] as number)) / elapsed) * 100);
  line(
    `  idle over ${elapsed.toFixed(0)} s: CPU ${usage.map((u) => `${u.toFixed(2)}%`).join(', ')} of a core (target < 1%); RSS ${agentPids.map(rssMb).join(', ')} MB (target < 120)`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  rmSync(dir, { recursive: true, force: true });
}
