/**
 * `overlap relay serve` exits 1, saying why, when its relay stops on its own: its state cannot be
 * rebuilt from its database after a failed write (packages/relay/src/relay-runtime.ts). A real
 * child process; its blob folder is swapped for a plain file between two sessions, so that the
 * second session's first blob cannot be written and the rebuild cannot read the first session's.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { afterAll, expect, test } from 'vitest';
import { type RunningCli, runCli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-fatal-'));
let relay: RunningCli | undefined;
afterAll(() => {
  if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('relay serve exits 1 naming the cause when its state cannot be rebuilt after a failed write', async () => {
  const db = join(dir, 'relay', 'relay.db');
  expect((await runCli(['relay', 'init', '--db', db])).code).toBe(0);
  relay = startCli(['relay', 'serve', '--db', db, '--port', '0', '--json']);
  await relay.waitFor(/"url"/);
  const { url, vkey } = JSON.parse(relay.stdout().split('\n')[0] as string) as { url: string; vkey: string };
  const admin = new ForumAdmin(url, await readKeyFile(join(dir, 'relay', 'admin.key')));
  const keys = { a: generateLabKeys(), b: generateLabKeys() };
  for (const [name, lab] of Object.entries(keys)) {
    await admin.enroll({ signingKey: lab.signing.publicKey, sealingKey: lab.sealing.publicKey }, name);
  }
  const connect = (name: 'a' | 'b') =>
    OverlapClient.connect({
      relayUrl: url,
      keys: keys[name],
      logKey: vkey,
      stateDir: join(dir, `state-${name}`),
      retry: { baseDelayMs: 50, maxDelayMs: 200, maxElapsedMs: 2_000 },
    });
  const a = await connect('a');
  const b = await connect('b');
  const values = (lab: string) => Array.from({ length: 2100 }, (_, i) => `${i < 10 ? 'x' : lab}${i}@fatal.example`);
  const terms = { labs: ['a', 'b'], kinds: ['email'], policy: 'labs' as const, maxItemsPerKind: 5000 };
  const first = await a.createSession(terms);
  await Promise.all([a.run(first, { email: values('a') }), b.run(first, { email: values('b') })]);

  const blobs = join(dir, 'relay', 'blobs');
  renameSync(blobs, `${blobs}.away`);
  writeFileSync(blobs, 'not a folder');
  const second = await a.createSession(terms);
  const runs = Promise.allSettled([a.run(second, { email: values('a') }), b.run(second, { email: values('b') })]);
  const exit = await relay.exited;
  expect(exit.code, exit.stderr).toBe(1);
  expect(exit.stderr).toMatch(/a write failed \(.*blobs.*\); rebuilding the state/);
  expect(exit.stderr).toMatch(/state cannot be rebuilt from its database after a failed write: .*entry \d+/);
  for (const outcome of await runs) expect(outcome.status).toBe('rejected');
});
