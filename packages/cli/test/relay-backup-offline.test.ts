/**
 * `overlap relay backup` of a relay that is not running, in real child processes: the source is
 * only read — after a relay killed with SIGKILL (its write-ahead log not yet folded in), the
 * database and its log keep their bytes and times, and the backup holds what the log held — and a
 * home on a read-only file system (a bind mount remounted read-only, as root; a 0555 directory
 * otherwise) is backed up, cleanly stopped or killed.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-backup-offline-'));
const undo: (() => void)[] = [];
afterAll(() => {
  for (const step of undo.reverse()) step();
  rmSync(dir, { recursive: true, force: true });
});

/** Makes `path` read-only for this user: 0555 for a user, a read-only bind mount for root (who ignores modes). */
function readOnly(path: string): void {
  if (process.getuid?.() !== 0) {
    chmodSync(path, 0o555);
    undo.push(() => chmodSync(path, 0o700));
    return;
  }
  execFileSync('mount', ['--bind', path, path]);
  undo.push(() => execFileSync('umount', [path]));
  execFileSync('mount', ['-o', 'remount,ro,bind', path]);
}

/** Whether this machine lets the test make a directory read-only for root (a container may not). */
function canMakeReadOnly(): boolean {
  if (process.getuid?.() !== 0) return true;
  const probe = mkdtempSync(join(tmpdir(), 'overlap-ro-probe-'));
  try {
    execFileSync('mount', ['--bind', probe, probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Each file of the home: its bytes and modification time. */
function snapshot(home: string): Record<string, { bytes: string; mtimeNs: bigint }> {
  return Object.fromEntries(
    readdirSync(home)
      .filter((name) => name.startsWith('relay.db'))
      .map((name) => [
        name,
        {
          bytes: readFileSync(join(home, name)).toString('base64'),
          mtimeNs: statSync(join(home, name), { bigint: true }).mtimeNs,
        },
      ]),
  );
}

/** A copy of a home as it is (times kept), without the socket a killed relay leaves (cp cannot copy one). */
function copyHome(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    preserveTimestamps: true,
    filter: (source) => !statSync(source).isSocket(),
  });
}

/** Stops a relay with SIGTERM once it answers (by then it is listening for the signal). */
async function stopRelay(relay: ReturnType<typeof startCli>): Promise<void> {
  const url = /relay listening on (\S+)/.exec(relay.stdout())?.[1] as string;
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  relay.child.kill('SIGTERM');
  expect((await relay.exited).code).toBe(0);
}

let killed = '';
let clean = '';
beforeAll(async () => {
  // A relay killed with SIGKILL: what it wrote at start-up is still in its write-ahead log.
  killed = join(dir, 'killed');
  const relay = startCli(['relay', 'serve', '--db', join(killed, 'relay.db'), '--init', '--port', '0']);
  await relay.waitFor(/relay listening on/);
  relay.child.kill('SIGKILL');
  await relay.exited;
  expect(statSync(join(killed, 'relay.db-wal')).size).toBeGreaterThan(0);
  // A relay stopped cleanly: the database file alone.
  clean = join(dir, 'clean');
  const stopped = startCli(['relay', 'serve', '--db', join(clean, 'relay.db'), '--init', '--port', '0']);
  await stopped.waitFor(/relay listening on/);
  await stopRelay(stopped);
  expect(existsSync(join(clean, 'relay.db-wal'))).toBe(false);
}, 120_000);

async function backup(home: string, out: string) {
  const made = await runCli(['relay', 'backup', '--db', join(home, 'relay.db'), '--out', out, '--json']);
  expect(made.code, made.stderr).toBe(0);
  expect(JSON.parse(made.stdout)).toMatchObject({ online: false, out });
  expect(readdirSync(out).sort()).toEqual(['backup.json', 'relay.db', 'relay.key']);
  const checked = await runCli(['relay', 'fsck', '--db', join(out, 'relay.db')]);
  expect(checked.code, checked.stdout).toBe(0);
  return { manifest: JSON.parse(made.stdout) as { checkpoint: { size: number } }, fsck: checked.stdout };
}

describe('relay backup with no relay running', () => {
  test('of a killed relay: the database and its log are left byte for byte, and the copy holds the log', async () => {
    const home = join(dir, 'killed-copy');
    copyHome(killed, home);
    const before = snapshot(home);
    expect(Object.keys(before).sort()).toEqual(['relay.db', 'relay.db-wal']);
    const { fsck } = await backup(home, join(dir, 'of-killed'));
    expect(fsck).toContain('checkpoints 1'); // the relay's first checkpoint was in its log only
    const after = snapshot(home);
    // SQLite may leave its shared-memory index beside the database (a relay never uses it); the
    // database and its log are as they were.
    delete after['relay.db-shm'];
    expect(after).toEqual(before);
  }, 120_000);

  test('of a cleanly stopped relay: nothing is created or changed beside the database', async () => {
    const home = join(dir, 'clean-copy');
    copyHome(clean, home);
    const before = snapshot(home);
    await backup(home, join(dir, 'of-clean'));
    expect(snapshot(home)).toEqual(before);
  }, 120_000);

  test.skipIf(!canMakeReadOnly())(
    'from a read-only home: cleanly stopped, and killed with its log',
    async () => {
      const homes = { clean: join(dir, 'ro-clean'), killed: join(dir, 'ro-killed') };
      copyHome(clean, homes.clean);
      copyHome(killed, homes.killed);
      for (const home of Object.values(homes)) readOnly(home);
      const before = snapshot(homes.killed);
      mkdirSync(join(dir, 'ro-out'));
      await backup(homes.clean, join(dir, 'ro-out', 'clean'));
      const { fsck } = await backup(homes.killed, join(dir, 'ro-out', 'killed'));
      expect(fsck).toContain('checkpoints 1');
      expect(snapshot(homes.killed)).toEqual(before);
    },
    120_000,
  );
});
