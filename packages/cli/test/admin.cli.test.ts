/**
 * `overlap admin enroll|revoke|list` as the forum operator runs them, in a real child process
 * against a real relay on loopback: the relay and the admin key come from flags, $OVERLAP_RELAY /
 * $OVERLAP_ADMIN_KEY, or overlap.toml (`relay`, `admin.key`), flags first; `list` checks every
 * enrollment against the admin key it is told to pin (and warns when it is told none); `key show`
 * prints the admin public key the relay itself announces. A bad argument (a lab id with a space,
 * a bad log key) is a usage error before any connection is made: checked with a listener that
 * counts the connections it gets.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labIdentityOf } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { writeKeyFile } from '@overlap/crypto/node';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-admin-'));
let relay: RelayServer;
let adminKey: string;
let labKeyFile: string;
const identities: Record<string, { path: string; keyId: string }> = {};

beforeAll(async () => {
  const init = await initRelay({ db: join(dir, 'relay', 'relay.db') });
  adminKey = init.adminKeyFile as string;
  relay = await startRelayServer({ db: init.db, port: 0, controlSocket: false });
  for (const lab of ['north', 'south', 'east']) {
    const keys = generateLabKeys();
    const identity = labIdentityOf(keys);
    if (lab === 'north') {
      labKeyFile = join(dir, 'north.key');
      await writeKeyFile(labKeyFile, keys);
    }
    keys.dispose();
    const path = join(dir, `${lab}.identity.json`);
    writeFileSync(path, JSON.stringify(identity));
    identities[lab] = { path, keyId: identity.key_id };
  }
}, 60_000);
afterAll(async () => {
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the forum operator, from the environment and from overlap.toml', () => {
  test('key show prints the admin public key the relay announces; enroll, revoke and list honour the settings', async () => {
    const shown = await runCli(['key', 'show', '--admin-key', adminKey, '--json'], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ role: 'admin', signing_key: relay.adminPublicKey });

    // From the environment.
    const env = { OVERLAP_RELAY: relay.url, OVERLAP_ADMIN_KEY: adminKey };
    const north = await runCli(
      ['admin', 'enroll', '--identity', identities.north?.path as string, '--lab', 'north', '--json'],
      { cwd: dir, env },
    );
    expect(north.code, north.stderr).toBe(0);
    expect(JSON.parse(north.stdout)).toEqual({
      lab: 'north',
      key_id: identities.north?.keyId,
      index: expect.any(Number),
    });

    // From a config file in the working directory; its paths are relative to it.
    const forum = join(dir, 'forum');
    mkdirSync(forum);
    copyFileSync(adminKey, join(forum, 'admin.key'));
    chmodSync(join(forum, 'admin.key'), 0o600);
    writeFileSync(
      join(forum, 'overlap.toml'),
      `relay = "${relay.url}"\n\n[trust]\nadmin_key = "${relay.adminPublicKey}"\nlog_key = "${relay.vkey}"\n\n[admin]\nkey = "admin.key"\n`,
    );
    for (const lab of ['south', 'east']) {
      const enrolled = await runCli(['admin', 'enroll', '--identity', identities[lab]?.path as string, '--lab', lab], {
        cwd: forum,
      });
      expect(enrolled.code, enrolled.stderr).toBe(0);
      expect(enrolled.stdout).toContain(`enrolled ${lab} (key ${identities[lab]?.keyId})`);
    }
    const revoked = await runCli(
      ['admin', 'revoke', '--key-id', identities.east?.keyId as string, '--reason', 'left the forum', '--json'],
      { cwd: forum },
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ key_id: identities.east?.keyId, index: expect.any(Number) });

    // list pins trust.admin_key from the file: no warning, every state right.
    const listed = await runCli(['admin', 'list', '--json'], { cwd: forum });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toBe('');
    expect(jsonLines(listed.stdout).map((m) => [m.lab, m.key_id, m.state])).toEqual([
      ['north', identities.north?.keyId, 'active'],
      ['south', identities.south?.keyId, 'active'],
      ['east', identities.east?.keyId, 'revoked'],
    ]);

    // A flag beats the environment. Signed with a lab's key, nothing pinned: said once, with the
    // key that was trusted instead.
    const flagFirst = await runCli(['admin', 'list', '--relay', relay.url, '--key', labKeyFile], {
      cwd: dir,
      env: { OVERLAP_RELAY: 'http://127.0.0.1:9' },
    });
    expect(flagFirst.code, flagFirst.stderr).toBe(0);
    expect(flagFirst.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`admin key was not pinned .*: ${relay.adminPublicKey}$`)),
    ]);
    // Signed with the admin key file: its own public key is the pin, no warning.
    const asAdmin = await runCli(['admin', 'list', '--relay', relay.url, '--admin-key', adminKey, '--json'], {
      cwd: dir,
    });
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    expect(asAdmin.stderr).toBe('');
    // With no key at all: the membership is shown to enrolled keys only, and the command says how.
    const unsigned = await runCli(['admin', 'list', '--relay', relay.url], { cwd: dir });
    expect(unsigned.code).toBe(64);
    expect(unsigned.stderr).toContain('listing the labs needs the signature of an enrolled key');
  }, 120_000);

  test('list refuses a relay that announces another admin key than the pinned one', async () => {
    const wrong = await runCli(
      ['admin', 'list', '--relay', relay.url, '--admin-key', adminKey, '--admin-public-key', '11'.repeat(32)],
      {
        cwd: dir,
      },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('another admin key than the pinned one');
    expect(wrong.stdout).toBe('');

    const malformed = await runCli(['admin', 'list', '--relay', relay.url, '--admin-key', adminKey], {
      cwd: dir,
      env: { OVERLAP_ADMIN_PUBLIC_KEY: 'not hex' },
    });
    expect(malformed.code).toBe(64);
    expect(malformed.stderr).toContain('must be 64 lowercase hex digits');
  }, 60_000);
});

describe('bad arguments are refused before the relay is contacted', () => {
  let listener: Server;
  let connections = 0;
  let url: string;
  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  test('--lab "Lab A", a bad --valid-days, --key-id or --log-key: exit 64 naming the rule, no connection made', async () => {
    const enroll = (...extra: string[]) =>
      runCli(['admin', 'enroll', '--relay', url, '--admin-key', adminKey, ...extra], { cwd: dir });
    const identity = identities.north?.path as string;

    const spaced = await enroll('--identity', identity, '--lab', 'Lab A');
    expect(spaced.code).toBe(64);
    expect(spaced.stderr).toContain('--lab "Lab A" is not a lab id: 1 to 63 of a-z, 0-9 and -, not starting with -');

    const days = await enroll('--identity', identity, '--lab', 'lab-a', '--valid-days', '0');
    expect(days.code).toBe(64);
    expect(days.stderr).toContain('--valid-days must be a whole number from 1 to 3650');

    const logKey = await enroll('--identity', identity, '--lab', 'lab-a', '--log-key', 'not-a-vkey');
    expect(logKey.code).toBe(64);
    expect(logKey.stderr).toContain('--log-key: not a verifier key');

    const badIdentity = join(dir, 'bad.identity.json');
    writeFileSync(badIdentity, '{"signing_key":"zz"}');
    const identityError = await enroll('--identity', badIdentity, '--lab', 'lab-a');
    expect(identityError.code).toBe(65);
    expect(identityError.stderr).toContain(`the identity file ${badIdentity}: identity: signing_key must be 64`);

    const keyId = await runCli(
      ['admin', 'revoke', '--relay', url, '--admin-key', adminKey, '--key-id', 'x', '--reason', 'r'],
      {
        cwd: dir,
      },
    );
    expect(keyId.code).toBe(64);
    expect(keyId.stderr).toContain('--key-id must be 32 lowercase hex digits');

    expect(connections).toBe(0);
  }, 90_000);

  test('no relay at all: a usage error naming the flag, the variable and the config key', async () => {
    const none = await runCli(['admin', 'list'], { cwd: dir });
    expect(none.code).toBe(64);
    expect(none.stderr).toContain('no relay: give --relay, or set $OVERLAP_RELAY, or set relay in overlap.toml');
    const noKey = await runCli(['admin', 'revoke', '--relay', url, '--key-id', 'a'.repeat(32), '--reason', 'r'], {
      cwd: dir,
    });
    expect(noKey.code).toBe(64);
    expect(noKey.stderr).toContain('no admin-key: give --admin-key, or set $OVERLAP_ADMIN_KEY, or set admin.key');
    expect(connections).toBe(0);
  }, 60_000);
});
