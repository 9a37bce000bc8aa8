/**
 * The config file and the order of settings (flag, then environment, then overlap.toml, then the
 * default), through `overlap config check` in a real process: the file found in the working
 * directory, paths in it relative to the file, typos refused with the key and line, and every
 * setting's --help naming its environment variable and config key.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DB_PATH } from '@overlap/relay';
import { afterAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config-file.js';
import { RELAY_SERVER_SETTINGS } from '../src/relay-server-settings.js';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = async (cwd: string, args: string[] = [], env: Record<string, string> = {}) => {
  const run = await runCli(['config', 'check', '--json', ...args], { cwd, env });
  return { ...run, json: run.code === 0 ? JSON.parse(run.stdout) : undefined };
};

describe('overlap config check', () => {
  test('finds ./overlap.toml, resolves its paths against its own folder, and says where each value came from', async () => {
    const lab = join(dir, 'lab-a');
    mkdirSync(join(lab, 'sub'), { recursive: true });
    writeFileSync(join(lab, 'lab.key'), '{}');
    writeFileSync(
      join(lab, 'overlap.toml'),
      'relay = "https://relay.example:8787"\nkey = "lab.key"\nstate_dir = "state"\n[trust]\nadmin_key = "' +
        'ab'.repeat(32) +
        '"\n',
    );
    const found = await check(lab);
    expect(found.code, found.stderr).toBe(0);
    expect(found.json.file).toBe(join(lab, 'overlap.toml'));
    expect(found.json.settings.relay).toEqual({ value: 'https://relay.example:8787', source: 'config' });
    expect(found.json.settings.key).toEqual({ value: join(lab, 'lab.key'), source: 'config' });
    expect(found.json.settings.state_dir).toEqual({ value: join(lab, 'state'), source: 'config' });
    expect(found.json.settings['trust.admin_key'].source).toBe('config');
    expect(found.json.problems).toEqual([]);

    // From another folder, through $OVERLAP_CONFIG: the same paths (the file's, not the cwd's).
    const viaEnv = await check(join(lab, 'sub'), [], { OVERLAP_CONFIG: join(lab, 'overlap.toml') });
    expect(viaEnv.json.settings.key.value).toBe(join(lab, 'lab.key'));
    expect(viaEnv.json.file).toBe(join(lab, 'overlap.toml'));
    // The sub-folder alone has no config file: nothing is picked up from the parent.
    const none = await check(join(lab, 'sub'));
    expect(none.json.file).toBeNull();
    expect(none.json.settings.relay).toBeUndefined();
    expect(none.json.settings.state_dir).toEqual({ value: join(lab, 'sub', '.overlap/lab'), source: 'default' });
  });

  test('a flag beats the environment, which beats the file', async () => {
    const lab = join(dir, 'precedence');
    mkdirSync(lab);
    writeFileSync(join(lab, 'overlap.toml'), 'relay = "http://from-file:1"\nworkers = 3\n');
    const fileOnly = await check(lab);
    expect(fileOnly.json.settings.relay).toEqual({ value: 'http://from-file:1', source: 'config' });
    expect(fileOnly.json.settings.workers).toEqual({ value: '3', source: 'config' });
    const env = await check(lab, [], { OVERLAP_RELAY: 'http://from-env:2' });
    expect(env.json.settings.relay).toEqual({ value: 'http://from-env:2', source: 'env' });
    // `session run` takes the flag over both (seen in its "no key" error: the relay was resolved first).
    const run = await runCli(['session', 'status', '--session', '0'.repeat(32), '--relay', 'http://from-flag:3'], {
      cwd: lab,
      env: { OVERLAP_RELAY: 'http://from-env:2' },
    });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('no key: give --key, or set $OVERLAP_KEY, or set key in');
  });

  test('a typo, a wrong type, bad TOML, or a named file that is missing: refused with the key, the line, the reason', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'overlap.toml'), 'relay = "http://x:1"\nstat_dir = "s"\n[trust]\nadmin_key = "xyz"\n');
    const typo = await check(bad);
    expect(typo.code).toBe(65);
    expect(typo.stderr).toContain('unknown key stat_dir');
    expect(typo.stderr).toContain('trust.admin_key: must be 64 lowercase hex digits');
    writeFileSync(join(bad, 'broken.toml'), 'relay = "http://x:1"\nworkers = = 2\n');
    const broken = await check(bad, ['--config', 'broken.toml']);
    expect(broken.code).toBe(65);
    expect(broken.stderr).toMatch(/broken\.toml:2:\d+: not valid TOML/);
    const missing = await check(bad, ['--config', 'nope.toml']);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain(`--config ${join(bad, 'nope.toml')}: no such file or directory`);
  });

  test('a key file the config names that cannot be read is a problem (exit 66), shown with the OS reason', async () => {
    const lab = join(dir, 'nokey');
    mkdirSync(lab);
    writeFileSync(join(lab, 'overlap.toml'), 'key = "missing.key"\n');
    const run = await runCli(['config', 'check'], { cwd: lab });
    expect(run.code).toBe(66);
    expect(run.stdout).toContain(`problem: key: cannot read ${join(lab, 'missing.key')}: no such file or directory`);
  });
});

test("the forum's settings are listed too, its database defaulting where the relay's does", async () => {
  expect(RELAY_SERVER_SETTINGS.db.fallback).toBe(DEFAULT_DB_PATH);
  const forum = join(dir, 'forum');
  mkdirSync(forum);
  writeFileSync(join(forum, 'overlap.toml'), '[relay_server]\ndb = "relay/relay.db"\nport = 8443\naccess_log = "-"\n');
  const found = await check(forum);
  expect(found.json.settings['relay_server.db']).toEqual({ value: join(forum, 'relay/relay.db'), source: 'config' });
  expect(found.json.settings['relay_server.port']).toEqual({ value: '8443', source: 'config' });
  expect(found.json.settings['relay_server.access_log']).toEqual({ value: '-', source: 'config' });
  expect(found.json.settings['relay_server.host']).toEqual({ value: '127.0.0.1', source: 'default' });
});

describe('the schema', () => {
  test('accepts every documented key and refuses values of the wrong kind', () => {
    expect(
      parseConfig(
        [
          'relay = "https://r.example"',
          'key = "k"',
          'state_dir = "s"',
          'workers = 2',
          `[trust]\nlog_key = "v"\nadmin_key = "${'0'.repeat(64)}"`,
          '[session]\nregion = "US"\nreveal = "labs"\nproofs = "full"\nmax_items = 10\ndeadline_minutes = 5',
          '[results]\ncsv_guard = "none"',
          '[admin]\nkey = "admin.key"',
          '[relay_server]\ndb = "r.db"\nhost = "0.0.0.0"\nport = 8443\npublic_url = "https://r.example"\ntls_cert = "c"\ntls_key = "k"\naccess_log = "-"',
        ].join('\n'),
        'x.toml',
      ).relay_server?.port,
    ).toBe(8443);
    expect(() => parseConfig('workers = "two"', 'x.toml')).toThrow(/x\.toml: workers: /);
    expect(() => parseConfig('relay = "ftp://r"', 'x.toml')).toThrow(/relay: /);
    expect(() => parseConfig('[session]\nproofs = "some"', 'x.toml')).toThrow(/session\.proofs: /);
  });
});
