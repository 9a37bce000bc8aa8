/**
 * Whole sessions over real HTTP on loopback: a relay on a fresh home, an admin that enrolls three
 * labs through RelayClient, and the three labs running concurrently with runLabSession, each with
 * its own client that verifies every receipt and the log's consistency. Each lab's results must
 * equal the plaintext truth computed here; a restart of the relay mid-session — during the hops, or
 * in the proof round (spec/protocol.md §5.2) — must change nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, type LabProgressRecord, LabStateStore, RelayClient, runLabSession } from '@overlap/client';
import { generateLabKeys, type LabKeys, toHex } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { parseVerifierKey } from '@overlap/log';
import {
  type CborValue,
  type LabResult,
  LabSession,
  type LabSessionOptions,
  type SessionProposal,
  sealEnvelope,
} from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterEach, describe, expect, test } from 'vitest';

type Sets = Record<string, string[]>;

/** Three labs' sets with overlaps of every shape: all three, each pair, and none. */
const SETS: Record<'a' | 'b' | 'c', Sets> = {
  a: {
    email: ['all@x.example', 'ab@x.example', 'ac@x.example', 'only-a@x.example', 'a2@x.example'],
    ip: ['203.0.113.1', '203.0.113.2', '198.51.100.7'],
  },
  b: {
    email: ['all@x.example', 'ab@x.example', 'bc@x.example', 'only-b@x.example'],
    ip: ['203.0.113.1', '192.0.2.44'],
  },
  c: {
    email: ['all@x.example', 'ac@x.example', 'bc@x.example'],
    ip: ['203.0.113.2', '203.0.113.1', '192.0.2.44', '192.0.2.45'],
  },
};

/** What each lab must learn under `policy`, computed from the plaintext sets. */
function truth(labs: readonly { id: string; sets: Sets }[], kinds: readonly string[], policy: 'labs' | 'count') {
  const out = new Map<string, Map<string, LabResult[]>>();
  for (const lab of labs) {
    const perKind = new Map<string, LabResult[]>();
    for (const kind of kinds) {
      const rows: LabResult[] = [];
      for (const value of lab.sets[kind] ?? []) {
        const holders = labs.filter((o) => o.id !== lab.id && (o.sets[kind] ?? []).includes(value)).map((o) => o.id);
        if (holders.length === 0) continue;
        rows.push(policy === 'labs' ? { value, labs: holders.sort() } : { value, count: holders.length });
      }
      perKind.set(kind, sortRows(rows));
    }
    out.set(lab.id, perKind);
  }
  return out;
}

const sortRows = (rows: readonly LabResult[]) => [...rows].sort((x, y) => (x.value < y.value ? -1 : 1));

interface Lab {
  name: 'a' | 'b' | 'c';
  keys: LabKeys;
  client: RelayClient;
}

const homes: string[] = [];
const servers: RelayServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => undefined);
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const retry = { attempts: 30, baseDelayMs: 20, maxDelayMs: 500 };

/** A relay on a fresh home, with labs a, b, c enrolled by the admin over HTTP. */
async function forum() {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-http-lab-'));
  homes.push(dir);
  const db = join(dir, 'relay.db');
  const init = await initRelay({ db });
  const admin = await readKeyFile(init.adminKeyFile as string);
  let relay = await startRelayServer({ db, port: 0 });
  servers.push(relay);
  const logVerifier = parseVerifierKey(relay.vkey);
  const clientFor = (keys: LabKeys) =>
    new RelayClient({
      url: relay.url,
      signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
      logVerifier,
      retry,
    });

  const adminClient = clientFor(admin);
  const forum = new ForumAdmin(relay.url, admin, { retry, logVerifier });
  const labs: Lab[] = [];
  for (const name of ['a', 'b', 'c'] as const) {
    const keys = generateLabKeys();
    await forum.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, name, {
      name: `Lab ${name}`,
    });
    labs.push({ name, keys, client: clientFor(keys) });
  }

  const info = await adminClient.relayInfo();
  expect(info.relay_key_id).toBe(relay.relayKeyId);
  expect((await adminClient.membership()).entries).toHaveLength(3);
  const publicKeys = new Map(labs.map((lab) => [lab.keys.keyId, lab.keys.signing.publicKey]));
  publicKeys.set(info.relay_key_id, info.log_key);

  return {
    labs,
    adminClient,
    relayKeyId: info.relay_key_id,
    publicKeyOf: (id: string) => publicKeys.get(id),
    /** Stops the relay and starts it again on the same database and port. */
    async restart() {
      const port = Number(new URL(relay.url).port);
      await relay.close();
      relay = await startRelayServer({ db, port });
      servers.push(relay);
    },
  };
}

/** The first lab proposes a session among all three; answers what the labs need to run it. */
async function proposeSession(
  f: Awaited<ReturnType<typeof forum>>,
  proposalFields: { kinds: string[]; policy: { kind: 'labs' | 'count' } },
) {
  const [proposer] = f.labs as [Lab, ...Lab[]];
  const proposal: SessionProposal = {
    labs: f.labs.map((lab) => lab.keys.keyId),
    maxItemsPerKind: 100,
    ...proposalFields,
  };
  const sessionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const proposed = sealEnvelope(
    { type: 'session_proposal', session: sessionId, seq: 0, created: Date.now(), payload: proposal as CborValue },
    { keyId: proposer.keys.keyId, secretKey: proposer.keys.signing.secretKey },
  );
  const created = await proposer.client.createSession(proposed.bytes);
  expect(created.session).toEqual(sessionId);
  return { proposer, proposal, sessionId, proposed };
}

/** One lab's whole side of the session (with a state store, or another engine, if given). */
function runLab(
  f: Awaited<ReturnType<typeof forum>>,
  s: Awaited<ReturnType<typeof proposeSession>>,
  lab: Lab,
  store?: LabStateStore,
  createSession?: (options: LabSessionOptions) => LabSession,
) {
  return runLabSession({
    client: lab.client,
    me: lab.keys.keyId,
    secretKey: lab.keys.signing.secretKey,
    sessionId: s.sessionId,
    proposal: s.proposal,
    sets: SETS[lab.name],
    publicKeyOf: f.publicKeyOf,
    relayKeyId: f.relayKeyId,
    ...(lab === s.proposer && { previous: { seq: 0, hash: s.proposed.hash } }),
    ...(store && { store }),
    ...(createSession && { createSession }),
    pollWaitMs: 500,
  });
}

async function runSession(
  f: Awaited<ReturnType<typeof forum>>,
  proposalFields: { kinds: string[]; policy: { kind: 'labs' | 'count' } },
  duringRun?: (sessionHex: string) => Promise<void>,
  engines: Partial<Record<Lab['name'], (options: LabSessionOptions) => LabSession>> = {},
) {
  const session = await proposeSession(f, proposalFields);
  const { proposer, proposal, sessionId } = session;
  const runs = Promise.all(f.labs.map((lab) => runLab(f, session, lab, undefined, engines[lab.name])));
  try {
    await duringRun?.(toHex(sessionId));
  } finally {
    // Even when the interruption failed, let the labs finish before the relay is torn down.
    await runs.catch(() => undefined);
  }
  const results = await runs;

  const expected = truth(
    f.labs.map((lab) => ({ id: lab.keys.keyId, sets: SETS[lab.name] })),
    proposal.kinds,
    proposalFields.policy.kind,
  );
  for (const [i, lab] of f.labs.entries()) {
    const run = results[i] as Awaited<ReturnType<typeof runLabSession>>;
    expect(run.abortReason).toBeUndefined();
    const got = new Map([...run.results].map(([kind, rows]) => [kind, sortRows(rows)]));
    expect(got).toEqual(expected.get(lab.keys.keyId));
    // Every receipt this lab got verified, against a log it saw grow consistently.
    expect(lab.client.lastCheckpoint?.size).toBeGreaterThan(3);
  }
  const status = await proposer.client.sessionStatus(toHex(sessionId));
  expect(status.state).toBe('done');
  expect([...status.joined].sort()).toEqual([...proposal.labs].sort());
  await f.adminClient.checkpoint();
  return results;
}

describe('three labs over HTTP against a real relay', () => {
  test('the labs policy: each lab learns which other labs hold each of its values', async () => {
    const f = await forum();
    await runSession(f, { kinds: ['email', 'ip'], policy: { kind: 'labs' } });
  });

  test('the count policy: each lab learns how many other labs hold each of its values', async () => {
    const f = await forum();
    await runSession(f, { kinds: ['email'], policy: { kind: 'count' } });
  });

  test('a relay restart mid-session: the labs re-send what had no receipt and finish with the same results', async () => {
    const f = await forum();
    await runSession(f, { kinds: ['email', 'ip'], policy: { kind: 'labs' } }, async (sessionHex) => {
      // Once the joins and a first chunk are in the log (3 enrollments, the proposal, 3 joins, …),
      // take the relay down under the labs' feet and bring it back on the same database.
      for (;;) {
        await f.adminClient.checkpoint();
        if ((f.adminClient.lastCheckpoint?.size ?? 0) >= 10) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const before = await f.labs[0]?.client.sessionStatus(sessionHex);
      expect(before?.state).toMatch(/^(joining|exchanging|proving)$/);
      await f.restart();
    });
  });

  test('a relay restart in the proof round: it replays the reveals and proofs, verifies the rest, and the labs finish', async () => {
    const f = await forum();
    // Lab c holds the challenge until the relay has restarted: a and b have proven by then.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let challenged = () => {};
    const atChallenge = new Promise<void>((resolve) => {
      challenged = resolve;
    });
    class HeldAtChallenge extends LabSession {
      override async receive(message: Parameters<LabSession['receive']>[0]) {
        if (message.type === 'challenge') {
          challenged();
          await held;
        }
        return super.receive(message);
      }
    }
    const engines = { c: (options: LabSessionOptions) => new HeldAtChallenge(options) };
    await runSession(
      f,
      { kinds: ['email', 'ip'], policy: { kind: 'labs' } },
      async (sessionHex) => {
        try {
          await atChallenge;
          const c = f.labs[2] as Lab;
          for (;;) {
            const status = await c.client.sessionStatus(sessionHex);
            expect(status.state).toBe('proving');
            if (status.waiting_on.length === 1) break; // a's and b's proofs are in: only c is owed
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await f.restart();
          const after = await c.client.sessionStatus(sessionHex);
          expect({ state: after.state, waiting_on: after.waiting_on }).toEqual({
            state: 'proving',
            waiting_on: [c.keys.keyId],
          });
        } finally {
          release();
        }
      },
      engines,
    );
  });

  test("a lab that dies between its kinds' result rows resumes from its store with both kinds right", async () => {
    const f = await forum();
    // Three kinds (no lab has phones): the crash falls between the second and the third rows.
    const session = await proposeSession(f, { kinds: ['email', 'ip', 'phone'], policy: { kind: 'labs' } });
    const { proposer, proposal } = session;
    const stateRoot = mkdtempSync(join(tmpdir(), 'overlap-lab-state-'));
    homes.push(stateRoot);
    const stateDir = join(stateRoot, 'session');

    /** The real store, which "crashes" when it records progress with the second kind's rows kept. */
    class CrashAfterBothRows extends LabStateStore {
      override async saveProgress(progress: LabProgressRecord): Promise<void> {
        if (readdirSync(join(this.dir, 'results')).length === 2) throw new Error('simulated crash');
        await super.saveProgress(progress);
      }
    }
    const run = (lab: Lab, store?: LabStateStore) => runLab(f, session, lab, store);
    const [crashed, ...others] = await Promise.allSettled([
      run(proposer, new CrashAfterBothRows(stateDir)),
      ...f.labs.slice(1).map((lab) => run(lab)),
    ]);
    expect(crashed.status).toBe('rejected');
    expect(String((crashed as PromiseRejectedResult).reason)).toMatch(/simulated crash/);
    for (const other of others) expect(other.status).toBe('fulfilled');
    // The first kind's rows were recorded as handled; the second's are kept but not yet recorded,
    // so they come again from the inbox and must not count twice.
    expect(readdirSync(join(stateDir, 'results'))).toHaveLength(2);

    const resumed = await run(proposer, new LabStateStore(stateDir));
    expect(resumed.abortReason).toBeUndefined();
    const expected = truth(
      f.labs.map((lab) => ({ id: lab.keys.keyId, sets: SETS[lab.name] })),
      proposal.kinds,
      'labs',
    );
    const got = new Map([...resumed.results].map(([kind, rows]) => [kind, sortRows(rows)]));
    expect(got).toEqual(expected.get(proposer.keys.keyId));
    expect(existsSync(stateDir)).toBe(false);
  });
});
