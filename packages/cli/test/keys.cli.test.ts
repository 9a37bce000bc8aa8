/**
 * `overlap keygen` and `overlap key show` as a lab engineer meets them, in a real child process:
 * on a terminal the passphrase is asked twice and never echoed; a script without a terminal gets a
 * clear-text key with a one-line warning saying how to encrypt, or uses $OVERLAP_KEY_PASSPHRASE;
 * an encrypted key read with no way to ask names the variable (in `key show` and in a lab command);
 * nothing is ever written over an existing file. Each key is checked against the file itself,
 * decoded here with @overlap/crypto, not against what the command printed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoError, decodeKeyFile, type LabKeys } from '@overlap/crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startCliOnTerminal } from './support/cli-terminal.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env });

/** The public half of a key file, decoded independently of the CLI. */
function publicHalf(path: string, passphrase?: string) {
  const keys: LabKeys = decodeKeyFile(readFileSync(path, 'utf8'), passphrase === undefined ? {} : { passphrase });
  const half = {
    key_id: keys.keyId,
    signing_key: Buffer.from(keys.signing.publicKey).toString('hex'),
    sealing_key: Buffer.from(keys.sealing.publicKey).toString('hex'),
  };
  keys.dispose();
  return half;
}

function refusesWithoutPassphrase(path: string) {
  try {
    decodeKeyFile(readFileSync(path, 'utf8'));
  } catch (error) {
    return error instanceof CryptoError && error.code === 'PASSPHRASE_REQUIRED';
  }
  return false;
}

describe('keygen on a terminal', () => {
  test('asks for the passphrase twice, without echo, and writes an encrypted key; key show asks for it too', async () => {
    const key = at('typed.key');
    const typed = 'correct horse battery';
    const keygen = startCliOnTerminal(['keygen', '--out', key, '--json'], { cwd: dir });
    await keygen.waitFor(/passphrase for the new key file .*typed\.key.*: $/);
    keygen.type(`${typed}\r`);
    const second = keygen.screen().length;
    await keygen.waitFor(/again: $/, second);
    keygen.type(`${typed}\r`);
    const made = await keygen.exited;
    expect(made.code, made.screen).toBe(0);
    expect(made.screen).not.toContain(typed);
    expect(refusesWithoutPassphrase(key)).toBe(true);
    const truth = publicHalf(key, typed);
    const printed = JSON.parse(made.screen.slice(made.screen.indexOf('{'))) as Record<string, unknown>;
    expect(printed).toMatchObject({ ...truth, encrypted: true, key_file: key, identity_file: null });
    expect(statSync(key).mode & 0o777).toBe(0o600);

    const show = startCliOnTerminal(['key', 'show', '--key', key, '--json'], { cwd: dir });
    await show.waitFor(/passphrase of .*typed\.key: $/);
    show.type(`${typed}\r`);
    const shown = await show.exited;
    expect(shown.code, shown.screen).toBe(0);
    expect(shown.screen).not.toContain(typed);
    expect(JSON.parse(shown.screen.slice(shown.screen.indexOf('{')))).toEqual({
      file: key,
      role: 'lab',
      ...truth,
    });
  }, 90_000);

  test('two different passphrases: exit 64 and no key file', async () => {
    const key = at('mistyped.key');
    const keygen = startCliOnTerminal(['keygen', '--out', key], { cwd: dir });
    await keygen.waitFor(/passphrase for the new key file/);
    keygen.type('first one\r');
    const second = keygen.screen().length;
    await keygen.waitFor(/again: $/, second);
    keygen.type('second one\r');
    const made = await keygen.exited;
    expect(made.code).toBe(64);
    expect(made.screen).toContain('the two passphrases differ; nothing was written');
    expect(() => statSync(key)).toThrow(/ENOENT/);
  }, 60_000);

  test('--no-passphrase writes the key in clear without asking', async () => {
    const key = at('deliberately-clear.key');
    const made = await startCliOnTerminal(['keygen', '--out', key, '--no-passphrase'], { cwd: dir }).exited;
    expect(made.code, made.screen).toBe(0);
    expect(made.screen).not.toMatch(/passphrase for/);
    expect(made.screen).not.toMatch(/warning/);
    expect(made.screen).toContain('NOT encrypted');
    expect(publicHalf(key).key_id).toMatch(/^[0-9a-f]{32}$/);
  }, 60_000);
});

describe('keygen in a script (no terminal)', () => {
  test('without $OVERLAP_KEY_PASSPHRASE: a clear key (0600, in a new 0700 folder), one warning line saying how to encrypt; the identity is public (0644) and matches', async () => {
    const key = join(dir, 'new-folder', 'lab.key');
    const identity = at('lab.identity.json');
    const made = await run(['keygen', '--out', key, '--public', identity]);
    expect(made.code, made.stderr).toBe(0);
    const warnings = made.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^overlap: warning: the key file .*lab\.key is not encrypted/);
    expect(warnings[0]).toContain('set $OVERLAP_KEY_PASSPHRASE or run overlap keygen --passphrase on a terminal');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new-folder')).mode & 0o777).toBe(0o700);
    expect(statSync(identity).mode & 0o777).toBe(0o644);
    expect(JSON.parse(readFileSync(identity, 'utf8'))).toEqual(publicHalf(key));
    expect(made.stdout).toContain(publicHalf(key).key_id);
  }, 60_000);

  test('with $OVERLAP_KEY_PASSPHRASE: encrypted with it; key show reads it with the variable and refuses without it, naming the variable', async () => {
    const key = at('scripted.key');
    const passphrase = 'from the environment';
    const made = await run(['keygen', '--out', key, '--json'], { OVERLAP_KEY_PASSPHRASE: passphrase });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toBe('');
    expect(JSON.parse(made.stdout)).toMatchObject({ encrypted: true, ...publicHalf(key, passphrase) });
    expect(refusesWithoutPassphrase(key)).toBe(true);

    const shown = await run(['key', 'show', '--key', key], { OVERLAP_KEY_PASSPHRASE: passphrase });
    expect(shown.code, shown.stderr).toBe(0);
    const truth = publicHalf(key, passphrase);
    expect(shown.stdout).toMatch(new RegExp(`^key id\\s+${truth.key_id}$`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^signing key\\s+${truth.signing_key}$`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^sealing key\\s+${truth.sealing_key}$`, 'm'));

    const locked = await run(['key', 'show', '--key', key]);
    expect(locked.code).toBe(64);
    expect(locked.stderr).toContain('is encrypted: set $OVERLAP_KEY_PASSPHRASE');

    const wrong = await run(['key', 'show', '--key', key], { OVERLAP_KEY_PASSPHRASE: 'not it' });
    expect(wrong.code).toBe(66);
    expect(wrong.stderr).toContain('check $OVERLAP_KEY_PASSPHRASE');
    expect(wrong.stderr).not.toContain('not it');

    // A lab command meets the same file the same way, before it contacts any relay.
    const status = await run([
      'session',
      'status',
      '--relay',
      'http://127.0.0.1:9',
      '--key',
      key,
      '--session',
      'a'.repeat(32),
    ]);
    expect(status.code).toBe(64);
    expect(status.stderr).toContain('is encrypted: set $OVERLAP_KEY_PASSPHRASE');
  }, 90_000);

  test('--passphrase with no terminal and no variable: exit 64 naming the variable, nothing written', async () => {
    const key = at('cannot-ask.key');
    const made = await run(['keygen', '--out', key, '--passphrase']);
    expect(made.code).toBe(64);
    expect(made.stderr).toContain('no terminal to ask on; set $OVERLAP_KEY_PASSPHRASE');
    expect(() => statSync(key)).toThrow(/ENOENT/);
  }, 60_000);

  test('an existing key or identity file is never overwritten (64, naming it); --public cannot be --out', async () => {
    const key = at('existing.key');
    const identity = at('existing.identity.json');
    writeFileSync(key, 'my old key\n');
    writeFileSync(identity, 'my old identity\n');
    const overKey = await run(['keygen', '--out', key]);
    expect(overKey.code).toBe(64);
    expect(overKey.stderr).toContain(`the key file ${key} already exists and was not overwritten`);
    expect(readFileSync(key, 'utf8')).toBe('my old key\n');

    const fresh = at('fresh.key');
    const overIdentity = await run(['keygen', '--out', fresh, '--public', identity]);
    expect(overIdentity.code).toBe(64);
    expect(overIdentity.stderr).toContain(`the identity file ${identity} already exists`);
    expect(readFileSync(identity, 'utf8')).toBe('my old identity\n');
    expect(() => statSync(fresh)).toThrow(/ENOENT/); // refused before any key was made

    const same = await run(['keygen', '--out', at('same.json'), '--public', at('same.json')]);
    expect(same.code).toBe(64);
    expect(same.stderr).toContain('--public must name another file than --out');
  }, 60_000);

  test('key show: the admin key file shows the admin public key; no file is a usage error naming every way to give one', async () => {
    const admin = at('admin.key');
    expect((await run(['keygen', '--out', admin, '--no-passphrase'])).code).toBe(0);
    const truth = publicHalf(admin);
    const shown = await run(['key', 'show', '--admin-key', admin]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^admin public key\\s+${truth.signing_key}$`, 'm'));
    expect(shown.stdout).toContain('trust.admin_key');

    const fromEnv = await run(['key', 'show', '--json'], { OVERLAP_ADMIN_KEY: admin });
    expect(JSON.parse(fromEnv.stdout)).toEqual({ file: admin, role: 'admin', ...truth });

    const both = await run(['key', 'show', '--key', admin, '--admin-key', admin]);
    expect(both.code).toBe(64);
    const none = await run(['key', 'show']);
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/no key file: give --key FILE \(or set \$OVERLAP_KEY/);
  }, 60_000);
});
