/**
 * The forum's daily exchange run by three `overlap agent` processes and an `overlap relay serve`
 * process over HTTP on loopback, each lab configured only by its `overlap.toml` (docs/agent.md):
 *
 * - lab-a's daily schedule fires (its slot a moment before the agent starts: the catch-up a
 *   restarted agent makes), every agent joins by its own rules, and every lab's results directory
 *   holds the plaintext truth; lab-a's webhook (HTTPS, a private CA trusted with
 *   NODE_EXTRA_CA_CERTS) receives the result document with an HMAC the test verifies;
 * - a proposal outside lab-b's rules is declined at once, and `overlap session create --wait`
 *   exits 1 with lab-b's reason;
 * - lab-c's source command hangs: it is killed at its timeout, the session declined (not joined
 *   with an empty set), and lab-c's log says why;
 * - lab-b's agent is killed (SIGKILL) mid-session and started again, and the relay is restarted
 *   while the session runs: the session finishes, with the truth, for every lab;
 * - SIGTERM stops an agent cleanly (exit 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhookSignature } from '@overlap/agent';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { finished, freePort } from './support/processes.js';
import { cli } from './support/run-cli.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'overlap-agent-proc-'));
const LABS = ['lab-a', 'lab-b', 'lab-c'] as const;
type Lab = (typeof LABS)[number];
const SECRET = 'ab'.repeat(32);
const children = new Set<ChildProcess>();
let relayPort: number;
let relay: ChildProcess;
let init: { vkey: string; adminKeyFile: string; adminPublicKey: string };
const webhook: { server?: Server; url?: string; received: { headers: Record<string, string>; body: string }[] } = {
  received: [],
};

interface AgentProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
}
const agents = new Map<Lab, AgentProcess>();

function node(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], {
    cwd: import.meta.dirname, // where tsx resolves; every path is absolute or in a lab's config
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function startRelay(): Promise<void> {
  relay = node(['relay', 'serve', '--db', join(dir, 'relay', 'relay.db'), '--port', String(relayPort), '--json']);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    relay.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    relay.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve();
    });
    relay.once('exit', (code) => reject(new Error(`the relay exited with ${code}: ${err}`)));
  });
}

/** Each lab's e-mails: 30 every lab holds, 20 shared by a and b only, the rest its own. */
function emails(lab: Lab, tag: string, n = 100): string[] {
  const all = Array.from({ length: 30 }, (_, i) => `common${i}-${tag}@proc.example`);
  if (lab !== 'lab-c') all.push(...Array.from({ length: 20 }, (_, i) => `ab${i}-${tag}@proc.example`));
  all.push(...Array.from({ length: n }, (_, i) => `${lab}${i}-${tag}@proc.example`));
  return all;
}

function truth(lab: Lab, tag: string): Record<string, string[]> {
  const sets = new Map(LABS.map((l) => [l, new Set(emails(l, tag))]));
  const out: Record<string, string[]> = {};
  for (const value of [...(sets.get(lab) ?? [])].sort()) {
    const others = LABS.filter((l) => l !== lab && sets.get(l)?.has(value));
    if (others.length > 0) out[value] = others;
  }
  return out;
}

function setSuspects(lab: Lab, tag: string, n?: number): void {
  writeFileSync(join(dir, lab, 'emails.txt'), `${emails(lab, tag, n).join('\n')}\n`);
}

function results(lab: Lab, session: string): Record<string, string[]> {
  const text = readFileSync(join(dir, lab, 'results', `${session}.results.jsonl`), 'utf8');
  const out: Record<string, string[]> = {};
  for (const line of text.trim().split('\n')) {
    const r = JSON.parse(line) as { value: string; labs: string[] };
    out[r.value] = r.labs;
  }
  return out;
}

function config(lab: Lab, slot: Date): string {
  const utc = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
  const lines = [
    `relay = "http://127.0.0.1:${relayPort}"`,
    'key = "lab.key"',
    'state_dir = "state"',
    '[trust]',
    `log_key = "${init.vkey}"`,
    `admin_key = "${init.adminPublicKey}"`,
    '[agent]',
    'listen = "127.0.0.1:0"',
    'workers = 1',
    'log_level = "debug"',
    '[[agent.accept]]',
    'from = ["lab-a"]',
    'kinds = ["email", "ip"]',
    'max_items_per_kind = 50000',
    '[agent.sources.email]',
    'file = "emails.txt"',
    'format = "lines"',
    '[agent.results]',
    'dir = "results"',
    'formats = ["jsonl", "csv", "stix"]',
  ];
  if (lab === 'lab-a') {
    lines.push(
      '[agent.results.webhook]',
      `url = "${webhook.url}"`,
      'secret_env = "OVERLAP_WEBHOOK_SECRET"',
      '[agent.sources.ip]',
      'file = "ips.txt"',
      'format = "lines"',
      '[[agent.schedule]]',
      'name = "daily"',
      `cron = "${utc}"`,
      'labs = ["lab-a", "lab-b", "lab-c"]',
      'kinds = ["email"]',
      'reveal = "labs"',
      'max_items = 50000',
      'deadline_minutes = 30',
    );
  }
  if (lab === 'lab-c') {
    lines.push(
      '[agent.sources.ip]',
      `command = ["${process.execPath}", "-e", "setInterval(() => {}, 1000)"]`,
      'timeout_seconds = 1',
    );
  }
  return `${lines.join('\n')}\n`;
}

function startAgent(lab: Lab): AgentProcess {
  const child = node(['agent', '--config', join(dir, lab, 'overlap.toml')], {
    NODE_EXTRA_CA_CERTS: join(dir, 'tls', 'ca.pem'),
    OVERLAP_WEBHOOK_SECRET: SECRET,
  });
  const agent: AgentProcess = { child, events: [] };
  let pending = '';
  child.stderr?.on('data', (d: Buffer) => {
    const lines = (pending + d.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) agent.events.push(JSON.parse(line) as Record<string, unknown>);
      else if (line.trim() !== '') agent.events.push({ event: 'stderr', text: line });
    }
  });
  agents.set(lab, agent);
  return agent;
}

/** Waits until `lab`'s agent has logged an event matching `match`. */
async function logged(lab: Lab, match: (e: Record<string, unknown>) => boolean, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const agent = agents.get(lab) as AgentProcess;
    const found = agent.events.find(match);
    if (found) return found;
    if (agent.child.exitCode !== null)
      throw new Error(`${lab}'s agent exited: ${JSON.stringify(agent.events.slice(-5))}`);
    if (Date.now() > end) throw new Error(`${lab}: no such event; last: ${JSON.stringify(agent.events.slice(-5))}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const delivered = (session: string) => (e: Record<string, unknown>) =>
  e.event === 'session_delivered' && e.session === session;

beforeAll(async () => {
  relayPort = await freePort();
  const made = await cli('relay', 'init', '--db', join(dir, 'relay', 'relay.db'), '--json');
  expect(made.code, made.err).toBe(0);
  init = JSON.parse(made.out);
  expect((await cli('tls', 'trial', '--out', join(dir, 'tls'))).code).toBe(0);
  webhook.server = createServer(
    { cert: readFileSync(join(dir, 'tls', 'relay.pem')), key: readFileSync(join(dir, 'tls', 'relay.key')) },
    (request, response) => {
      let body = '';
      request.on('data', (d: Buffer) => {
        body += d.toString();
      });
      request.on('end', () => {
        webhook.received.push({ headers: request.headers as Record<string, string>, body });
        response.writeHead(204).end();
      });
    },
  );
  await new Promise<void>((resolve) => webhook.server?.listen(0, '127.0.0.1', resolve));
  webhook.url = `https://127.0.0.1:${(webhook.server.address() as { port: number }).port}/overlap?token=t0ps3cret`;
  await startRelay();
  for (const lab of LABS) {
    mkdirSync(join(dir, lab));
    const identity = join(dir, lab, 'identity.json');
    expect(
      (await cli('keygen', '--out', join(dir, lab, 'lab.key'), '--no-passphrase', '--public', identity)).code,
    ).toBe(0);
    const enrolled = await cli(
      'admin',
      'enroll',
      '--relay',
      `http://127.0.0.1:${relayPort}`,
      '--admin-key',
      init.adminKeyFile,
      '--log-key',
      init.vkey,
      '--identity',
      identity,
      '--lab',
      lab,
    );
    expect(enrolled.code, enrolled.err).toBe(0);
    setSuspects(lab, 'daily');
  }
  writeFileSync(join(dir, 'lab-a', 'ips.txt'), '192.0.2.1\n192.0.2.2\n');
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await new Promise((resolve) => webhook.server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('three agents, each a process, run the daily exchange', () => {
  let daily: string;

  test("lab-a's schedule fires; every lab's results are the truth; the webhook gets them, signed", async () => {
    // The daily slot is a second ago: lab-a's agent proposes it at start, as after a restart.
    const slot = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    for (const lab of LABS) writeFileSync(join(dir, lab, 'overlap.toml'), config(lab, slot));
    const check = await cli('agent', 'check-config', '--config', join(dir, 'lab-c', 'overlap.toml'));
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toContain('accept rule 1: from lab-a; kinds email, ip');
    for (const lab of LABS) startAgent(lab);
    const fired = await logged('lab-a', (e) => e.event === 'schedule_fired');
    daily = fired.session as string;
    for (const lab of LABS) await logged(lab, delivered(daily));
    for (const lab of LABS) expect(results(lab, daily), lab).toEqual(truth(lab, 'daily'));
    const stix = JSON.parse(readFileSync(join(dir, 'lab-b', 'results', `${daily}.results.stix.json`), 'utf8'));
    expect(stix.type).toBe('bundle');

    // The webhook: the document, and an HMAC over timestamp "." body with the lab's key.
    const delivery = webhook.received.find((r) => r.headers['overlap-session'] === daily);
    expect(delivery).toBeDefined();
    const { headers, body } = delivery as { headers: Record<string, string>; body: string };
    const key = Buffer.from(SECRET, 'hex');
    const mac = createHmac('sha256', key).update(`${headers['overlap-timestamp']}.${body}`).digest('hex');
    expect(headers['overlap-signature']).toBe(`v1=${mac}`);
    expect(
      verifyWebhookSignature(
        key,
        { timestamp: headers['overlap-timestamp'] as string, signature: headers['overlap-signature'] as string },
        body,
        { now: Date.now() },
      ),
    ).toBe(true);
    expect(
      JSON.parse(body)
        .results.map((r: { value: string }) => r.value)
        .sort(),
    ).toEqual(Object.keys(truth('lab-a', 'daily')));

    // Operations: healthy, counted, and nothing secret or valued in any log.
    const started = await logged('lab-b', (e) => e.event === 'agent_started');
    expect((await fetch(`${started.listener}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${started.listener}/metrics`)).text()).toMatch(
      /^overlap_agent_sessions_ended_total\{outcome="delivered"\} 1$/m,
    );
    for (const lab of LABS) {
      const text = JSON.stringify(agents.get(lab)?.events);
      expect(text).not.toMatch(/proc\.example|t0ps3cret/);
      expect(text).not.toContain(SECRET);
    }
  }, 240_000);

  test("a proposal outside lab-b's rules is declined at once; `session create --wait` exits with the reason", async () => {
    const create = node([
      'session',
      'create',
      '--config',
      join(dir, 'lab-a', 'overlap.toml'),
      '--labs',
      'lab-a,lab-b',
      '--kinds',
      'email',
      '--max-items',
      '60000',
      '--wait',
    ]);
    const exit = await finished(create);
    expect(exit.code, exit.err).toBe(1);
    expect(exit.err).toContain(
      "lab-b aborted: declined by lab-b's agent: maxItemsPerKind 60000 is over the 50000 accepted (accept rule 1)",
    );
  }, 120_000);

  test("lab-c's source command hangs: killed at its timeout, the session declined, the log says why", async () => {
    const create = node([
      'session',
      'create',
      '--config',
      join(dir, 'lab-a', 'overlap.toml'),
      '--labs',
      'lab-a,lab-c',
      '--kinds',
      'ip',
      '--max-items',
      '10000',
      '--wait',
    ]);
    const exit = await finished(create);
    expect(exit.code, exit.err).toBe(1);
    expect(exit.err).toContain("lab-c aborted: declined by lab-c's agent: its suspect list could not be read");
    const declined = await logged(
      'lab-c',
      (e) => e.event === 'session_declined' && e.reason === 'its suspect list could not be read',
    );
    expect(String(declined.detail)).toMatch(/timed out/);
  }, 120_000);

  test('lab-b killed mid-session and the relay restarted: the session finishes for every lab', async () => {
    for (const lab of LABS) setSuspects(lab, 'again', 3_000);
    const create = await cli(
      'session',
      'create',
      '--config',
      join(dir, 'lab-a', 'overlap.toml'),
      '--labs',
      'lab-a,lab-b,lab-c',
      '--kinds',
      'email',
      '--max-items',
      '10000',
    );
    expect(create.code, create.err).toBe(0);
    const session = create.out.trim();
    await logged('lab-b', (e) => e.event === 'session_hashing' && e.session === session);
    agents.get('lab-b')?.child.kill('SIGKILL');
    await finished(agents.get('lab-b')?.child as ChildProcess).catch(() => {});
    // The relay goes down and comes back while the other labs are mid-session.
    relay.kill('SIGTERM');
    await new Promise((resolve) => relay.once('exit', resolve));
    await startRelay();
    startAgent('lab-b');
    await logged('lab-b', (e) => e.event === 'session_resuming' && e.session === session);
    for (const lab of LABS) await logged(lab, delivered(session), 180_000);
    for (const lab of LABS) expect(results(lab, session), lab).toEqual(truth(lab, 'again'));
    // The outage was seen and waited out (logged), not skipped.
    const waited = (lab: Lab) =>
      agents.get(lab)?.events.some((e) => e.event === 'relay_retry' || e.event === 'relay_unreachable');
    expect(waited('lab-a') || waited('lab-c')).toBe(true);
  }, 300_000);

  test('SIGTERM stops an agent cleanly', async () => {
    const agent = agents.get('lab-c') as AgentProcess;
    const exit = new Promise<number | null>((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(agent.events.some((e) => e.event === 'agent_stopped')).toBe(true);
  }, 60_000);
});
