/**
 * `overlap audit export` and `overlap audit verify` against a real relay and a real session: the
 * exported file is the relay's transcript; the report has one line per check and exit 0 when all
 * hold; a tampered transcript, a wrong pinned admin key, a missing file and bad usage each get
 * their documented exit code and say what was wrong.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_CHECKS } from '@overlap/audit';
import { toHex } from '@overlap/crypto';
import { writeKeyFile } from '@overlap/crypto/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import { cli } from './support/run-cli.js';
import { decodeTranscript, encodeTranscript } from './support/transcript-forge.js';

let s: AuditSession;
let adminKeyFile: string;
let labKeyFile: string;
beforeAll(async () => {
  s = await runAuditSession('count');
  adminKeyFile = join(s.dir, 'admin-copy.key');
  await writeKeyFile(adminKeyFile, s.admin);
  labKeyFile = join(s.dir, 'north.key');
  await writeKeyFile(labKeyFile, s.labs[0]?.keys as NonNullable<(typeof s.labs)[number]>['keys']);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

test('export writes the session transcript; verify reports every check and exits 0', async () => {
  const file = join(s.dir, 'exported.cbor');
  const exported = await cli(
    'audit',
    'export',
    '--session',
    s.session,
    '--relay',
    s.relay.url,
    '--state-dir',
    join(s.dir, 'auditor'),
    '--admin-key',
    adminKeyFile,
    '--log-key',
    s.relay.vkey,
    '--out',
    file,
  );
  expect(exported.code, exported.err).toBe(0);
  expect(exported.out).toContain(`written to ${file}`);
  expect(readdirSync(s.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  // The same session as the fixture fetched (the log may have grown: compare the envelopes).
  expect(decodeTranscript(readFileSync(file)).envelopes).toEqual(decodeTranscript(s.transcript).envelopes);

  const verified = await cli('audit', 'verify', '--transcript', file, '--admin-key', toHex(s.admin.signing.publicKey));
  expect(verified.code, verified.err).toBe(0);
  const lines = verified.out.split('\n').filter((l) => /^ {2}(ok|FAIL|skip) /.test(l));
  expect(
    lines.map(
      (l) =>
        l
          .slice(7)
          .trim()
          .split(/\s{2,}/)[0],
    ),
  ).toEqual([...AUDIT_CHECKS]);
  expect(lines.every((l) => l.startsWith('  ok '))).toBe(true);
  expect(verified.out).toContain('Every check holds');

  const json = await cli('audit', 'verify', '--transcript', file, '--admin-key', adminKeyFile, '--json');
  expect(json.code).toBe(0);
  expect(JSON.parse(json.out)).toMatchObject({ ok: true, session: s.session });
});

test('verify names the check that caught a tampered transcript and exits 1', async () => {
  const t = decodeTranscript(s.transcript);
  t.envelopes.splice(5, 1);
  const file = join(s.dir, 'dropped.cbor');
  writeFileSync(file, encodeTranscript(t));
  const run = await cli('audit', 'verify', '--transcript', file);
  expect(run.code).toBe(1);
  expect(run.out).toMatch(/^ {2}FAIL sender chains/m);
  expect(run.out).toMatch(/caught by the sender chains check \(CHAIN_BROKEN at log index \d+\)/);

  const json = await cli('audit', 'verify', '--transcript', file, '--json');
  expect(json.code).toBe(1);
  const report = JSON.parse(json.out);
  expect(report).toMatchObject({ ok: false, failed: 'sender chains', code: 'CHAIN_BROKEN', session: s.session });
  const chains = report.checks.find((c: { name: string }) => c.name === 'sender chains');
  expect(chains).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', index: expect.any(Number) });
  expect(run.err).toContain('the audit failed: sender chains');
});

test('a pinned admin key that is not the relay’s fails; bad input and usage get their exit codes', async () => {
  const wrongPin = await cli(
    'audit',
    'verify',
    '--transcript',
    writeTemp('ok.cbor', s.transcript),
    '--admin-key',
    '00'.repeat(32),
  );
  expect(wrongPin.code).toBe(1);
  expect(wrongPin.out).toMatch(/FAIL admin key/);

  const missing = await cli('audit', 'verify', '--transcript', join(s.dir, 'no-such.cbor'));
  expect(missing.code).toBe(66);
  expect(missing.err).toContain('cannot read the transcript');

  const garbage = await cli(
    'audit',
    'verify',
    '--transcript',
    writeTemp('garbage.cbor', new TextEncoder().encode('{"not":"cbor"}')),
  );
  expect(garbage.code).toBe(1);
  expect(garbage.out).toMatch(/FAIL transcript\s+not deterministic CBOR/);

  const noKey = await cli(
    'audit',
    'export',
    '--session',
    s.session,
    '--relay',
    s.relay.url,
    '--state-dir',
    join(s.dir, 'auditor'),
    '--out',
    join(s.dir, 'x.cbor'),
  );
  expect(noKey.code).toBe(64);
  expect(noKey.err).toContain('no admin-key: give --admin-key, or set $OVERLAP_ADMIN_KEY');

  const badSession = await cli(
    'audit',
    'export',
    '--session',
    'nope',
    '--relay',
    s.relay.url,
    '--state-dir',
    join(s.dir, 'auditor'),
    '--admin-key',
    adminKeyFile,
    '--out',
    join(s.dir, 'x.cbor'),
  );
  expect(badSession.code).toBe(64);

  // Only the forum admin may export: a lab's key is refused by the relay, and nothing is written.
  const asLab = await cli(
    'audit',
    'export',
    '--session',
    s.session,
    '--relay',
    s.relay.url,
    '--state-dir',
    join(s.dir, 'auditor'),
    '--admin-key',
    labKeyFile,
    '--out',
    join(s.dir, 'lab.cbor'),
  );
  expect(asLab.code).toBe(1);
  expect(asLab.err).toMatch(/403|FORBIDDEN|admin/i);
  expect(existsSync(join(s.dir, 'lab.cbor'))).toBe(false);
});

function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(s.dir, name);
  writeFileSync(path, bytes);
  return path;
}
