/**
 * A lab process killed mid-session resumes: `overlap session run` for lab b is SIGKILLed as soon as
 * its local state shows work under way, started again with the same state directory, and finishes
 * with the plaintext truth — sending no envelope twice with other bytes (the relay would refuse it
 * with 409) and leaving no key behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile, writeKeyFile } from '@overlap/crypto/node';
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
  const args = [
    'session',
    'run',
    '--relay',
    relay.url,
    '--key',
    join(dir, 'b.key'),
    '--log-key',
    relay.vkey,
    '--session',
    session,
    '--input',
    join(dir, 'b.txt'),
    '--kind',
    'email',
    '--state-dir',
    stateDir,
    '--out',
    join(dir, 'b.results.jsonl'),
    '--workers',
    '1',
  ];
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
  const saved = JSON.parse(readFileSync(progress, 'utf8')) as { started: boolean; seq: number };
  expect(saved.started).toBe(true);

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
  expect(readdirSync(stateDir).sort()).toEqual([`${session}.json`]);
}, 180_000);
