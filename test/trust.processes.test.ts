/**
 * A lying relay, caught by the labs, with every party a process of its own over HTTP on loopback
 * (spec/relay-api.md §7, spec/log.md §7): the relay is `overlap relay serve`; its witnesses are two
 * `overlap witness serve` processes and a lying witness (test/support/lying-witness-process.ts,
 * which cosigns whatever the log key signed); the labs are `overlap session create|run` processes,
 * each with its own state directory, kept across runs; and the relay's public address is a process
 * in the hands of whoever holds the relay's host (test/support/relay-front-process.ts), which can
 * put a rogue relay, a restored backup or a fork behind it, and rewrite answers with the relay key.
 *
 * The labs' trust: north configures both roots and needs witnesses 1 and 2; south configures none
 * (pinned on first use) and needs witness 1 and the liar; east configures the log key and no
 * witness policy; west configures both roots and needs witness 1 and the liar. East and west take
 * part in nothing between the honest session and the fork, so that the fork is consistent with all
 * they saw: only witnesses can tell them.
 *
 * In order: an honest session (the baseline: every lab gets the true matches); what an outsider
 * can read; forged result rows; a relay that says "done" and hides the results; a witness down
 * (the quorum unmet); a rollback to a backup; a fork shown to two labs that never saw the other
 * history (the honest witness refuses it, the liar's cosignature is not enough) and found by a lab
 * that sees both; a rogue relay with a fake admin key and a fake lab (forged membership). Each is
 * caught with a clear error, nothing acted on, and evidence where there is a contradiction.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLabKeys, toHex } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { initRelay } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, setMeta } from '../packages/relay/src/store/database.js';
import { finished, freePort } from './support/processes.js';
import { cli } from './support/run-cli.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');
const support = join(root, 'test', 'support');
const dir = mkdtempSync(join(tmpdir(), 'overlap-trust-proc-'));
const home = join(dir, 'relay');
const LABS = ['north', 'south', 'east', 'west'] as const;
type Lab = (typeof LABS)[number];
const keyFile = (lab: Lab) => join(dir, `${lab}.key`);
const stateDir = (lab: Lab) => join(dir, `${lab}.state`);
const children = new Set<ChildProcess>();

interface Running {
  process: ChildProcess;
  url: string;
}
let init: { vkey: string; adminKeyFile: string; adminPublicKey: string; origin: string };
let front: Running;
let relay: Running & { metricsUrl: string };
/** Each witness; `refusals` are the refusal events an `overlap witness serve` prints on stderr. */
const witnesses: Record<'one' | 'two' | 'liar', Running & { vkey: string; stateDir?: string; refusals?: string[] }> =
  {} as never;
const keyIds = new Map<Lab, string>();
let run = 0;

function node(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', ...args], {
    cwd: import.meta.dirname, // no overlap.toml here: every setting is on the command line
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The first JSON line a process prints on stdout (its banner), or its stderr if it exits first. */
function banner<T>(child: ChildProcess): Promise<T> {
  let out = '';
  let err = '';
  return new Promise<T>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const line = out.split('\n').find((l, i, all) => l.startsWith('{') && i < all.length - 1);
      if (line !== undefined) resolve(JSON.parse(line) as T);
    });
    child.stderr?.on('data', (data: Buffer) => {
      err += data.toString();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before its banner:\n${out}${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** `overlap relay serve` on the home at `db`, its public URL the front's, with the three witnesses. */
async function startRelay(relayHome: string): Promise<Running & { metricsUrl: string }> {
  const port = await freePort();
  const list = Object.values(witnesses).map((w) => `${w.url} ${w.vkey}`);
  const child = node([
    main,
    'relay',
    'serve',
    '--db',
    join(relayHome, 'relay.db'),
    '--port',
    String(port),
    '--public-url',
    front.url,
    '--witnesses',
    list.join(','),
    '--metrics-port',
    '0',
    '--json',
  ]);
  const { metricsUrl } = await banner<{ metricsUrl: string }>(child);
  return { process: child, url: `http://127.0.0.1:${port}`, metricsUrl };
}

async function setFront(settings: { upstream: string; mode?: string; relayKeyFile?: string; labs?: string[] }) {
  const answer = await fetch(`${front.url}/__front`, {
    method: 'POST',
    body: JSON.stringify({ mode: 'pass', ...settings }),
  });
  expect(answer.status).toBe(200);
}

async function startWitness(name: 'one' | 'two'): Promise<void> {
  const key = join(dir, `witness-${name}.key`);
  const state = join(dir, `witness-${name}.state`);
  if (!existsSync(key)) {
    expect((await cli('keygen', '--out', key, '--no-passphrase')).code).toBe(0);
    const made = await cli('witness', 'init', '--name', `witness-${name}.example`, '--key', key, '--state-dir', state);
    expect(made.code, made.err).toBe(0);
  }
  const child = node([
    main,
    'witness',
    'serve',
    '--json',
    '--port',
    String(witnesses[name] ? new URL(witnesses[name].url).port : 0),
    '--name',
    `witness-${name}.example`,
    '--key',
    key,
    '--state-dir',
    state,
    '--log-keys',
    init.vkey,
  ]);
  const refusals: string[] = [];
  let pending = '';
  child.stderr?.on('data', (data: Buffer) => {
    const lines = (pending + data.toString()).split('\n');
    pending = lines.pop() ?? ''; // a line cut between two chunks waits for its end
    for (const line of lines) if (line.startsWith('{"event":"refused"')) refusals.push(line);
  });
  const { url, vkey } = await banner<{ url: string; vkey: string }>(child);
  witnesses[name] = { process: child, url, vkey, stateDir: state, refusals };
}

/** Each lab's trust: its roots, its witness policy (and how long it waits for it). */
function trust(lab: Lab, wait = 60): string[] {
  const roots = ['--log-key', init.vkey, '--admin-public-key', init.adminPublicKey];
  const policy = (keys: string[]) => [
    '--witness-keys',
    keys.join(','),
    '--witness-quorum',
    '2',
    '--witness-wait',
    String(wait),
  ];
  if (lab === 'north') return [...roots, ...policy([witnesses.one.vkey, witnesses.two.vkey])];
  if (lab === 'south') return policy([witnesses.one.vkey, witnesses.liar.vkey]);
  if (lab === 'east') return ['--log-key', init.vkey];
  return [...roots, ...policy([witnesses.one.vkey, witnesses.liar.vkey])];
}

const labArgs = (lab: Lab, wait?: number) => [
  '--relay',
  front.url,
  '--key',
  keyFile(lab),
  '--state-dir',
  stateDir(lab),
  ...trust(lab, wait),
];

/** Each lab's items in a run: five every lab holds, the rest its own. */
const items = (lab: Lab, tag: string) => [
  ...Array.from({ length: 5 }, (_, k) => `shared-${k}-${tag}@trust.example`),
  ...Array.from({ length: 15 }, (_, k) => `${lab}-${k}-${tag}@trust.example`),
];
const truth = (tag: string) => Array.from({ length: 5 }, (_, k) => `shared-${k}-${tag}@trust.example`).sort();

/** `overlap session create` by the first lab, then `overlap session run` by each, as processes. */
async function exchange(
  labs: Lab[],
  waits: Partial<Record<Lab, number>> = {},
  resume?: { session: string; tag: string },
) {
  const session = resume?.session;
  const tag = resume?.tag ?? `run${++run}`;
  let id = session;
  if (id === undefined) {
    const [first] = labs as [Lab];
    const created = await finished(
      node([
        main,
        'session',
        'create',
        ...labArgs(first, waits[first]),
        '--labs',
        labs.join(','),
        '--kinds',
        'email',
        '--reveal',
        'labs',
        // A lab that fails leaves the others waiting: the deadline ends the session for them.
        '--deadline-minutes',
        '3',
        '--json',
      ]),
    );
    if (created.code !== 0) return { created, exits: [] };
    id = JSON.parse(created.out).session as string;
  }
  const exits = await Promise.all(
    labs.map(async (lab) => {
      const input = join(dir, `${tag}-${lab}.txt`);
      writeFileSync(input, `${items(lab, tag).join('\n')}\n`);
      const out = join(dir, `${tag}-${lab}.results.jsonl`);
      const exit = await finished(
        node([
          main,
          'session',
          'run',
          ...labArgs(lab, waits[lab]),
          '--session',
          id as string,
          '--input',
          input,
          '--kind',
          'email',
          '--out',
          out,
          '--workers',
          '1',
        ]),
      );
      const values = existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { value: string }).value)
            .sort()
        : undefined;
      return { lab, ...exit, values };
    }),
  );
  return { session: id, tag, exits };
}

/** The evidence file a LOG_INCONSISTENT error names, checked by `overlap audit evidence`. */
async function checkEvidence(message: string): Promise<{ verdict: string; origin: string }> {
  const path = /evidence written to (\S+) \(/.exec(message)?.[1];
  expect(path, message).toBeDefined();
  const checked = await cli('audit', 'evidence', '--file', path as string, '--log-key', init.vkey, '--json');
  expect(checked.code, checked.err).toBe(0);
  return JSON.parse(checked.out);
}

/** `overlap admin enroll` through the front, by the admin whose key file is `adminKeyFile`. */
async function enroll(adminKeyFile: string, identity: string, lab: string): Promise<void> {
  const enrolled = await cli(
    'admin',
    'enroll',
    '--relay',
    front.url,
    '--admin-key',
    adminKeyFile,
    '--log-key',
    init.vkey,
    '--identity',
    identity,
    '--lab',
    lab,
  );
  expect(enrolled.code, enrolled.err).toBe(0);
}

let snapshot: string;

beforeAll(async () => {
  const made = await cli('relay', 'init', '--db', join(home, 'relay.db'), '--json');
  expect(made.code, made.err).toBe(0);
  init = JSON.parse(made.out);
  await startWitness('one');
  await startWitness('two');
  const liar = node([join(support, 'lying-witness-process.ts'), 'witness-liar.example', init.vkey]);
  witnesses.liar = { process: liar, ...(await banner<{ url: string; vkey: string }>(liar)) };
  const frontProcess = node([join(support, 'relay-front-process.ts')]);
  front = { process: frontProcess, ...(await banner<{ url: string }>(frontProcess)) };
  relay = await startRelay(home);
  await setFront({ upstream: relay.url });
  for (const lab of LABS) {
    const identity = join(dir, `${lab}.identity.json`);
    expect((await cli('keygen', '--out', keyFile(lab), '--no-passphrase', '--public', identity)).code).toBe(0);
    await enroll(init.adminKeyFile, identity, lab);
    keyIds.set(lab, JSON.parse(readFileSync(identity, 'utf8')).key_id);
  }
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('a lying relay, caught by labs, witnesses and auditors in separate processes', () => {
  test('an honest session: roots pinned (configured, or on first use with a warning), every quorum met, the true matches', async () => {
    const { exits } = await exchange(['north', 'south', 'east', 'west']);
    for (const exit of exits) {
      expect(exit.code, `${exit.lab}: ${exit.err}`).toBe(0);
      expect(exit.values, exit.lab).toEqual(truth(`run${run}`));
    }
    // south configured no roots: its first run pinned the relay's, loudly; the others' said nothing.
    const south = exits.find((e) => e.lab === 'south');
    expect(south?.err).toMatch(/TRUSTING ON FIRST USE: pinned the log key/);
    expect(exits.find((e) => e.lab === 'north')?.err).not.toMatch(/TRUSTING ON FIRST USE/);
    // A copy of the relay's home as it is now, for the rollback and the fork below.
    await stop(relay.process);
    snapshot = join(dir, 'snapshot');
    cpSync(home, snapshot, { recursive: true });
    relay = await startRelay(home);
    await setFront({ upstream: relay.url });
  }, 180_000);

  test('an outsider reads checkpoints and proofs, but no entry metadata, no membership, no byte counts', async () => {
    for (const base of [front.url, relay.url]) {
      expect((await fetch(`${base}/v1/log/checkpoint`)).status).toBe(200);
      for (const path of ['/v1/log/entries', '/v1/membership', '/v1/sessions']) {
        expect((await fetch(`${base}${path}`)).status, `${base}${path}`).toBe(401);
      }
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    }
    // The byte counts are the operator's, on a listener of their own.
    expect(await (await fetch(`${relay.metricsUrl}/metrics`)).text()).toMatch(/^overlap_relay_bytes_in_total/m);
  });

  test('result rows forged with the relay key are refused by both labs (not in the log): no results written', async () => {
    await setFront({
      upstream: relay.url,
      mode: 'forge-results',
      relayKeyFile: join(home, 'relay.key'),
      labs: [...keyIds.values()],
    });
    try {
      const { exits } = await exchange(['north', 'south']);
      for (const exit of exits) {
        expect(exit.code, `${exit.lab}: ${exit.err}`).toBe(1);
        expect(exit.err).toMatch(/the result_rows the relay handed out as log entry \d+ is not that entry of its log/);
        expect(exit.values).toBeUndefined();
      }
      expect(
        ((await (await fetch(`${front.url}/__front`)).json()) as { forged: number }).forged,
      ).toBeGreaterThanOrEqual(2);
    } finally {
      await setFront({ upstream: relay.url });
    }
  }, 180_000);

  test('a relay that says "done" and hides the results is not believed: state kept, and the run resumes to the true results', async () => {
    await setFront({ upstream: relay.url, mode: 'hide-end' });
    const first = await exchange(['north', 'south']);
    await setFront({ upstream: relay.url });
    for (const exit of first.exits) {
      expect(exit.code, `${exit.lab}: ${exit.err}`).toBe(1);
      expect(exit.err).toMatch(
        /reports the session \S+ done, but serves this lab neither its result rows nor an abort/,
      );
      expect(exit.values).toBeUndefined();
    }
    // The same session again, now answered honestly: each lab resumes from the state it kept.
    const again = await exchange(
      ['north', 'south'],
      {},
      { session: first.session as string, tag: first.tag as string },
    );
    for (const exit of again.exits) {
      expect(exit.code, `${exit.lab}: ${exit.err}`).toBe(0);
      expect(exit.err).toMatch(/resum/i);
      expect(exit.values).toEqual(truth(first.tag as string));
    }
  }, 180_000);

  test('a witness down: the lab whose quorum needs it acts on nothing (WITNESS_QUORUM_UNMET); the other is unaffected', async () => {
    await stop(witnesses.two.process);
    const { exits } = await exchange(['north', 'south'], { north: 8 });
    const [north, south] = exits as [(typeof exits)[number], (typeof exits)[number]];
    expect(north.code, north.err).toBe(1);
    expect(north.err).toMatch(
      /was cosigned by 2 of this lab's witnesses \(witness-one\.example, witness-two\.example\) within 8 s.*Not acting on it/,
    );
    expect(north.values).toBeUndefined();
    expect(south.code, south.err).toBe(0);
    expect(south.values).toEqual(truth(`run${run}`));
    await startWitness('two'); // back, with its state, on its port
  }, 180_000);

  test('a rollback to a backup of the relay is refused by a lab that saw more, with evidence an auditor checks', async () => {
    const restored = join(dir, 'restored');
    cpSync(snapshot, restored, { recursive: true });
    const older = await startRelay(restored);
    await setFront({ upstream: older.url });
    try {
      const listed = await finished(node([main, 'session', 'list', ...labArgs('north')]));
      expect(listed.code, listed.err).toBe(1);
      expect(listed.err).toMatch(/evidence written to/);
      const evidence = await checkEvidence(listed.err);
      expect(evidence.origin).toBe(init.origin);
    } finally {
      await setFront({ upstream: relay.url });
      await stop(older.process);
    }
  }, 120_000);

  test('a fork shown to labs that never saw the other history: the honest witness refuses it, so the lab needing it acts on nothing; a lab without a policy is fooled until it sees the real log, then proves the fork', async () => {
    const forkHome = join(dir, 'fork');
    cpSync(snapshot, forkHome, { recursive: true });
    const refusedBefore = witnesses.one.refusals?.length ?? 0;
    const fork = await startRelay(forkHome);
    await setFront({ upstream: fork.url });
    try {
      const { exits } = await exchange(['west', 'east'], { west: 8 });
      const [west, east] = exits as [(typeof exits)[number], (typeof exits)[number]];
      // west needs witness one, which cosigned the real log and refuses this one; the liar's
      // cosignature alone is not its quorum.
      expect(west.code, west.err).toBe(1);
      expect(west.err).toMatch(/cosigned by 2 of this lab's witnesses \(witness-one\.example, witness-liar\.example\)/);
      expect(west.values).toBeUndefined();
      // east has no witness policy: this view is consistent with all it saw, so it acts on it.
      expect(east.code, east.err).toBe(0);
      // Witness one refused the fork's checkpoints itself (it holds a larger one of the real log, or
      // the fork's proof fails against it) — not merely unreachable.
      const refused = (witnesses.one.refusals ?? []).slice(refusedBefore).map((line) => JSON.parse(line).status);
      expect(refused.length, 'witness one refused nothing').toBeGreaterThan(0);
      expect(refused.every((status: number) => status === 409 || status === 422)).toBe(true);
      // The forked relay's own counters: witness one refused it, the liar cosigned it.
      const metrics = await (await fetch(`${fork.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/^overlap_relay_witness_failures_total\{witness="witness-one\.example"\} [1-9]/m);
      expect(metrics).toMatch(/^overlap_relay_witness_cosignatures_total\{witness="witness-liar\.example"\} [1-9]/m);
      expect(metrics).not.toMatch(/^overlap_relay_witness_cosignatures_total\{witness="witness-one\.example"\} [1-9]/m);
    } finally {
      await setFront({ upstream: relay.url });
      await stop(fork.process);
    }
    // Back on the real log, east's remembered checkpoint (the fork's) cannot be proven: caught, with evidence.
    const listed = await finished(node([main, 'session', 'list', ...labArgs('east')]));
    expect(listed.code, listed.err).toBe(1);
    const evidence = await checkEvidence(listed.err);
    expect(evidence.origin).toBe(init.origin);
    // The real log is larger than the fork east remembers, and its proof from the fork's size fails.
    const file = /evidence written to (\S+) \(/.exec(listed.err)?.[1] as string;
    expect(JSON.parse(readFileSync(file, 'utf8')).kind).toBe('fork');
  }, 240_000);

  test('a rogue relay with the real relay key, a fake admin key and a fake lab (forged membership) is refused, both keys shown', async () => {
    const fakeAdmin = generateLabKeys();
    const fakeAdminFile = join(dir, 'fake-admin.key');
    await writeKeyFile(fakeAdminFile, fakeAdmin);
    const rogueHome = join(dir, 'rogue');
    mkdirSync(rogueHome);
    await initRelay({
      db: join(rogueHome, 'relay.db'),
      origin: init.origin,
      adminPublicKey: fakeAdmin.signing.publicKey,
    });
    // The real relay's key and origin, the forger's admin key and membership: a fresh log.
    cpSync(join(home, 'relay.key'), join(rogueHome, 'relay.key'));
    const relayKeys = await readKeyFile(join(home, 'relay.key'));
    const db = openDatabase(join(rogueHome, 'relay.db'));
    setMeta(db, 'relay_key_id', relayKeys.keyId);
    setMeta(db, 'relay_key', toHex(relayKeys.signing.publicKey));
    db.close();
    relayKeys.dispose();
    const rogue = await startRelay(rogueHome);
    await setFront({ upstream: rogue.url });
    try {
      // north's real identity and a fake "south", enrolled by the forger's admin key.
      const fakeSouth = join(dir, 'fake-south.identity.json');
      expect(
        (await cli('keygen', '--out', join(dir, 'fake-south.key'), '--no-passphrase', '--public', fakeSouth)).code,
      ).toBe(0);
      for (const [identity, lab] of [
        [join(dir, 'north.identity.json'), 'north'],
        [fakeSouth, 'south'],
      ] as const) {
        await enroll(fakeAdminFile, identity, lab);
      }
      const fake = toHex(fakeAdmin.signing.publicKey);
      // north configured the admin key; south pinned it on first use: neither accepts the forger's.
      for (const lab of ['north', 'south'] as const) {
        const created = await finished(
          node([main, 'session', 'create', ...labArgs(lab), '--labs', 'north,south', '--kinds', 'email', '--json']),
        );
        expect(created.code, created.err).toBe(1);
        expect(created.err).toContain(`announces admin key ${fake}`);
        expect(created.err).toContain(`this lab trusts ${init.adminPublicKey}`);
      }
    } finally {
      await setFront({ upstream: relay.url });
      await stop(rogue.process);
    }
  }, 120_000);
});
