/**
 * A whole exchange over HTTPS, every party a real process: the test makes its own CA and a
 * certificate for 127.0.0.1 (@peculiar/x509, no openssl), runs `overlap relay serve --tls-cert
 * --tls-key --access-log`, enrolls two labs with `overlap admin enroll`, and runs the session with
 * two `overlap session run` processes that trust the CA only through NODE_EXTRA_CA_CERTS (as
 * docs/deploy.md tells a lab to). The results must be the plaintext intersection; a lab without the
 * CA must be refused by TLS (certificate not trusted) before it sends anything; and the relay's
 * access log must hold a line for every request it answered — counted against its own metrics —
 * and nothing of the signatures, the tags or the indicators.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeTestCertificates } from '../packages/relay/test/support/test-ca.js';
import { cli } from './support/run-cli.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'overlap-https-'));
const db = join(dir, 'relay', 'relay.db');
const ca = join(dir, 'ca.pem');
const accessLog = join(dir, 'access.log');
const LABS = ['north', 'south'] as const;
type Lab = (typeof LABS)[number];
const keyFile = (lab: Lab) => join(dir, `${lab}.key`);
let relay: ChildProcess | undefined;
let url = '';
let vkey = '';
let metricsUrl = '';
let adminKeyFile = '';
const keyIds = new Map<string, string>();

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

/** This process's environment without any trust or settings of its own: no CA, no $OVERLAP_*. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith('OVERLAP_') || name.startsWith('NODE_EXTRA_CA')) delete env[name];
  return { ...env, ...extra };
}

/** `overlap …` in a child process, with the environment given on top of a clean one. */
function overlap(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], {
    cwd: root,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { child, exited: new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err }))) };
}

const trusting = { NODE_EXTRA_CA_CERTS: ca };

beforeAll(async () => {
  const certs = await makeTestCertificates(['127.0.0.1']);
  writeFileSync(ca, certs.caCert);
  writeFileSync(join(dir, 'relay.pem'), certs.serverCert);
  writeFileSync(join(dir, 'relay.key'), certs.serverKey, { mode: 0o600 });
  chmodSync(join(dir, 'relay.key'), 0o600);
  const init = await cli('relay', 'init', '--db', db, '--json');
  expect(init.code, init.err).toBe(0);
  adminKeyFile = JSON.parse(init.out).adminKeyFile;
  keyIds.set('admin', JSON.parse(init.out).adminKeyId);
  const served = overlap([
    'relay',
    'serve',
    '--db',
    db,
    '--port',
    '0',
    '--tls-cert',
    join(dir, 'relay.pem'),
    '--tls-key',
    join(dir, 'relay.key'),
    '--access-log',
    accessLog,
    '--metrics-port',
    '0',
    '--json',
  ]);
  relay = served.child;
  const banner = await new Promise<{ url: string; vkey: string; metricsUrl: string }>((resolve, reject) => {
    let output = '';
    relay?.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = output.split('\n')[0] as string;
      if (output.includes('\n')) resolve(JSON.parse(line));
    });
    served.exited.then((exit) => reject(new Error(`relay exited with ${exit.code}:\n${exit.out}${exit.err}`)));
  });
  ({ url, vkey, metricsUrl } = banner);
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  for (const lab of LABS) {
    const identity = join(dir, `${lab}.identity.json`);
    const made = await cli('keygen', '--out', keyFile(lab), '--public', identity);
    expect(made.code, made.err).toBe(0);
    keyIds.set(lab, JSON.parse(readFileSync(identity, 'utf8')).key_id);
    const enrolled = await overlap(
      ['admin', 'enroll', '--relay', url, '--admin-key', adminKeyFile, '--identity', identity, '--lab', lab],
      trusting,
    ).exited;
    expect(enrolled.code, enrolled.err).toBe(0);
  }
}, 180_000);

afterAll(() => {
  relay?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Each lab's e-mail addresses: 40 held by both, 60 of its own. */
function values(lab: Lab): string[] {
  return [
    ...Array.from({ length: 40 }, (_, i) => `both-${i}@tls.example`),
    ...Array.from({ length: 60 }, (_, i) => `${lab}-only-${i}@tls.example`),
  ];
}

/** The relay's /metrics, from its operator listener (plain HTTP on loopback): requests answered, by method and status. */
async function answeredByMetrics(): Promise<Map<string, number>> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(
    /^overlap_relay_requests_total\{route="[^"]*",method="(\w+)",status="(\d+)"\} (\d+)$/gm,
  )) {
    const key = `${match[1]} ${match[2]}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(match[3]));
  }
  return counts;
}

test('a whole 2-lab session over HTTPS, the labs trusting the forum CA through NODE_EXTRA_CA_CERTS only', async () => {
  const common = ['--relay', url, '--log-key', vkey, '--state-dir', join(dir, 'lab-state')];
  const created = await overlap(
    [
      'session',
      'create',
      ...common,
      '--key',
      keyFile('north'),
      '--labs',
      LABS.join(','),
      '--kinds',
      'email',
      '--reveal',
      'labs',
      '--json',
    ],
    trusting,
  ).exited;
  expect(created.code, created.err).toBe(0);
  const session = JSON.parse(created.out).session as string;
  for (const lab of LABS) writeFileSync(join(dir, `${lab}.txt`), `${values(lab).join('\n')}\n`);
  const runArgs = (lab: Lab, state: string) => [
    'session',
    'run',
    ...common,
    '--key',
    keyFile(lab),
    '--session',
    session,
    '--input',
    join(dir, `${lab}.txt`),
    '--kind',
    'email',
    '--state-dir',
    join(dir, state),
    '--workers',
    '1',
  ];

  // Without the CA: refused by TLS, naming the certificate, before anything is sent.
  const untrusted = await overlap(runArgs('north', 'north-untrusted')).exited;
  expect(untrusted.code, untrusted.err).not.toBe(0);
  expect(untrusted.err).toMatch(/certificate/);
  expect(untrusted.err).toMatch(/not trust|NODE_EXTRA_CA_CERTS/);

  const runs = await Promise.all(LABS.map((lab) => overlap(runArgs(lab, `${lab}-state`), trusting).exited));
  runs.forEach((run, i) => {
    expect(run.code, `${LABS[i]}: ${run.err}`).toBe(0);
  });
  // The results against the plaintext intersection, for each lab.
  const shared = values('north').filter((value) => values('south').includes(value));
  for (const lab of LABS) {
    const other = LABS.find((l) => l !== lab);
    const rows = readFileSync(join(dir, `${lab}-state`, `${session}.results.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; value: string; labs: string[]; line: number });
    expect(rows.map((row) => row.value).sort()).toEqual([...shared].sort());
    for (const row of rows) {
      // Each result names the other lab, and the line of this lab's own input it came from.
      expect(row).toEqual({ kind: 'email', value: row.value, labs: [other], line: values(lab).indexOf(row.value) + 1 });
    }
  }

  // The access log: a line for every request the relay answered, by its own metrics' count.
  const metrics = await answeredByMetrics();
  relay?.kill('SIGTERM');
  await new Promise((resolve) => relay?.once('close', resolve));
  const text = readFileSync(accessLog, 'utf8');
  const lines = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { method: string; path: string; status: number; code?: string; keyid?: string });
  // Requests whose peer went away before the answer (a long poll at exit) are logged, not counted.
  const answered = lines.filter((line) => !(line.status === 0 && line.code === undefined));
  const logged = new Map<string, number>();
  for (const line of answered) {
    const key = `${line.method} ${line.status}`;
    logged.set(key, (logged.get(key) ?? 0) + 1);
  }
  // The operator's listener is not the public one: its requests are neither logged nor counted.
  expect(answered.some((line) => line.path === '/metrics')).toBe(false);
  expect(Object.fromEntries(logged)).toEqual(Object.fromEntries(metrics));
  expect(lines.some((line) => line.path.startsWith(`/v1/sessions/${session}/envelopes`))).toBe(true);
  // Key ids only of those who signed; nothing of signatures, tags or indicators.
  const known = new Set(keyIds.values());
  for (const line of lines) if (line.keyid !== undefined) expect(known.has(line.keyid), line.keyid).toBe(true);
  expect(text).not.toMatch(/sig1|sha-256=|tls\.example|PRIVATE KEY/);
  expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/); // no base64 of 32 bytes or more (digests, tags, keys)
}, 300_000);
