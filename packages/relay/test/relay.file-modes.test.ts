/**
 * The relay's database, its WAL and its shared-memory file hold every envelope the log accepted:
 * they are 0600 whatever the umask and whoever made the folder around them (the relay's README,
 * "Running it"). Under umask 022, in a home folder that already existed with mode 0755 (so
 * `init` did not make it private), and for a database an earlier version left 0644.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeyFile } from '@overlap/crypto/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { initRelay, startRelayServer } from '../src/index.js';
import { actor, TestRelay } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-modes-'));
let umask: number;
beforeAll(() => {
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('relay.db and its WAL are 0600 in a home that was 0755, and a 0644 database is narrowed at the next start', async () => {
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o755 });
  const db = join(home, 'relay.db');
  const init = await initRelay({ db });
  expect(modeOf(home)).toBe(0o755); // the operator's folder, left as it is
  expect(modeOf(db)).toBe(0o600);
  let relay = await startRelayServer({ db, port: 0, controlSocket: false });
  // A write, so that the WAL is there.
  const forum = new TestRelay(home, relay, actor(await readKeyFile(init.adminKeyFile as string)), { db }, relay.url);
  await forum.enroll('lab-a');
  const files = [db, `${db}-wal`, `${db}-shm`].filter((file) => existsSync(file));
  expect(files).toContain(`${db}-wal`);
  for (const file of files) expect(modeOf(file), file).toBe(0o600);
  await relay.close();

  chmodSync(db, 0o644);
  relay = await startRelayServer({ db, port: 0, controlSocket: false });
  await relay.close();
  expect(modeOf(db)).toBe(0o600);
});
