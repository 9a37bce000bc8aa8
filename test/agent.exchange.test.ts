/**
 * Three labs' agents (@overlap/agent) against a real relay over HTTP on loopback, in this process,
 * on injectable clocks: a schedule fires when its clock says so (not after a minute of waiting),
 * every agent joins by its own rules and writes results that equal the plaintext truth; a
 * proposal outside one agent's rules is declined at once with the reason, which the proposer
 * hears; a source command that fails declines the session instead of joining it empty; an agent
 * stopped and started again does not judge a proposal twice; the relay going away is waited out
 * with backoff on the clock, and /healthz says so meanwhile.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentSection, agentConfigOf, ManualClock, memoryLog } from '@overlap/agent';
import { ForumAdmin, OverlapClient, waitForJoins } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { until } from './support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-agent-'));
const LABS = ['lab-a', 'lab-b', 'lab-c'] as const;
type Lab = (typeof LABS)[number];
let relay: RelayServer;
let relayDb: string;
let adminPublicKey: Uint8Array;
const keys = new Map<Lab, LabKeys>();
const running: Agent[] = [];

/** Each lab's e-mails: 40 every lab holds, 10 shared by a and b only, the rest its own. */
function emails(lab: Lab): string[] {
  const all = Array.from({ length: 40 }, (_, i) => `Shared${i}@Agents.example`);
  if (lab !== 'lab-c') all.push(...Array.from({ length: 10 }, (_, i) => `ab${i}@agents.example`));
  all.push(...Array.from({ length: 50 }, (_, i) => `${lab}-${i}@agents.example`));
  return all;
}

/** What each lab should learn under `labs`: its values other labs hold, with who. */
function truth(lab: Lab): Map<string, string[]> {
  const sets = new Map(LABS.map((l) => [l, new Set(emails(l).map((e) => e.toLowerCase()))]));
  const out = new Map<string, string[]>();
  for (const value of sets.get(lab) ?? []) {
    const others = LABS.filter((l) => l !== lab && sets.get(l)?.has(value));
    if (others.length > 0) out.set(value, [...others].sort());
  }
  return out;
}

function section(lab: Lab, extra: Partial<AgentSection> = {}): AgentSection {
  const home = join(dir, lab);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'emails.txt'), `${emails(lab).join('\n')}\n`);
  return {
    listen: '127.0.0.1:0',
    max_sessions: 2,
    workers: 1,
    accept: [{ from: ['lab-a'], kinds: ['email', 'ip'], max_items_per_kind: 10_000 }],
    sources: {
      email: { file: 'emails.txt', format: 'lines' },
      ip: { command: [process.execPath, '-e', 'process.stderr.write("export failed\\n"); process.exit(3)'] },
    },
    results: { dir: 'results', formats: ['jsonl', 'csv'] },
    ...extra,
  };
}

async function startAgent(lab: Lab, clock: ManualClock, extra: Partial<AgentSection> = {}) {
  const log = memoryLog();
  const home = join(dir, lab);
  const agent = await Agent.start({
    config: agentConfigOf(section(lab, extra), home),
    stateDir: join(home, 'state'),
    connect: (more) =>
      OverlapClient.connect({
        relayUrl: relay.url,
        keys: keys.get(lab) as LabKeys,
        logKey: relay.vkey,
        adminKey: adminPublicKey,
        trustDir: join(home, 'state', 'trust'),
        requirePinnedRoots: true,
        ...more,
      }),
    clock,
    log,
    pollWaitMs: 2_000,
    backoff: { firstMs: 1_000, maxMs: 60_000 },
  });
  running.push(agent);
  return { agent, log, home };
}

function resultsOf(home: string, session: string): Map<string, string[]> {
  const lines = readFileSync(join(home, 'results', `${session}.results.jsonl`), 'utf8')
    .trim()
    .split('\n');
  return new Map(
    lines.map((line) => {
      const r = JSON.parse(line) as { value: string; labs: string[] };
      return [r.value, r.labs];
    }),
  );
}

beforeAll(async () => {
  relayDb = join(dir, 'relay.db');
  const init = await initRelay({ db: relayDb });
  relay = await startRelayServer({ db: init.db, port: 0 });
  const adminKeys = await readKeyFile(init.adminKeyFile as string);
  adminPublicKey = adminKeys.signing.publicKey;
  const admin = new ForumAdmin(relay.url, adminKeys);
  for (const lab of LABS) {
    const k = generateLabKeys();
    keys.set(lab, k);
    await admin.enroll({ signingKey: k.signing.publicKey, sealingKey: k.sealing.publicKey }, lab);
  }
}, 60_000);

afterAll(async () => {
  for (const agent of running) await agent.stop();
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('three agents run the exchange', () => {
  let clocks: Record<Lab, ManualClock>;
  let a: Awaited<ReturnType<typeof startAgent>>;
  let b: Awaited<ReturnType<typeof startAgent>>;
  let c: Awaited<ReturnType<typeof startAgent>>;

  test('a schedule fires on its clock; every agent joins and writes the plaintext truth', async () => {
    clocks = {
      'lab-a': new ManualClock(Date.now()),
      'lab-b': new ManualClock(Date.now()),
      'lab-c': new ManualClock(Date.now()),
    };
    a = await startAgent('lab-a', clocks['lab-a'], {
      schedule: [
        {
          name: 'minutely',
          cron: '0 * * * * *',
          labs: [...LABS],
          kinds: ['email'],
          reveal: 'labs',
          max_items: 10_000,
          deadline_minutes: 30,
          catch_up_minutes: 0,
        },
      ],
    });
    b = await startAgent('lab-b', clocks['lab-b']);
    c = await startAgent('lab-c', clocks['lab-c']);
    const health = await fetch(`${a.agent.listenerUrl}/healthz`);
    expect(health.status).toBe(200);
    // The schedule sleeps until its next slot (under a minute away): the clock goes there at once.
    const clock = clocks['lab-a'];
    const slot = await until('the schedule to sleep', () => clock.nextWake);
    expect(slot - Date.now()).toBeLessThanOrEqual(60_000);
    clock.set(slot);
    const fired = await until('the schedule to fire', () => a.log.records.find((r) => r.event === 'schedule_fired'));
    const session = fired.fields.session as string;
    for (const lab of [a, b, c]) {
      await until(
        `${lab.home}'s results`,
        () => lab.log.records.find((r) => r.event === 'session_delivered' && r.fields.session === session),
        120_000,
      );
    }
    for (const [lab, agent] of [
      ['lab-a', a],
      ['lab-b', b],
      ['lab-c', c],
    ] as const) {
      expect(resultsOf(agent.home, session)).toEqual(truth(lab));
    }
    const csv = readFileSync(join(b.home, 'results', `${session}.results.csv`), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(truth('lab-b').size + 1);
    const metrics = await (await fetch(`${b.agent.listenerUrl}/metrics`)).text();
    expect(metrics).toMatch(/^overlap_agent_sessions_ended_total\{outcome="delivered"\} 1$/m);
    expect(metrics).toMatch(/^overlap_agent_hops_answered_total [1-9]/m);
    // No value reached any log.
    for (const agent of [a, b, c]) expect(JSON.stringify(agent.log.records)).not.toMatch(/@agents\.example/i);
  }, 180_000);

  test("a proposal outside an agent's rules is declined at once, and the proposer hears why", async () => {
    const proposer = await OverlapClient.connect({
      relayUrl: relay.url,
      keys: keys.get('lab-a') as LabKeys,
      logKey: relay.vkey,
    });
    const session = await proposer.createSession({
      labs: ['lab-a', 'lab-c'],
      kinds: ['email'],
      policy: 'count',
      maxItemsPerKind: 50_000,
    });
    const outcome = await waitForJoins(proposer.relay, session);
    expect(outcome).toMatchObject({ state: 'ended', how: 'aborted' });
    // The relay names the lab's key that aborted; the reason is the agent's.
    expect((outcome as { reason?: string }).reason).toBe(
      `${keys.get('lab-c')?.keyId} aborted: declined by lab-c's agent: maxItemsPerKind 50000 is over the 10000 accepted (accept rule 1)`,
    );
    const declined = await until('c to log its decline', () =>
      c.log.records.find((r) => r.event === 'session_declined' && r.fields.session === session),
    );
    expect(declined.fields.reason).toContain('maxItemsPerKind 50000');
  }, 60_000);

  test("a source command that fails declines the session, and says so in the lab's log only", async () => {
    const proposer = await OverlapClient.connect({
      relayUrl: relay.url,
      keys: keys.get('lab-a') as LabKeys,
      logKey: relay.vkey,
    });
    const session = await proposer.createSession({
      labs: ['lab-a', 'lab-b'],
      kinds: ['ip'],
      policy: 'labs',
      maxItemsPerKind: 1_000,
      deadline: Date.now() + 3_600_000,
    });
    const outcome = await waitForJoins(proposer.relay, session);
    // lab-a has the same failing command as its ipv4 source: whichever agent reads first declines.
    expect((outcome as { reason?: string }).reason).toMatch(
      / aborted: declined by lab-[ab]'s agent: its suspect list could not be read$/,
    );
    const who = (outcome as { reason: string }).reason.includes("lab-a's") ? a : b;
    const logged = await until('the decline in the log', () =>
      who.log.records.find((r) => r.event === 'session_declined' && r.fields.session === session),
    );
    expect(String(logged.fields.detail)).toMatch(/exit|3/);
    expect(String((outcome as { reason: string }).reason)).not.toContain(process.execPath);
  }, 60_000);

  test('a restarted agent judges no proposal twice, and waits out the relay with backoff on its clock', async () => {
    await c.agent.stop();
    const seen = c.log.records.filter((r) => r.event === 'session_declined').length;
    const clock = new ManualClock(Date.now());
    c = await startAgent('lab-c', clock);
    await until('c to watch again', () => c.log.records.find((r) => r.event === 'agent_started'));
    // The relay goes away: c's next list fails, and c sleeps on its clock (not on a timer) before retrying.
    const port = new URL(relay.url).port;
    await relay.close();
    const down = await until(
      'c to see the outage',
      () => c.log.records.find((r) => r.event === 'relay_unreachable'),
      90_000,
    );
    expect(Number(down.fields.retry_in_ms)).toBeGreaterThanOrEqual(800);
    expect((await fetch(`${c.agent.listenerUrl}/healthz`)).status).toBe(503);
    relay = await startRelayServer({ db: relayDb, port: Number(port) });
    await until('c to sleep on its backoff', () => clock.sleepers > 0);
    clock.advance(60_000);
    await until('c to reach the relay again', () => c.log.records.find((r) => r.event === 'relay_reachable'), 60_000);
    expect((await fetch(`${c.agent.listenerUrl}/healthz`)).status).toBe(200);
    expect(c.log.records.filter((r) => r.event === 'session_declined')).toHaveLength(0);
    expect(seen).toBe(1);
  }, 180_000);

  test("a relay that answers every poll at once (it ignores wait) is asked at the poll's pace, not in a loop", async () => {
    const home = join(dir, 'hasty');
    mkdirSync(home, { recursive: true });
    const init = await initRelay({ db: join(home, 'relay.db') });
    const hasty = await startRelayServer({ db: init.db, port: 0, limits: { maxWaitMs: 0 }, metrics: { port: 0 } });
    try {
      const adminKeys = await readKeyFile(init.adminKeyFile as string);
      const k = generateLabKeys();
      await new ForumAdmin(hasty.url, adminKeys).enroll(
        { signingKey: k.signing.publicKey, sealingKey: k.sealing.publicKey },
        'lab-a',
      );
      writeFileSync(join(home, 'emails.txt'), 'one@agents.example\n');
      const log = memoryLog();
      const agent = await Agent.start({
        config: agentConfigOf(
          { listen: 'off', sources: { email: { file: 'emails.txt' } }, results: { dir: 'results' } },
          home,
        ),
        stateDir: join(home, 'state'),
        connect: (more) =>
          OverlapClient.connect({
            relayUrl: hasty.url,
            keys: k,
            logKey: hasty.vkey,
            adminKey: adminKeys.signing.publicKey,
            ...more,
          }),
        log,
        pollWaitMs: 1_000,
      });
      running.push(agent);
      const count = async () => {
        const text = await (await fetch(`${hasty.metricsUrl}/metrics`)).text();
        return [
          ...text.matchAll(
            /^overlap_relay_requests_total\{route="\/v1\/sessions",method="GET",status="200"\} (\d+)$/gm,
          ),
        ].reduce((n, m) => n + Number(m[1]), 0);
      };
      await until('a first list', async () => (await count()) >= 1);
      const first = await count();
      const t0 = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const made = (await count()) - first;
      // At the poll's pace (one a second here) at most; a loop would have made thousands.
      expect(made).toBeLessThanOrEqual(Math.ceil((Date.now() - t0) / 1_000) + 1);
      await agent.stop();
    } finally {
      await hasty.close();
    }
  }, 60_000);
});
