/**
 * `overlap session run` and the mistakes a lab engineer makes, each reproduced as they made it: the
 * real CLI in a child process, run from the lab's own folder, against a relay of the test's own. A
 * mistake must cost nothing: nothing is sent (the relay still shows the lab as not joined), no state
 * is left on disk, and the exit code and message say what was wrong.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlapClient } from '@overlap/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south', 'west']);
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

/** Who joined `session`, as the relay says (the truth the CLI's words are checked against). */
async function joined(session: string): Promise<number> {
  const client = await OverlapClient.connect({
    relayUrl: forum.url,
    keys: forum.labs.north?.keys as never,
    logKey: forum.vkey,
  });
  return (await client.terms(session)).status.joined.length;
}

function run(lab: string, session: string, ...args: string[]) {
  const dir = forum.labs[lab]?.dir as string;
  return runCli(['session', 'run', ...forum.labArgs(lab), '--session', session, '--workers', '1', ...args], {
    cwd: dir,
  });
}

const stateOf = (lab: string, session: string) =>
  join(forum.labs[lab]?.dir as string, '.overlap', 'lab', `${session}.state`);

describe('a lab never joins by mistake', () => {
  test('every record rejected: refused before anything is sent (65), with the counts and the first rejections', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    writeFileSync(join(forum.labs.north?.dir as string, 'junk.txt'), 'not an address\nalso not one\n');
    const result = await run('north', session, '--input', 'junk.txt', '--kind', 'email');
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toMatch(/junk\.txt: nothing to send: every one of its 2 records was rejected/);
    expect(result.stderr).toMatch(/junk\.txt:1: rejected \(INVALID_EMAIL\)/);
    expect(result.stderr).toMatch(/--allow-empty/);
    expect(await joined(session)).toBe(0);
    expect(existsSync(stateOf('north', session))).toBe(false);
  }, 120_000);

  test('nothing of the session kinds: refused (65), and the kinds not sent are counted', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    writeFileSync(join(forum.labs.north?.dir as string, 'ips.csv'), 'kind,value\nip,198.51.100.7\nip,198.51.100.8\n');
    const result = await run('north', session, '--input', 'ips.csv');
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toMatch(/ips\.csv: 2 distinct ip values not sent: the session's kinds are email/);
    expect(result.stderr).toMatch(/none of its 2 accepted records is of the session's kinds/);
    expect(await joined(session)).toBe(0);
  }, 120_000);

  test('a CSV saved as .txt is read as CSV (from its content), and the run says so', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['ip'] });
    writeFileSync(
      join(forum.labs.north?.dir as string, 'export.txt'),
      'kind,value\nemail,a@example.com\nemail,b@example.com\n',
    );
    const result = await run('north', session, '--input', 'export.txt');
    expect(result.stderr).toMatch(/export\.txt: read as csv \(from its content: /);
    // Read right, and still nothing for this session (its kinds are ip): refused, and said why.
    expect(result.stderr).toMatch(/export\.txt: 2 distinct email values not sent: the session's kinds are ip/);
    expect(result.code, result.stderr).toBe(65);
    expect(await joined(session)).toBe(0);
  }, 120_000);

  test('--allow-empty joins with an empty set when the lab means it', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    const dir = forum.labs.north?.dir as string;
    writeFileSync(join(dir, 'junk2.txt'), 'not an address\n');
    const running = startCli(
      [
        'session',
        'run',
        ...forum.labArgs('north'),
        '--session',
        session,
        '--workers',
        '1',
        '--input',
        'junk2.txt',
        '--kind',
        'email',
        '--allow-empty',
      ],
      { cwd: dir },
    );
    await running.waitFor(/waiting for the other labs/);
    expect(await joined(session)).toBe(1);
    running.child.kill('SIGINT');
    expect((await running.exited).code).toBe(130);
  }, 120_000);

  test('a missing input exits 66 with the OS reason, before the relay is contacted', async () => {
    const session = '0'.repeat(32);
    const result = await runCli(
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
        'nope.csv',
      ],
      { cwd: forum.labs.north?.dir as string },
    );
    expect(result.code, result.stderr).toBe(66);
    expect(result.stderr).toMatch(/nope\.csv: no such file or directory/);
  }, 60_000);

  test('a bad CSV header names the file (65)', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    writeFileSync(join(forum.labs.north?.dir as string, 'bad-header.csv'), 'colour,shape\nred,round\n');
    const result = await run('north', session, '--input', 'bad-header.csv');
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toMatch(/bad-header\.csv/);
    expect(await joined(session)).toBe(0);
  }, 120_000);

  test('the key is checked before the input is read: an unenrolled key fails first (1), not the bad file', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    const made = await runCli(['keygen', '--out', 'stranger.key'], { cwd: forum.labs.west?.dir as string });
    expect(made.code, made.stderr).toBe(0);
    writeFileSync(join(forum.labs.west?.dir as string, 'bad-header.csv'), 'colour,shape\nred,round\n');
    const result = await runCli(
      [
        'session',
        'run',
        '--relay',
        forum.url,
        '--log-key',
        forum.vkey,
        '--key',
        'stranger.key',
        '--session',
        session,
        '--input',
        'bad-header.csv',
      ],
      { cwd: forum.labs.west?.dir as string },
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/not enrolled/);
    expect(result.stderr).not.toMatch(/bad-header/);
  }, 120_000);

  test('terms other than expected are refused before anything is uploaded (1)', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'], policy: 'labs' });
    writeFileSync(join(forum.labs.north?.dir as string, 'one.txt'), 'a@example.com\n');
    const reveal = await run('north', session, '--input', 'one.txt', '--kind', 'email', '--expect-reveal', 'count');
    expect(reveal.code, reveal.stderr).toBe(1);
    expect(reveal.stderr).toMatch(/its reveal policy is labs, not count \(--expect-reveal\)/);
    const kinds = await run('north', session, '--input', 'one.txt', '--kind', 'email', '--expect-kinds', 'email,ip');
    expect(kinds.code, kinds.stderr).toBe(1);
    expect(kinds.stderr).toMatch(/its kinds are email, not email, ip \(--expect-kinds\)/);
    const bad = await run('north', session, '--input', 'one.txt', '--expect-reveal', 'most');
    expect(bad.code, bad.stderr).toBe(64);
    expect(await joined(session)).toBe(0);
    expect(existsSync(stateOf('north', session))).toBe(false);
  }, 120_000);

  test('an unknown --format is a usage error (64)', async () => {
    const result = await run('north', '1'.repeat(32), '--input', 'one.txt', '--format', 'xlsx');
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toMatch(/--format must be one of/);
  }, 60_000);
});

describe('session create and show', () => {
  test('threshold:9 with 2 labs is refused (64) before anything is proposed', async () => {
    const result = await runCli(
      [
        'session',
        'create',
        ...forum.labArgs('north'),
        '--labs',
        'north,south',
        '--kinds',
        'email',
        '--reveal',
        'threshold:9',
      ],
      { cwd: forum.labs.north?.dir as string },
    );
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toMatch(/threshold:9 needs at least 9 labs, and --labs names 2/);
  }, 60_000);

  test('session defaults come from [session] in overlap.toml; --json prints the terms proposed', async () => {
    const dir = forum.labs.south?.dir as string;
    writeFileSync(join(dir, 'overlap.toml'), `[session]\nreveal = "count"\nproofs = "full"\nmax_items = 5000\n`);
    const created = await runCli(
      ['session', 'create', ...forum.labArgs('south'), '--labs', 'north,south', '--kinds', 'email', '--json'],
      {
        cwd: dir,
      },
    );
    expect(created.code, created.stderr).toBe(0);
    const proposed = JSON.parse(created.stdout) as { session: string };
    expect(proposed).toMatchObject({
      reveal: 'count',
      proofs: 'full',
      max_items_per_kind: 5000,
      labs: ['north', 'south'],
    });
    const shown = await runCli(
      ['session', 'show', ...forum.labArgs('north'), '--session', proposed.session, '--json'],
      {
        cwd: forum.labs.north?.dir as string,
      },
    );
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      reveal: 'count',
      proofs: 'full',
      max_items_per_kind: 5000,
      proposer: 'south',
    });
  }, 120_000);

  test('session join says it does not join, shows the terms, and joins nothing', async () => {
    const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    const result = await runCli(['session', 'join', ...forum.labArgs('south'), '--session', session, '--json'], {
      cwd: forum.labs.south?.dir as string,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/'session join' only shows the terms.*'overlap session run --session/);
    expect(JSON.parse(result.stdout)).toMatchObject({ session, state: 'joining', this_lab_is_in_it: true });
    expect(await joined(session)).toBe(0);
  }, 120_000);

  test('session list names the sessions of this lab, not the others', async () => {
    const mine = await forum.createSession('north', { labs: ['north', 'west'], kinds: ['ip'], policy: 'count' });
    const notMine = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
    const result = await runCli(['session', 'list', ...forum.labArgs('west'), '--json'], {
      cwd: forum.labs.west?.dir as string,
    });
    expect(result.code, result.stderr).toBe(0);
    const listed = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { session: string });
    expect(listed.map((s) => s.session)).toContain(mine);
    expect(listed.map((s) => s.session)).not.toContain(notMine);
    expect(listed.find((s) => s.session === mine)).toMatchObject({
      state: 'joining',
      labs: ['north', 'west'],
      kinds: ['ip'],
      reveal: 'count',
    });
    // The table: every row's columns start where the header's do.
    const table = await runCli(['session', 'list', ...forum.labArgs('west')], { cwd: forum.labs.west?.dir as string });
    const [header, ...rows] = table.stdout.trimEnd().split('\n') as [string, ...string[]];
    const starts = (line: string) => [...line.matchAll(/(?:^| {2})(\S)/g)].map((m) => (m.index ?? 0) + m[0].length - 1);
    expect(header.split(/\s+/)).toEqual(['session', 'state', 'reveal', 'kinds', 'labs', 'deadline']);
    expect(rows.length).toBe(listed.length);
    for (const row of rows) expect(starts(row)).toEqual(starts(header));
  }, 120_000);
});
