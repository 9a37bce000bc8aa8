/**
 * A lab process killed mid-session resumes: `overlap session run` for lab b is SIGKILLed as soon as
 * its local state shows work under way, started again with the same state directory, and finishes
 * with the plaintext truth — sending no envelope twice with other bytes (the relay would refuse it
 * with 409) and leaving no key behind. Once as soon as it has uploaded, once after it answered its
 * blind task and before the proof round (spec/protocol.md §5.2): the resumed process must still
 * prove that hop, from the key and the task's inputs its state directory kept (0600).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { type BlindTask, LabSession, type LabSessionOptions } from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-resume-'));
const main = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts');
let relay: RelayServer | undefined;
afterAll(async () => {
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

const N = 12_000;
const SHARED = 3_000;
const values = (lab: string) =>
  Array.from({ length: N }, (_, i) => (i < SHARED ? `shared${i}@resume.example` : `${lab}${i}@resume.example`));

/** `overlap session run` for lab b in `session`, its state in `stateDir`, its files named `name`.*. */
function labArgs(url: string, vkey: string, session: string, stateDir: string, name = 'b'): string[] {
  return [
    'session',
    'run',
    '--relay',
    url,
    '--key',
    join(dir, `${name}.key`),
    '--log-key',
    vkey,
    '--session',
    session,
    '--input',
    join(dir, `${name}.txt`),
    '--kind',
    'email',
    '--state-dir',
    stateDir,
    '--out',
    join(dir, `${name}.results.jsonl`),
    '--workers',
    '1',
  ];
}

/** Waits for a process's exit; its code, and what it wrote to stderr. */
function finished(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function runLab(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('a lab process killed mid-session resumes from its state directory and finishes correctly', async () => {
  const init = await initRelay({ db: join(dir, 'relay.db') });
  relay = await startRelayServer({ db: init.db, port: 0 });
  const admin = new ForumAdmin(relay.url, await readKeyFile(init.adminKeyFile as string));
  const a = generateLabKeys();
  const b = generateLabKeys();
  await admin.enroll({ signingKey: a.signing.publicKey, sealingKey: a.sealing.publicKey }, 'lab-a');
  await admin.enroll({ signingKey: b.signing.publicKey, sealingKey: b.sealing.publicKey }, 'lab-b');
  await writeKeyFile(join(dir, 'b.key'), b);
  writeFileSync(join(dir, 'b.txt'), `${values('b').join('\n')}\n`);
  const pool = new BatchPool({ workers: 1 });
  const clientA = await OverlapClient.connect({ relayUrl: relay.url, keys: a, logKey: relay.vkey, pool });
  const session = await clientA.createSession({
    labs: ['lab-a', 'lab-b'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: N,
  });
  const runA = clientA.run(session, { email: values('a') });

  const stateDir = join(dir, 'state-b');
  const args = labArgs(relay.url, relay.vkey, session, stateDir);
  const first = runLab(args);
  let firstErr = '';
  first.stderr?.on('data', (d: Buffer) => {
    firstErr += d.toString();
  });
  first.stdout?.resume();
  const progress = join(stateDir, `${session}.state`, 'progress.json');
  const deadline = Date.now() + 60_000;
  while (!existsSync(progress) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(existsSync(progress), firstErr).toBe(true);
  const killed = new Promise((resolve) => first.once('exit', resolve));
  first.kill('SIGKILL');
  await killed;
  // The first progress written says the join is in the outbox (it is sent before the set is hashed).
  const saved = JSON.parse(readFileSync(progress, 'utf8')) as { joined: boolean; seq: number };
  expect(saved.joined).toBe(true);

  const second = runLab(args);
  let stderr = '';
  second.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  second.stdout?.resume();
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  expect(code, stderr).toBe(0);

  const outcomeA = await runA;
  await pool.close();
  const shared = Array.from({ length: SHARED }, (_, i) => `shared${i}@resume.example`).sort();
  expect(outcomeA.results.map((r) => r.value)).toEqual(shared);
  const rowsB = readFileSync(join(dir, 'b.results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  expect(rowsB.map((r: { value: string }) => r.value)).toEqual(shared);
  expect(rowsB.every((r: { labs: string[] }) => r.labs.join() === 'lab-a')).toBe(true);
  // The session's state, with its key, is gone; only the result document stays.
  expect(readdirSync(stateDir).sort()).toEqual([`${session}.json`, 'trust']); // and the lab's trust record, kept
}, 180_000);

test('a lab process killed after its hop and before its proofs resumes and proves it from its state directory', async () => {
  const init = await initRelay({ db: join(dir, 'proof-round', 'relay.db') });
  const server = await startRelayServer({ db: init.db, port: 0 });
  try {
    const admin = new ForumAdmin(server.url, await readKeyFile(init.adminKeyFile as string));
    const a = generateLabKeys();
    const b = generateLabKeys();
    await admin.enroll({ signingKey: a.signing.publicKey, sealingKey: a.sealing.publicKey }, 'lab-a');
    await admin.enroll({ signingKey: b.signing.publicKey, sealingKey: b.sealing.publicKey }, 'lab-b');
    await writeKeyFile(join(dir, 'b2.key'), b);
    writeFileSync(join(dir, 'b2.txt'), `${values('b').join('\n')}\n`);
    // Lab a holds its blind task (hop 1 of b's set) until b has been killed: b has answered a's
    // task by then, and no proof can be asked for before a answers.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    class HeldLab extends LabSession {
      protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
        await held;
        return super.blindChunk(task);
      }
    }
    const pool = new BatchPool({ workers: 1 });
    const clientA = await OverlapClient.connect({
      relayUrl: server.url,
      keys: a,
      logKey: server.vkey,
      pool,
      createSession: (options: LabSessionOptions) => new HeldLab(options),
    });
    const session = await clientA.createSession({
      labs: ['lab-a', 'lab-b'],
      kinds: ['email'],
      policy: 'labs',
      maxItemsPerKind: N,
    });
    const runA = clientA.run(session, { email: values('a') });

    const stateDir = join(dir, 'state-b-proofs');
    const state = join(stateDir, `${session}.state`);
    const first = runLab(labArgs(server.url, server.vkey, session, stateDir, 'b2'));
    const firstExit = finished(first);
    const deadline = Date.now() + 60_000;
    const answered = () => {
      try {
        return (JSON.parse(readFileSync(join(state, 'progress.json'), 'utf8')) as { answered: string[] }).answered;
      } catch {
        return [];
      }
    };
    while (answered().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(answered(), killed.stderr).toHaveLength(1);
    // What the proof needs is on disk, private: the key and the task's inputs.
    const inputs = readdirSync(join(state, 'inputs'));
    expect(inputs).toHaveLength(1);
    for (const file of [join(state, 'key'), join(state, 'coin'), join(state, 'inputs', inputs[0] as string)]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect((JSON.parse(readFileSync(join(state, 'progress.json'), 'utf8')) as { proved: boolean }).proved).toBe(false);
    release();

    const second = await finished(runLab(labArgs(server.url, server.vkey, session, stateDir, 'b2')));
    expect(second.code, second.stderr).toBe(0);
    const outcomeA = await runA;
    await pool.close();
    expect(outcomeA.abortReason).toBeUndefined();
    const shared = Array.from({ length: SHARED }, (_, i) => `shared${i}@resume.example`).sort();
    expect(outcomeA.results.map((r) => r.value)).toEqual(shared);
    const rowsB = readFileSync(join(dir, 'b2.results.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { value: string });
    expect(rowsB.map((r) => r.value)).toEqual(shared);
    expect(readdirSync(stateDir).sort()).toEqual([`${session}.json`, 'trust']); // and the lab's trust record, kept
  } finally {
    await server.close();
  }
}, 180_000);
