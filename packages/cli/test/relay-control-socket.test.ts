/**
 * The relay's control socket as an operator meets it, each relay a real `overlap relay serve`: a
 * home whose path is too long for a Unix socket serves without one, warning which command then
 * cannot reach it (and `relay backup` says why it cannot copy the running relay); the socket never
 * exists in the home before it is 0600 (it arrives there by a rename, watched with inotify); a home
 * that other users may enter is warned about, naming its mode and the chmod.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { type RunningCli, runCli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-ctl-'));
const running: RunningCli[] = [];
afterAll(() => {
  for (const child of running) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function serve(db: string, ...args: string[]): RunningCli {
  const child = startCli(['relay', 'serve', '--db', db, '--port', '0', ...args]);
  running.push(child);
  return child;
}

/** SIGTERM once the relay answers a request (by then it listens for the signal). */
async function stop(relay: RunningCli): Promise<void> {
  const url = /relay listening on (\S+)/.exec(relay.stdout())?.[1] as string;
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  relay.child.kill('SIGTERM');
  expect((await relay.exited).code).toBe(0);
}

test('a home too long for a socket: the relay serves without one, says so, and backup says why it cannot copy it', async () => {
  const home = join(dir, 'h'.repeat(100));
  const db = join(home, 'relay.db');
  expect(Buffer.byteLength(join(home, 'control.sock'))).toBeGreaterThan(107);
  const relay = serve(db, '--init');
  await relay.waitFor(/relay listening on/);
  expect(relay.stderr()).toMatch(/overlap relay: warning: no control socket: its path \S+control\.sock is \d+ bytes/);
  expect(relay.stderr()).toContain('`overlap relay backup` cannot copy it while it runs');
  expect(relay.stdout()).not.toMatch(/^ {2}control/m);
  expect(existsSync(join(home, 'control.sock'))).toBe(false);

  const refused = await runCli(['relay', 'backup', '--db', db, '--out', join(dir, 'while-running')]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/in use by a relay process that cannot be asked for a copy .*too long/);
  expect(existsSync(join(dir, 'while-running'))).toBe(false);

  await stop(relay);
  const stopped = await runCli(['relay', 'backup', '--db', db, '--out', join(dir, 'stopped'), '--json']);
  expect(stopped.code, stopped.stderr).toBe(0);
  expect(JSON.parse(stopped.stdout)).toMatchObject({ online: false });
}, 120_000);

/** Prints `create NAME MODE` or `moved_to NAME MODE` for each entry made in `directory`. */
const WATCH = `
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
IN_CREATE, IN_MOVED_TO = 0x100, 0x80
if libc.inotify_add_watch(fd, sys.argv[1].encode(), IN_CREATE | IN_MOVED_TO) < 0:
    sys.exit('inotify_add_watch failed')
print('watching', flush=True)
while True:
    data = os.read(fd, 65536)
    at = 0
    while at < len(data):
        _, mask, _, length = struct.unpack_from('iIII', data, at)
        name = data[at + 16:at + 16 + length].rstrip(b'\\0').decode()
        at += 16 + length
        try:
            mode = oct(os.lstat(os.path.join(sys.argv[1], name)).st_mode & 0o777)
        except OSError:
            mode = 'gone'
        print('create' if mask & IN_CREATE else 'moved_to', name, mode, flush=True)
`;

test('the socket is never in the home before it is 0600: it is bound in a private directory and renamed there', async () => {
  const home = join(dir, 'watched');
  const db = join(home, 'relay.db');
  expect((await runCli(['relay', 'init', '--db', db])).code).toBe(0);
  const watcher = spawn('python3', ['-c', WATCH, home]);
  let events = '';
  const seen = new Promise<void>((resolve, reject) => {
    watcher.stdout.on('data', (data: Buffer) => {
      events += data.toString();
      // The whole line: a pipe may hand it over in two pieces, the mode in the second.
      if (/ control\.sock \S+\n/.test(events)) resolve();
    });
    watcher.on('exit', () => reject(new Error(`the watcher stopped: ${events}`)));
  });
  seen.catch(() => {}); // awaited below; killed at the end, it rejects unheard
  try {
    await new Promise<void>((resolve) => watcher.stdout.once('data', () => resolve()));
    const relay = serve(db);
    await relay.waitFor(/control +\S+control\.sock/);
    await seen;
    expect(events).toMatch(/^moved_to control\.sock 0o600$/m);
    expect(events).not.toMatch(/^create control\.sock/m);
    expect(statSync(join(home, 'control.sock')).mode & 0o777).toBe(0o600);
    expect(relay.stderr()).not.toContain('warning');
    await stop(relay);
  } finally {
    watcher.kill('SIGKILL');
  }
}, 120_000);

test('a home other users may enter is warned about, with its mode and the chmod; the relay serves', async () => {
  const home = join(dir, 'shared');
  const db = join(home, 'relay.db');
  expect((await runCli(['relay', 'init', '--db', db])).code).toBe(0);
  chmodSync(home, 0o750);
  const relay = serve(db);
  await relay.waitFor(/relay listening on/);
  expect(relay.stderr()).toContain(
    `overlap relay: warning: the relay's home ${home} is mode 0750: other users may enter it and read what its files' modes allow (the database, the blobs); chmod 700 ${home}`,
  );
  expect(statSync(join(home, 'control.sock')).mode & 0o777).toBe(0o600);
  const backup = await runCli(['relay', 'backup', '--db', db, '--out', join(dir, 'shared-backup'), '--json']);
  expect(JSON.parse(backup.stdout)).toMatchObject({ online: true });
  await stop(relay);
}, 120_000);
