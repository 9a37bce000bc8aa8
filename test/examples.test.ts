/**
 * The scripts in examples/ run as a user runs them (`pnpm example examples/X.ts`: tsx over the
 * sources, in a child process) against a real session's transcript and a real relay, and say what
 * their README sections say they say; tampered input makes the auditors' scripts exit 1.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys, toHex } from '@overlap/crypto';
import { writeKeyFile } from '@overlap/crypto/node';
import { ed25519NoteSigner, formatCheckpoint, signNote } from '@overlap/log';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import { decodeTranscript, encodeTranscript, flipInPart } from './support/transcript-forge.js';

const root = join(import.meta.dirname, '..');

function example(
  script: string,
  args: string[] = [],
  onOutput?: (out: string) => void,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@overlap/source', join(root, 'examples', script), ...args],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      onOutput?.(out);
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let s: AuditSession;
let transcriptFile: string;
let tamperedFile: string;
beforeAll(async () => {
  s = await runAuditSession();
  transcriptFile = join(s.dir, 'transcript.cbor');
  writeFileSync(transcriptFile, s.transcript);
  const t = decodeTranscript(s.transcript);
  const e = t.envelopes[4] as (typeof t.envelopes)[number];
  e.envelope = flipInPart(e.envelope, 's');
  tamperedFile = join(s.dir, 'tampered.cbor');
  writeFileSync(tamperedFile, encodeTranscript(t));
}, 60_000);
afterAll(async () => {
  await s?.close();
});

test('two-lab-quick-check: each lab learns only the one suspect they share', async () => {
  const run = await example('two-lab-quick-check.ts');
  expect(run.code, run.err).toBe(0);
  expect(run.out).toContain('alpha learns: [{"kind":"email","value":"trent@shared.example","labs":["beta"]}]');
  expect(run.out).toContain('beta learns:  [{"kind":"email","value":"trent@shared.example","labs":["alpha"]}]');
}, 60_000);

test('audit-verify-signatures: one line per envelope, every signature verifies; a flipped signature fails', async () => {
  const t = decodeTranscript(s.transcript);
  const total = t.membership.length + t.envelopes.length;
  const run = await example('audit-verify-signatures.ts', [
    transcriptFile,
    '--admin-key',
    toHex(s.admin.signing.publicKey),
  ]);
  expect(run.code, run.err).toBe(0);
  expect(run.out).toContain('admin key: pinned');
  expect(run.out.split('\n').filter((l) => / ok$/.test(l))).toHaveLength(total);
  for (const name of ['north', 'south', 'east', 'relay'])
    expect(run.out).toMatch(new RegExp(`\\s${name}\\s+\\w+\\s+ok`));
  expect(run.out).toContain(`all ${total} signatures verify`);

  const bad = await example('audit-verify-signatures.ts', [tamperedFile]);
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/FAIL: .*signature/i);
  expect(bad.out).toContain(`1 of ${total} signatures do NOT verify`);
}, 60_000);

test('audit-verify-log: a transcript’s checkpoints, proofs and receipts; a forged checkpoint fails', async () => {
  const t = decodeTranscript(s.transcript);
  const run = await example('audit-verify-log.ts', ['--transcript', transcriptFile]);
  expect(run.code, run.err).toBe(0);
  expect(run.out).toContain(`${t.checkpoints.length} checkpoints`);
  expect(run.out.match(/signed, consistent with size/g)).toHaveLength(t.checkpoints.length - 1);
  expect(run.out).toContain(`${t.membership.length + t.envelopes.length} receipts: every inclusion proof holds`);

  const last = t.checkpoints.at(-1) as (typeof t.checkpoints)[number];
  const lines = last.note.split('\n');
  lines[1] = String(Number(lines[1]) + 1);
  last.note = lines.join('\n');
  const forged = join(s.dir, 'forged-checkpoint.cbor');
  writeFileSync(forged, encodeTranscript(t));
  const bad = await example('audit-verify-log.ts', ['--transcript', forged]);
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/^FAIL: /);
}, 60_000);

test('audit-verify-log: a running relay’s checkpoints over time, each consistent with the one before', async () => {
  // The log grows between the first sample and the next: the test enrolls labs as soon as the
  // script has printed its first sample (a condition, not a delay), and the samples are 3 s apart,
  // a generous bound for three enrollments on a loaded machine.
  let firstSample: () => void = () => {};
  const sampled = new Promise<void>((resolve) => {
    firstSample = resolve;
  });
  const running = example(
    'audit-verify-log.ts',
    ['--relay', s.relay.url, '--log-key', s.relay.vkey, '--samples', '3', '--every', '3000'],
    (out) => {
      if (/^size\s+\d+/m.test(out)) firstSample();
    },
  );
  await sampled;
  const forum = new ForumAdmin(s.relay.url, s.admin);
  for (let i = 0; i < 3; i++) {
    const keys = generateLabKeys();
    await forum.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, `watcher-${i}`);
  }
  const run = await running;
  expect(run.code, run.err).toBe(0);
  const sizes = [...run.out.matchAll(/^size\s+(\d+)/gm)].map((m) => Number(m[1]));
  expect(sizes).toHaveLength(3);
  expect(sizes.at(-1)).toBeGreaterThan(sizes[0] as number);
  expect(run.out.match(/consistent with size/g)?.length).toBe(2);
}, 60_000);

test('audit-verify-log --remember: the next run proves the log consistent with the last one’s checkpoint; a larger remembered tree (the log went back) fails', async () => {
  const memory = join(s.dir, 'remembered-checkpoint.txt');
  const first = await example('audit-verify-log.ts', [
    '--relay',
    s.relay.url,
    '--log-key',
    s.relay.vkey,
    '--samples',
    '1',
    '--remember',
    memory,
  ]);
  expect(first.code, first.err).toBe(0);
  expect(statSync(memory).mode & 0o777).toBe(0o600);
  const forum = new ForumAdmin(s.relay.url, s.admin);
  const keys = generateLabKeys();
  await forum.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, 'remembered-watcher');
  const second = await example('audit-verify-log.ts', [
    '--relay',
    s.relay.url,
    '--log-key',
    s.relay.vkey,
    '--samples',
    '1',
    '--remember',
    memory,
  ]);
  expect(second.code, second.err).toBe(0);
  expect(second.out).toMatch(/^remembered: size \d+/m);
  expect(second.out).toMatch(/consistent with size \d+/);
  // A remembered checkpoint, signed by the log, of a larger tree than the relay now shows: as the
  // auditor sees a relay whose log went back since its last run.
  const size = Number(readFileSync(memory, 'utf8').split('\n')[1]);
  const origin = s.relay.origin;
  const larger = formatCheckpoint({ origin, size: size + 100, rootHash: new Uint8Array(32).fill(9), extensions: [] });
  writeFileSync(memory, signNote(larger, [ed25519NoteSigner(origin, s.relayKeys.signing.secretKey)]));
  const rolledBack = await example('audit-verify-log.ts', [
    '--relay',
    s.relay.url,
    '--log-key',
    s.relay.vkey,
    '--samples',
    '1',
    '--remember',
    memory,
  ]);
  expect(rolledBack.code).toBe(1);
  expect(rolledBack.err).toMatch(/^FAIL: .*\b(smaller|older|went back|roll)/i);
}, 60_000);

test('embed-sdk: a lab job reads its export, runs the session with another lab, writes what is shared', async () => {
  const forum = new ForumAdmin(s.relay.url, s.admin);
  const mine = generateLabKeys();
  const theirs = generateLabKeys();
  await forum.enroll({ signingKey: mine.signing.publicKey, sealingKey: mine.sealing.publicKey }, 'job-lab');
  await forum.enroll({ signingKey: theirs.signing.publicKey, sealingKey: theirs.sealing.publicKey }, 'peer-lab');
  const keyFile = join(s.dir, 'job-lab.key');
  await writeKeyFile(keyFile, mine);
  const input = join(s.dir, 'suspects.csv');
  writeFileSync(
    input,
    'kind,value\nemail,Shared.Actor@Example.COM\nemail,ours-only@example.com\nip,203.0.113.9\nip,not-an-ip\n',
  );
  const peer = await OverlapClient.connect({ relayUrl: s.relay.url, keys: theirs, logKey: s.relay.vkey });
  const session = await peer.createSession({
    labs: ['job-lab', 'peer-lab'],
    kinds: ['email', 'ip'],
    policy: 'labs',
    maxItemsPerKind: 100,
  });
  const out = join(s.dir, 'shared.csv');
  const job = example('embed-sdk.ts', [
    '--relay',
    s.relay.url,
    '--key',
    keyFile,
    '--log-key',
    s.relay.vkey,
    '--session',
    session,
    '--input',
    input,
    '--out',
    out,
    '--state-dir',
    join(s.dir, 'job-state'),
  ]);
  const peerOutcome = await peer.run(session, {
    email: ['shared.actor@example.com'],
    ip: ['203.0.113.9', '198.51.100.1'],
  });
  const run = await job;
  expect(run.code, run.err).toBe(0);
  expect(run.out).toContain('3 indicators accepted, 1 rejected');
  expect(run.out).toContain('2 of our suspects are held by other labs:');
  expect(readFileSync(out, 'utf8')).toBe(
    'kind,value,labs,count\r\nemail,shared.actor@example.com,peer-lab,\r\nip,203.0.113.9,peer-lab,\r\n',
  );
  expect(peerOutcome.results.map((r) => r.value)).toEqual(['shared.actor@example.com', '203.0.113.9']);
}, 90_000);
