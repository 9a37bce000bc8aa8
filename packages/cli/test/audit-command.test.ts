/**
 * `overlap audit export` and `audit verify` as the forum and an auditor run them, in a real child
 * process against a real relay and a finished three-lab session: export takes the relay, the admin
 * key FILE and the log key from overlap.toml, writes the transcript 0600 in a new 0700 folder, and
 * never writes over an existing file (saying so); verify pins the admin PUBLIC key from
 * --admin-key, $OVERLAP_ADMIN_PUBLIC_KEY or trust.admin_key, flag first, and a pin that is not the
 * forum's fails the audit. `export --json` prints what it wrote as one JSON object.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@overlap/crypto';
import { writeKeyFile } from '@overlap/crypto/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from '../../../test/support/audit-session.js';
import { decodeTranscript } from '../../../test/support/transcript-forge.js';
import { runCli } from './support/cli-process.js';

let s: AuditSession;
let forum: string;
let adminHex: string;
beforeAll(async () => {
  s = await runAuditSession('labs');
  adminHex = toHex(s.admin.signing.publicKey);
  forum = join(s.dir, 'forum');
  mkdirSync(forum);
  await writeKeyFile(join(forum, 'admin.key'), s.admin);
  writeFileSync(
    join(forum, 'overlap.toml'),
    `relay = "${s.relay.url}"\n\n[trust]\nlog_key = "${s.relay.vkey}"\n\n[admin]\nkey = "admin.key"\n`,
  );
}, 90_000);
afterAll(async () => {
  await s?.close();
});

test('export takes its settings from overlap.toml, writes 0600 in a new 0700 folder, and never overwrites', async () => {
  const file = join(forum, 'transcripts', 'session.cbor');
  const exported = await runCli(['audit', 'export', '--session', s.session, '--out', file], { cwd: forum });
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toContain(`written to ${file}`);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(join(forum, 'transcripts')).mode & 0o777).toBe(0o700);
  // The session the fixture fetched through the SDK (the log may have grown: compare the envelopes).
  expect(decodeTranscript(readFileSync(file)).envelopes).toEqual(decodeTranscript(s.transcript).envelopes);

  const before = readFileSync(file);
  const again = await runCli(['audit', 'export', '--session', s.session, '--out', file], { cwd: forum });
  expect(again.code).toBe(64);
  expect(again.stderr).toContain(`the transcript ${file} already exists and was not overwritten`);
  expect(readFileSync(file)).toEqual(before);
  expect(readdirSync(join(forum, 'transcripts'))).toEqual(['session.cbor']); // no temporary file left

  // The same from the environment, the flag of the admin key FILE named in the error when missing.
  const noKey = await runCli(['audit', 'export', '--session', s.session, '--out', join(s.dir, 'x.cbor')], {
    cwd: s.dir,
    env: { OVERLAP_RELAY: s.relay.url },
  });
  expect(noKey.code).toBe(64);
  expect(noKey.stderr).toContain('no admin-key: give --admin-key, or set $OVERLAP_ADMIN_KEY, or set admin.key');
}, 90_000);

test('export --json prints {session, out, bytes}: the file it wrote, 0600, and its size', async () => {
  const file = join(forum, 'as-json.cbor');
  const exported = await runCli(['audit', 'export', '--session', s.session, '--out', file, '--json'], { cwd: forum });
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toEqual({ session: s.session, out: file, bytes: statSync(file).size });
  expect(exported.stdout.trim().split('\n')).toHaveLength(1);
  expect(statSync(file).mode & 0o777).toBe(0o600);
}, 90_000);

test('verify pins the admin public key from the flag, $OVERLAP_ADMIN_PUBLIC_KEY or trust.admin_key', async () => {
  const transcript = join(s.dir, 'fixture.cbor');
  writeFileSync(transcript, s.transcript);
  const verify = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    runCli(['audit', 'verify', '--transcript', transcript, ...args], { cwd: options.cwd ?? s.dir, ...options });
  const pinned = (out: string) => /^ {2}ok {3}admin key\s+the pinned admin key$/m.test(out);

  const fromEnv = await verify([], { env: { OVERLAP_ADMIN_PUBLIC_KEY: adminHex } });
  expect(fromEnv.code, fromEnv.stderr).toBe(0);
  expect(pinned(fromEnv.stdout)).toBe(true);

  const unpinned = await verify([]);
  expect(unpinned.code, unpinned.stderr).toBe(0);
  expect(unpinned.stdout).toMatch(/^ {2}ok {3}admin key\s+taken from the transcript/m);
  expect(pinned(unpinned.stdout)).toBe(false);

  const auditor = join(s.dir, 'auditor');
  mkdirSync(auditor);
  writeFileSync(join(auditor, 'overlap.toml'), `[trust]\nadmin_key = "${'22'.repeat(32)}"\n`);
  const wrongInFile = await verify([], { cwd: auditor });
  expect(wrongInFile.code).toBe(1);
  expect(wrongInFile.stdout).toMatch(/^ {2}FAIL admin key/m);

  // The flag beats the file; the flag may also name the admin key file.
  const flagFirst = await verify(['--admin-key', adminHex], { cwd: auditor });
  expect(flagFirst.code, flagFirst.stdout).toBe(0);
  expect(pinned(flagFirst.stdout)).toBe(true);
  const fromKeyFile = await verify(['--admin-key', join(forum, 'admin.key')]);
  expect(fromKeyFile.code, fromKeyFile.stdout).toBe(0);
  expect(pinned(fromKeyFile.stdout)).toBe(true);

  // From the environment only a public key makes sense: anything else is a usage error naming it.
  const notHex = await verify([], { env: { OVERLAP_ADMIN_PUBLIC_KEY: join(forum, 'admin.key') } });
  expect(notHex.code).toBe(64);
  expect(notHex.stderr).toContain('$OVERLAP_ADMIN_PUBLIC_KEY must be 64 hex digits');
}, 90_000);

test('--help keeps the two meanings of --admin-key apart, each with its variable and config key', async () => {
  const exportHelp = (await runCli(['audit', 'export', '--help'])).stdout.replace(/\s+/g, ' ');
  expect(exportHelp).toContain(
    '--admin-key <file> the forum admin key file (keep it offline) [$OVERLAP_ADMIN_KEY; config: admin.key]',
  );
  const verifyHelp = (await runCli(['audit', 'verify', '--help'])).stdout.replace(/\s+/g, ' ');
  expect(verifyHelp).toMatch(/--admin-key <hex\|file> the forum admin's PUBLIC key to pin/);
  expect(verifyHelp).toContain('[$OVERLAP_ADMIN_PUBLIC_KEY; config: trust.admin_key]');
}, 60_000);
