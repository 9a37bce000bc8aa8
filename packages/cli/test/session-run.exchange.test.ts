/**
 * A whole exchange of two labs through `overlap session run` (real processes, each in its own
 * folder, no terminal), then what happens when a lab runs it again: the session is done for this lab
 * (exit 0, the relay not even contacted), or done at the relay while this state directory has no
 * results (exit 1, and the state left there erased: it holds an unencrypted session key).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

let forum: Forum;
let session: string;
const runs: { code: number | null; stdout: string; stderr: string }[] = [];

beforeAll(async () => {
  forum = await startForum(['north', 'south']);
  session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = forum.labs.north?.dir as string;
  const south = forum.labs.south?.dir as string;
  // North's file mixes kinds; the session is about e-mails only.
  writeFileSync(
    join(north, 'suspects.csv'),
    'kind,value,id,label\nemail,north-only@example.com,acct-1,trial\nip,198.51.100.9,acct-2,\n' +
      'email,Shared@Example.com,acct-3,paid plan\nemail,not an address,acct-4,\nemail,shared@example.com,acct-5,again\n',
  );
  writeFileSync(join(south, 'suspects.txt'), 'shared@example.com\nsouth-only@example.com\n');
  const args = (lab: string) => ['session', 'run', ...forum.labArgs(lab), '--session', session, '--workers', '1'];
  runs.push(
    ...(await Promise.all([
      runCli([...args('north'), '--input', 'suspects.csv', '--json'], { cwd: north }),
      runCli([...args('south'), '--input', 'suspects.txt', '--format', 'lines', '--kind', 'email'], { cwd: south }),
    ])),
  );
}, 300_000);
afterAll(async () => {
  await forum?.close();
});

test('both labs finish with the truth, and the logs say what was read, what was not sent, and each phase', () => {
  const [north, south] = runs as [(typeof runs)[0], (typeof runs)[0]];
  expect(north.code, north.stderr).toBe(0);
  expect(south.code, south.stderr).toBe(0);
  const summary = JSON.parse(north.stdout) as { shared: number; out: string };
  expect(summary.shared).toBe(1);
  const stateDir = join(forum.labs.north?.dir as string, '.overlap', 'lab');
  // Traced back to the first record that gives it: line 4 (the header is line 1), its id and label.
  expect(readFileSync(join(stateDir, `${session}.results.jsonl`), 'utf8')).toBe(
    '{"kind":"email","value":"shared@example.com","labs":["south"],"line":4,"id":"acct-3","label":"paid plan"}\n',
  );
  // South's plain lines have no id: the line alone.
  const southState = join(forum.labs.south?.dir as string, '.overlap', 'lab');
  expect(readFileSync(join(southState, `${session}.results.jsonl`), 'utf8')).toBe(
    '{"kind":"email","value":"shared@example.com","labs":["north"],"line":1}\n',
  );
  expect(north.stderr).toMatch(/suspects\.csv: read as csv \(from its name: /);
  expect(south.stderr).toMatch(/suspects\.txt: read as lines \(--format: /);
  expect(north.stderr).toMatch(/suspects\.csv:5: rejected \(INVALID_EMAIL\)/);
  expect(north.stderr).toMatch(/suspects\.csv: 1 distinct ip value not sent: the session's kinds are email/);
  // No terminal: one plain line per phase, with counts. Its set was hashed while it asked for the
  // terms: the phase only blinds.
  expect(north.stderr).toMatch(/^overlap: blinding 2 indicators \(hashed ahead\)/m);
  expect(north.stderr).toMatch(/^overlap: uploading chunks: \d+\/\d+ chunks/m);
  expect(north.stderr).toMatch(/^overlap: results received/m);
  expect(north.stderr.includes('\r') || north.stderr.includes('\u001b[')).toBe(false);
  expect(existsSync(join(stateDir, `${session}.state`))).toBe(false);
});

test('running it again says it is done and exits 0 without contacting the relay', async () => {
  const north = forum.labs.north?.dir as string;
  // A relay URL nothing listens on: contacting it would fail.
  const again = await runCli(
    [
      'session',
      'run',
      '--relay',
      'http://127.0.0.1:9',
      '--key',
      'lab.key',
      '--session',
      session,
      '--input',
      'suspects.csv',
    ],
    { cwd: north },
  );
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toMatch(
    new RegExp(`session ${session} is already done for this lab; see \`overlap results --session ${session}`),
  );
  expect(existsSync(join(north, '.overlap', 'lab', `${session}.state`))).toBe(false);
}, 60_000);

test('done at the relay but not here: exit 1, and the state left in that directory is erased', async () => {
  const north = forum.labs.north?.dir as string;
  const elsewhere = join(north, 'elsewhere');
  // What a crashed run with this state directory would have left: a session key and an outbox.
  mkdirSync(join(elsewhere, `${session}.state`, 'outbox'), { recursive: true, mode: 0o700 });
  writeFileSync(join(elsewhere, `${session}.state`, 'key'), Buffer.alloc(32, 7), { mode: 0o600 });
  const result = await runCli(
    [
      'session',
      'run',
      ...forum.labArgs('north'),
      '--session',
      session,
      '--input',
      'suspects.csv',
      '--state-dir',
      elsewhere,
    ],
    { cwd: north },
  );
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/is already done at the relay, and this lab's results are not in/);
  expect(result.stderr).toMatch(/was erased/);
  expect(existsSync(join(elsewhere, `${session}.state`))).toBe(false);
  // Not the relay's 409 for an envelope sent again (the session id, random hex, may hold the digits 409).
  expect(result.stderr).not.toMatch(/HTTP 409|\bCONFLICT\b/);
}, 60_000);

test('overlap results: --json summarizes; CSV and STIX carry the line, id and label; --csv-guard', async () => {
  const north = forum.labs.north?.dir as string;
  const summary = await runCli(['results', '--session', session, '--json'], { cwd: north });
  expect(summary.code, summary.stderr).toBe(0);
  expect(JSON.parse(summary.stdout)).toMatchObject({
    session,
    lab: 'north',
    reveal: 'labs',
    shared: 1,
    by_kind: { email: 1 },
  });
  const csv = await runCli(['results', '--session', session, '--format', 'csv'], { cwd: north });
  expect(csv.code, csv.stderr).toBe(0);
  expect(csv.stdout).toBe(
    'kind,value,labs,count,line,id,label\r\nemail,shared@example.com,south,,4,acct-3,paid plan\r\n',
  );
  const bad = await runCli(['results', '--session', session, '--format', 'csv', '--csv-guard', 'sometimes'], {
    cwd: north,
  });
  expect(bad.code).toBe(64);
  const stix = await runCli(['results', '--session', session, '--format', 'stix'], { cwd: north });
  expect(stix.code, stix.stderr).toBe(0);
  expect(stix.stdout).toContain('acct-3');
  const noFormat = await runCli(['results', '--session', session], { cwd: north });
  expect(noFormat.code).toBe(64);
}, 60_000);

test('a result document whose line is damaged is refused (65), naming the result', async () => {
  const south = forum.labs.south?.dir as string;
  const path = join(south, '.overlap', 'lab', `${session}.json`);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"line":1', '"line":-3'));
  const result = await runCli(['results', '--session', session, '--format', 'jsonl'], { cwd: south });
  expect(result.code, result.stderr).toBe(65);
  expect(result.stderr).toMatch(/results\[0\]\.line: must be a line number/);
}, 60_000);
