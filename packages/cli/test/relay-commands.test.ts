/**
 * `overlap relay init|serve|backup` as a forum operator runs them, each in a real child process:
 * serve never creates a relay by mistake (a typo in --db is refused, 66, nothing made; --init
 * asks for one); init and serve print the admin public key, checked against the admin key file;
 * HTTPS from files named by flags or by `[relay_server]` in overlap.toml, a key file others can read
 * refused; backups of a running relay, one killed half-way (no complete-looking directory left),
 * one of a relay killed with SIGKILL (its stale socket), an existing --out refused.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningCli, runCli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-cli-'));
const running: RunningCli[] = [];
afterAll(() => {
  for (const child of running) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function serve(args: string[], options: Parameters<typeof startCli>[1] = {}): RunningCli {
  const child = startCli(['relay', 'serve', '--port', '0', ...args], options);
  running.push(child);
  return child;
}

async function adminPublicKeyOf(file: string): Promise<string> {
  const keys = await readKeyFile(file);
  try {
    return toHex(keys.signing.publicKey);
  } finally {
    keys.dispose();
  }
}

/** Polls until `check` holds (the state of a file system another process is changing). */
async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('relay serve never initializes silently', () => {
  test('a database that does not exist is refused (66) with the command to run, and nothing is created', async () => {
    const typo = join(dir, 'typo', 'relay.db');
    const result = await runCli(['relay', 'serve', '--db', typo, '--port', '0']);
    expect(result.code, result.stderr).toBe(66);
    expect(result.stderr).toContain(`no relay database at ${typo}`);
    expect(result.stderr).toContain(`overlap relay init --db ${typo}`);
    expect(result.stderr).toContain('--init');
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  test('--init creates one, says so, and --json names its admin public key (the admin key file’s)', async () => {
    const db = join(dir, 'fresh', 'relay.db');
    const relay = serve(['--db', db, '--init', '--json']);
    await relay.waitFor(/"adminPublicKey"/);
    const shown = JSON.parse(relay.stdout().split('\n')[0] as string);
    expect(relay.stderr()).toContain('initialized a new relay');
    expect(shown.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(shown.initialized.adminKeyFile).toBe(join(dir, 'fresh', 'admin.key'));
    expect(shown.adminPublicKey).toBe(await adminPublicKeyOf(join(dir, 'fresh', 'admin.key')));
    expect(shown.initialized.adminPublicKey).toBe(shown.adminPublicKey);
    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
  });
});

describe('relay init prints the admin public key', () => {
  test('generated: the text and --json give the admin key file’s public key', async () => {
    const text = await runCli(['relay', 'init', '--db', join(dir, 'init-text', 'relay.db')]);
    expect(text.code, text.stderr).toBe(0);
    const hex = await adminPublicKeyOf(join(dir, 'init-text', 'admin.key'));
    expect(text.stdout).toMatch(new RegExp(`admin public key +${hex}`));
    const json = await runCli(['relay', 'init', '--db', join(dir, 'init-json', 'relay.db'), '--json']);
    expect(JSON.parse(json.stdout).adminPublicKey).toBe(await adminPublicKeyOf(join(dir, 'init-json', 'admin.key')));
  });

  test('given: the same key back, and serve shows it too', async () => {
    const given = await adminPublicKeyOf(join(dir, 'init-text', 'admin.key'));
    const db = join(dir, 'init-given', 'relay.db');
    const made = await runCli(['relay', 'init', '--db', db, '--admin-public-key', given, '--json']);
    expect(JSON.parse(made.stdout)).toMatchObject({ adminPublicKey: given });
    expect(JSON.parse(made.stdout).adminKeyFile).toBeUndefined();
    const relay = serve(['--db', db]);
    await relay.waitFor(/admin key +[0-9a-f]{64}\n/);
    expect(relay.stdout()).toContain(`admin key     ${given}\n`);
    relay.child.kill('SIGTERM');
    await relay.exited;
  });
});

describe('relay serve over HTTPS', () => {
  let tls = '';
  let db = '';
  beforeAll(async () => {
    tls = join(dir, 'tls');
    const made = await runCli(['tls', 'trial', '--out', tls, '--host', '127.0.0.1']);
    expect(made.code, made.stderr).toBe(0);
    db = join(dir, 'https', 'relay.db');
    expect((await runCli(['relay', 'init', '--db', db])).code).toBe(0);
  }, 60_000);

  test('from [relay_server] in overlap.toml: an https:// URL that a client trusting the CA reaches', async () => {
    const config = join(dir, 'overlap.toml');
    writeFileSync(
      config,
      `[relay_server]\ndb = "${db}"\nport = 0\ntls_cert = "${join(tls, 'relay.pem')}"\ntls_key = "${join(tls, 'relay.key')}"\n`,
    );
    const relay = serve(['--config', config, '--json']);
    await relay.waitFor(/"url"/);
    const { url } = JSON.parse(relay.stdout().split('\n')[0] as string) as { url: string };
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(tls, 'ca.pem'), 'utf8');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/healthz`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    relay.child.kill('SIGTERM');
    await relay.exited;
  });

  test.each([
    [
      'a certificate without its key',
      () => ['--tls-cert', join(tls, 'relay.pem')],
      64,
      /both --tls-cert and --tls-key/,
    ],
    [
      'a key file that does not exist',
      () => ['--tls-cert', join(tls, 'relay.pem'), '--tls-key', join(tls, 'nope.key')],
      66,
      /cannot read the TLS key .*nope\.key: no such file/,
    ],
    [
      'a certificate that is not one',
      () => ['--tls-cert', join(tls, 'ca.pem.txt'), '--tls-key', join(tls, 'relay.key')],
      64,
      /TLS certificate and key cannot be used/,
    ],
  ])('%s is refused before listening', async (_name, args, code, message) => {
    writeFileSync(join(tls, 'ca.pem.txt'), 'not a certificate\n');
    const result = await runCli(['relay', 'serve', '--db', db, '--port', '0', ...args()]);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('listening');
  });

  test('a key file other users can read is refused (64), saying how to fix it', async () => {
    const key = join(dir, 'tls-open', 'relay.key');
    mkdirSync(join(dir, 'tls-open'));
    writeFileSync(key, readFileSync(join(tls, 'relay.key')));
    chmodSync(key, 0o644);
    const result = await runCli([
      'relay',
      'serve',
      '--db',
      db,
      '--port',
      '0',
      '--tls-cert',
      join(tls, 'relay.pem'),
      '--tls-key',
      key,
    ]);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toContain(`mode 0644`);
    expect(result.stderr).toContain(`chmod 600 ${key}`);
    expect(result.stderr).not.toContain('PRIVATE KEY');
  });
});

describe('relay backup', () => {
  let db = '';
  beforeAll(async () => {
    db = join(dir, 'backed', 'relay.db');
    expect((await runCli(['relay', 'init', '--db', db])).code).toBe(0);
  }, 60_000);

  test('of a running relay: copied by it; an existing --out is refused (64) and left alone', async () => {
    const relay = serve(['--db', db]);
    await relay.waitFor(/relay listening on/);
    // fsck cannot take the running relay's lock: it says so, and how to check a copy instead.
    const locked = await runCli(['relay', 'fsck', '--db', db]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/in use by another relay process.*overlap relay backup/);
    const out = join(dir, 'backup-1');
    const made = await runCli(['relay', 'backup', '--db', db, '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ online: true, out });
    expect(made.stderr).toMatch(/admin\.key .* not copied/);
    const again = await runCli(['relay', 'backup', '--db', db, '--out', out]);
    expect(again.code).toBe(64);
    expect(again.stderr).toContain('already exists');
    expect(readdirSync(out).sort()).toEqual(['backup.json', 'relay.db', 'relay.key']);
    const checked = await runCli(['relay', 'fsck', '--db', join(out, 'relay.db')]);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.stdout).toContain('fsck: clean');
    relay.child.kill('SIGTERM');
    await relay.exited;
  });

  test('killed half-way: no directory that looks like a backup, and the next one works', async () => {
    const relay = serve(['--db', db]);
    await relay.waitFor(/relay listening on/);
    // A relay that does not answer (stopped) holds the backup at the database copy, half-way.
    relay.child.kill('SIGSTOP');
    const out = join(dir, 'backup-killed');
    const parent = dir;
    const backup = startCli(['relay', 'backup', '--db', db, '--out', out]);
    running.push(backup);
    const partial = () => readdirSync(parent).filter((name) => name.startsWith('.backup-killed.partial-'));
    await until(() => partial().length === 1, 'the backup’s temporary directory');
    backup.child.kill('SIGKILL');
    await backup.exited;
    relay.child.kill('SIGCONT');
    expect(existsSync(out)).toBe(false);
    expect(partial()).toHaveLength(1); // left as a temporary name only: never taken for a backup
    const next = await runCli(['relay', 'backup', '--db', db, '--out', out, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).online).toBe(true);
    relay.child.kill('SIGTERM');
    await relay.exited;
  }, 120_000);

  test('of a relay killed with SIGKILL: its stale socket is passed over, and a restarted relay listens again', async () => {
    const relay = serve(['--db', db]);
    await relay.waitFor(/control +\S+control\.sock/);
    relay.child.kill('SIGKILL');
    await relay.exited;
    expect(existsSync(join(dir, 'backed', 'control.sock'))).toBe(true);
    const out = join(dir, 'backup-stale');
    const made = await runCli(['relay', 'backup', '--db', db, '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).online).toBe(false);
    const restarted = serve(['--db', db]);
    await restarted.waitFor(/relay listening on/);
    const online = await runCli(['relay', 'backup', '--db', db, '--out', join(dir, 'backup-restarted'), '--json']);
    expect(JSON.parse(online.stdout).online).toBe(true);
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }, 120_000);
});
