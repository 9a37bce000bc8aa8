/**
 * Sessions a lab can find and end, with the SDK against a real relay on loopback: `sessions()`
 * lists the sessions naming the lab (labs by name, their proposals checked); `abort()` puts this
 * lab's abort at the right place of its chain (seq 0 before any join, seq 1 after the proposer's
 * proposal, after the outbox when it resumes from its state), erases the state, and is refused when
 * the session is over (SESSION_FINISHED) or the lab joined elsewhere (STATE_MISSING); the forum
 * admin cannot abort (403 NOT_A_SESSION_LAB). `run()` refuses, before writing anything, a finished
 * session and one the lab already joined without its state here; it says when it resumes; and an
 * upload that crosses another lab's abort (409 SESSION_CLOSED) ends in the abort outcome, not an error.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, ForumAdmin, type LabProgress, OverlapClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { EnvelopeChain } from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-sessions-'));
let relay: RelayServer;
let pool: BatchPool;
let admin: ForumAdmin;
let adminKeyFile: string;
const keys: Record<string, LabKeys> = {};
const LABS = ['north', 'south', 'east'];

beforeAll(async () => {
  const init = await initRelay({ db: join(dir, 'relay.db') });
  relay = await startRelayServer({ db: init.db, port: 0 });
  pool = new BatchPool({ workers: 1 });
  adminKeyFile = init.adminKeyFile as string;
  admin = new ForumAdmin(relay.url, await readKeyFile(adminKeyFile));
  for (const lab of LABS) {
    const labKeys = generateLabKeys();
    keys[lab] = labKeys;
    await admin.enroll({ signingKey: labKeys.signing.publicKey, sealingKey: labKeys.sealing.publicKey }, lab);
  }
});
afterAll(async () => {
  await pool.close();
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(
  lab: string,
  options: { stateDir?: string; signal?: AbortSignal; onProgress?: (e: LabProgress) => void } = {},
) {
  return OverlapClient.connect({
    relayUrl: relay.url,
    keys: keys[lab] as LabKeys,
    logKey: relay.vkey,
    pool,
    ...options,
  });
}

async function propose(by: string, labs: string[]): Promise<string> {
  const client = await connect(by);
  return client.createSession({ labs, kinds: ['email'], policy: 'labs', maxItemsPerKind: 1000 });
}

const emails = (lab: string, n = 40) =>
  Array.from({ length: n }, (_, i) => (i < 10 ? `shared${i}@x.example` : `${lab}${i}@x.example`));

/** Polls `condition` until it holds (a generous bound: the machine is slow at times). */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function refusal(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

/** Runs `lab` in `session` until `stop(event)` holds, then cuts it off (as if its process died). */
async function runUntil(lab: string, session: string, stateDir: string | undefined, stop: (e: LabProgress) => boolean) {
  const controller = new AbortController();
  const events: LabProgress[] = [];
  const client = await connect(lab, {
    ...(stateDir !== undefined && { stateDir }),
    signal: controller.signal,
    onProgress: (event) => {
      events.push(event);
      if (stop(event)) controller.abort(new Error('cut off by the test'));
    },
  });
  await expect(client.run(session, { email: emails(lab) })).rejects.toThrow();
  return events;
}

describe('sessions()', () => {
  test('the sessions naming this lab, labs by name, its state as the relay reports it', async () => {
    const session = await propose('north', ['north', 'south']);
    const other = await propose('south', ['south', 'east']);
    const north = await connect('north');
    const listed = (await north.sessions()).find((s) => s.session === session);
    expect(listed).toEqual({
      session,
      state: 'joining',
      proposer: 'north',
      labs: ['north', 'south'],
      kinds: ['email'],
      policy: { kind: 'labs' },
      joinBy: expect.any(Number),
      deadline: expect.any(Number),
      joined: [],
      waiting_on: ['north', 'south'],
    });
    expect((await north.sessions()).map((s) => s.session)).not.toContain(other);
    expect((await (await connect('east')).sessions()).map((s) => s.session)).toEqual([other]);
  });
});

describe('abort()', () => {
  test('a lab that has sent nothing aborts at seq 0; every running lab gets the abort outcome', async () => {
    const session = await propose('north', ['north', 'south']);
    const events: LabProgress[] = [];
    const north = await connect('north', { onProgress: (e) => events.push(e) });
    const running = north.run(session, { email: emails('north') });
    await waitFor(() => events.some((e) => e.phase === 'waiting'), "north's upload");
    const done = await (await connect('south')).abort(session, 'our data is not ready');
    expect(done).toMatchObject({ session, index: expect.any(Number), stateErased: false });
    const outcome = await running;
    expect(outcome.results).toEqual([]);
    expect(outcome.abortReason).toContain('our data is not ready');
    const status = (await north.terms(session)).status;
    expect(status.state).toBe('aborted');
    expect(status.abort?.reason).toBe(`${keys.south?.keyId} aborted: our data is not ready`);
  }, 120_000);

  test('the proposer aborts before joining: seq 1, after its proposal', async () => {
    const session = await propose('north', ['north', 'south']);
    await (await connect('north')).abort(session, 'wrong kinds');
    const summary = (await (await connect('south')).sessions()).find((s) => s.session === session);
    expect(summary).toMatchObject({ state: 'aborted', abortReason: `${keys.north?.keyId} aborted: wrong kinds` });
  });

  test('a lab that joined continues its chain from its state, and the state (its key) is erased', async () => {
    const session = await propose('north', ['north', 'south']);
    const stateDir = join(dir, 'south-state');
    await runUntil('south', session, stateDir, (e) => e.phase === 'waiting');
    const state = join(stateDir, `${session}.state`);
    expect(existsSync(join(state, 'key'))).toBe(true);
    const south = await connect('south', { stateDir });
    expect((await south.terms(session)).status.joined).toEqual([keys.south?.keyId]);
    expect(await south.abort(session, 'changed our mind')).toMatchObject({ stateErased: true });
    expect(existsSync(state)).toBe(false);
    expect((await south.terms(session)).status.state).toBe('aborted');
  }, 120_000);

  test('a lab cut off mid-upload sends what its outbox holds first, then its abort after it', async () => {
    const session = await propose('north', ['north', 'south']);
    const stateDir = join(dir, 'south-outbox');
    const controller = new AbortController();
    const cut = await connect('south', { stateDir, signal: controller.signal });
    const post = cut.relay.postEnvelope.bind(cut.relay);
    let posts = 0;
    // The join is logged; the process "dies" as it is about to send its first chunk.
    cut.relay.postEnvelope = async (id, bytes) => {
      if (++posts === 2) controller.abort(new Error('cut off by the test'));
      return post(id, bytes);
    };
    await expect(cut.run(session, { email: emails('south') })).rejects.toThrow();
    const outbox = join(stateDir, `${session}.state`, 'outbox');
    expect(readdirSync(outbox)).toHaveLength(1);
    const south = await connect('south', { stateDir });
    expect((await south.terms(session)).status.joined).toEqual([keys.south?.keyId]);
    // Without the chunk first, an abort at the chain's next place would be a gap the relay refuses.
    expect(await south.abort(session, 'cut off')).toMatchObject({ stateErased: true });
    expect((await south.terms(session)).status).toMatchObject({ state: 'aborted' });
  }, 120_000);

  test('a lab that joined with no state here is told so (STATE_MISSING), by abort() and by run()', async () => {
    const session = await propose('north', ['north', 'south']);
    await runUntil('south', session, undefined, (e) => e.phase === 'waiting');
    const elsewhere = join(dir, 'elsewhere');
    const south = await connect('south', { stateDir: elsewhere });
    const aborting = await refusal(south.abort(session, 'x'));
    expect(aborting.code).toBe('STATE_MISSING');
    expect(aborting.message).toBe(
      `this lab already joined session ${session}, and its state is not in ${join(elsewhere, `${session}.state`)}: resume where it ran, or abort it`,
    );
    const running = await refusal(south.run(session, { email: emails('south') }));
    expect(running.code).toBe('STATE_MISSING');
    expect(existsSync(elsewhere)).toBe(false);
    const stateless = await refusal((await connect('south')).run(session, { email: emails('south') }));
    expect(stateless.message).toMatch(/this client keeps no state \(no stateDir\)/);
    // The proposer, which has not joined, may still end it.
    await (await connect('north')).abort(session, 'south lost its state');
  }, 120_000);

  test('a finished session: abort() and run() are SESSION_FINISHED, and run() writes nothing', async () => {
    const session = await propose('north', ['north', 'south']);
    await (await connect('south')).abort(session, 'first');
    const again = await refusal((await connect('north')).abort(session, 'second'));
    expect(again.code).toBe('SESSION_FINISHED');
    expect(again.message).toBe(`session ${session} was aborted: ${keys.south?.keyId} aborted: first`);
    const stateDir = join(dir, 'north-finished');
    const run = await refusal((await connect('north', { stateDir })).run(session, { email: emails('north') }));
    expect(run.code).toBe('SESSION_FINISHED');
    expect(existsSync(stateDir)).toBe(false);
  });

  test('a session that ended with results is SESSION_FINISHED for a lab that runs it again', async () => {
    const session = await propose('north', ['north', 'south']);
    const [north, south] = await Promise.all([connect('north'), connect('south')]);
    const outcomes = await Promise.all([
      north.run(session, { email: emails('north') }),
      south.run(session, { email: emails('south') }),
    ]);
    expect(outcomes[0]?.results).toHaveLength(10);
    const again = await refusal(north.run(session, { email: emails('north') }));
    expect(again).toMatchObject({ code: 'SESSION_FINISHED', message: `session ${session} is already done` });
  }, 120_000);

  test('a reason that says nothing, or is over 1024 characters, is BAD_ARGUMENT before any request', async () => {
    const north = await connect('north');
    const session = 'ab'.repeat(16);
    for (const reason of ['', '   ', 'x'.repeat(1025)]) {
      expect((await refusal(north.abort(session, reason))).code).toBe('BAD_ARGUMENT');
    }
  });

  test('a lab outside the session, and the forum admin, cannot abort it', async () => {
    const session = await propose('north', ['north', 'south']);
    // The relay does not even show the session to a lab outside it.
    expect(await refusal((await connect('east')).abort(session, 'not mine'))).toMatchObject({
      code: 'RELAY_REFUSED',
      status: 403,
      relayCode: 'NOT_A_SESSION_LAB',
    });
    const adminKeys = await readKeyFile(adminKeyFile);
    const envelope = new EnvelopeChain(Buffer.from(session, 'hex'), {
      keyId: adminKeys.keyId,
      secretKey: adminKeys.signing.secretKey,
    }).seal('abort', { reason: 'the forum ends it' }, Date.now());
    const refused = await refusal(admin.relay.postEnvelope(session, envelope.bytes));
    expect(refused).toMatchObject({ code: 'RELAY_REFUSED', status: 403, relayCode: 'NOT_A_SESSION_LAB' });
  });
});

describe('createSession()', () => {
  test('a threshold above the number of labs is BAD_ARGUMENT naming both numbers', async () => {
    const north = await connect('north');
    const error = await refusal(
      north.createSession({ labs: ['north', 'south'], kinds: ['email'], policy: 'threshold:9', maxItemsPerKind: 10 }),
    );
    expect(error.code).toBe('BAD_ARGUMENT');
    expect(error.message).toMatch(/threshold:9 .* 2 labs/);
    // The largest threshold that can be met is accepted.
    await expect(
      north.createSession({ labs: LABS, kinds: ['email'], policy: 'threshold:3', maxItemsPerKind: 10 }),
    ).resolves.toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('run()', () => {
  test('says when it resumes: a resuming event first, with what the state holds', async () => {
    const session = await propose('north', ['north', 'south']);
    const stateDir = join(dir, 'south-resume');
    await runUntil('south', session, stateDir, (e) => e.phase === 'waiting');
    const events: LabProgress[] = [];
    const south = await connect('south', { stateDir, onProgress: (e) => events.push(e) });
    const [outcome] = await Promise.all([
      south.run(session, { email: emails('south') }),
      (await connect('north')).run(session, { email: emails('north') }),
    ]);
    expect(outcome.results).toHaveLength(10);
    expect(events[0]).toEqual({ phase: 'resuming', unacknowledged: 0, inboxAfter: 0, started: true });
    expect(events.filter((e) => e.phase === 'resuming')).toHaveLength(1);
    expect(events.some((e) => e.phase === 'hashing')).toBe(false);
  }, 120_000);

  test('a fresh run emits no resuming event', async () => {
    const session = await propose('north', ['north', 'south']);
    const events: LabProgress[] = [];
    const stateDir = join(dir, 'fresh');
    const runs = await Promise.all([
      (await connect('south', { stateDir, onProgress: (e) => events.push(e) })).run(session, {
        email: emails('south'),
      }),
      (await connect('north')).run(session, { email: emails('north') }),
    ]);
    expect(runs[0].results).toHaveLength(10);
    expect(events[0]?.phase).toBe('hashing');
  }, 120_000);

  test('an upload that crosses another lab abort (409 SESSION_CLOSED) ends in the abort outcome', async () => {
    const session = await propose('north', ['north', 'south']);
    const stateDir = join(dir, 'north-crossed');
    const north = await connect('north', { stateDir });
    const post = north.relay.postEnvelope.bind(north.relay);
    const answers: string[] = [];
    let posts = 0;
    // Before north's second envelope (its first chunk, after its join) south aborts the session.
    north.relay.postEnvelope = async (id, bytes) => {
      if (++posts === 2) await (await connect('south')).abort(session, 'crossing');
      try {
        const receipt = await post(id, bytes);
        answers.push('receipt');
        return receipt;
      } catch (error) {
        answers.push((error as ClientError).relayCode ?? String(error));
        throw error;
      }
    };
    const outcome = await north.run(session, { email: emails('north') });
    expect(answers.slice(0, 2)).toEqual(['receipt', 'SESSION_CLOSED']);
    expect(outcome).toMatchObject({ results: [], abortReason: expect.stringContaining('crossing') });
    expect(existsSync(join(stateDir, `${session}.state`))).toBe(false);
  }, 120_000);
});
