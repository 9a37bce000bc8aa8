/**
 * The CLI as a forum and two labs use it, against a real relay on loopback: keygen, admin enroll /
 * list / revoke, session create / join / run / status (the proof mode and chunk size shown before
 * anyone joins), results in all three formats — and the errors a user meets: a usage error (64), an
 * unreadable key file (66), a revoked key (1).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cli } from './support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-cli-'));
let relay: RelayServer;
let adminKey: string;
beforeAll(async () => {
  const init = await initRelay({ db: join(dir, 'relay.db') });
  adminKey = init.adminKeyFile as string;
  relay = await startRelayServer({ db: init.db, port: 0 });
});
afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

test('two labs go from keygen to a STIX bundle of what they share, through the CLI', async () => {
  const lab = (name: string) => ({ key: join(dir, `${name}.key`), identity: join(dir, `${name}.identity.json`) });
  for (const name of ['north', 'south']) {
    const made = await cli('keygen', '--out', lab(name).key, '--public', lab(name).identity);
    expect(made.code, made.err).toBe(0);
    expect(statSync(lab(name).key).mode & 0o777).toBe(0o600);
    const enrolled = await cli(
      'admin',
      'enroll',
      '--relay',
      relay.url,
      '--admin-key',
      adminKey,
      '--identity',
      lab(name).identity,
      '--lab',
      name,
    );
    expect(enrolled.code, enrolled.err).toBe(0);
  }
  const listed = await cli('admin', 'list', '--relay', relay.url, '--admin-key', adminKey, '--json');
  expect(
    listed.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).lab),
  ).toEqual(['north', 'south']);

  // Each lab command keeps its trust record in a state dir: the test's, never the working directory's.
  const common = ['--relay', relay.url, '--log-key', relay.vkey, '--state-dir', join(dir, 'lab-state')];
  const created = await cli(
    'session',
    'create',
    ...common,
    '--key',
    lab('north').key,
    '--labs',
    'north,south',
    '--kinds',
    'email,ip',
    '--proofs',
    'full',
    '--chunk-size',
    '2048',
    '--json',
  );
  expect(created.code, created.err).toBe(0);
  const session = JSON.parse(created.out).session as string;
  // What each hop will prove and the cut of the chunks, from the signed proposal, before anyone joins.
  const joined = await cli('session', 'join', ...common, '--key', lab('south').key, '--session', session, '--json');
  expect(JSON.parse(joined.out)).toMatchObject({
    labs: ['north', 'south'],
    kinds: ['email', 'ip'],
    reveal: 'labs',
    proposer: 'north',
    proofs: 'full',
    chunk_size: 2048,
    state: 'joining',
  });
  const before = await cli('session', 'status', ...common, '--key', lab('south').key, '--session', session);
  expect(before.out).toMatch(/^proofs\s+full$/m);
  expect(before.out).toMatch(/^chunk_size\s+2048$/m);

  writeFileSync(
    join(dir, 'north.csv'),
    'kind,value\nemail,Shared@Example.com\nip,198.51.100.9\nemail,north@example.com\n',
  );
  writeFileSync(join(dir, 'south.txt'), 'shared@example.com\nsouth@example.com\n');
  const runs = await Promise.all([
    cli(
      'session',
      'run',
      ...common,
      '--key',
      lab('north').key,
      '--session',
      session,
      '--input',
      join(dir, 'north.csv'),
      '--state-dir',
      join(dir, 'state-n'),
      '--workers',
      '1',
    ),
    cli(
      'session',
      'run',
      ...common,
      '--key',
      lab('south').key,
      '--session',
      session,
      '--input',
      join(dir, 'south.txt'),
      '--kind',
      'email',
      '--state-dir',
      join(dir, 'state-s'),
      '--workers',
      '1',
    ),
  ]);
  for (const run of runs) expect(run.code, run.err).toBe(0);
  expect(readFileSync(join(dir, 'state-n', `${session}.results.jsonl`), 'utf8')).toBe(
    // Traced to north.csv's line 2 (line 1 is the header).
    '{"kind":"email","value":"shared@example.com","labs":["south"],"line":2}\n',
  );
  const status = await cli('session', 'status', ...common, '--key', lab('south').key, '--session', session, '--json');
  expect(JSON.parse(status.out)).toMatchObject({
    state: 'done',
    joined: expect.arrayContaining(['north', 'south']),
    waiting_on: [],
  });

  const stix = await cli('results', '--session', session, '--format', 'stix', '--state-dir', join(dir, 'state-s'));
  const bundle = JSON.parse(stix.out) as { type: string; objects: { type: string; pattern?: string }[] };
  expect(bundle.type).toBe('bundle');
  expect(bundle.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern)).toEqual([
    "[email-addr:value = 'shared@example.com']",
  ]);
  expect(bundle.objects.filter((o) => o.type === 'sighting')).toHaveLength(1);
  const csv = await cli('results', '--session', session, '--format', 'csv', '--state-dir', join(dir, 'state-s'));
  // South's copy: line 1 of south.txt, which has no id or label column.
  expect(csv.out).toBe('kind,value,labs,count,line,id,label\r\nemail,shared@example.com,north,,1,,\r\n');

  // A revoked lab can no longer act.
  const southId = JSON.parse(readFileSync(lab('south').identity, 'utf8')).key_id as string;
  const revoked = await cli(
    'admin',
    'revoke',
    '--relay',
    relay.url,
    '--admin-key',
    adminKey,
    '--key-id',
    southId,
    '--reason',
    'test',
  );
  expect(revoked.code, revoked.err).toBe(0);
  const refused = await cli(
    'session',
    'create',
    ...common,
    '--key',
    lab('south').key,
    '--labs',
    'north,south',
    '--kinds',
    'email',
  );
  expect(refused.code).toBe(1);
  expect(refused.err).toMatch(/revoked/);
}, 120_000);

test('usage errors exit 64, an unreadable key file 66', async () => {
  expect(
    (
      await cli(
        'session',
        'run',
        '--relay',
        relay.url,
        '--key',
        join(dir, 'none.key'),
        '--session',
        'nope',
        '--input',
        'x',
      )
    ).code,
  ).toBe(64);
  const missing = await cli(
    'session',
    'status',
    '--relay',
    relay.url,
    '--key',
    join(dir, 'none.key'),
    '--session',
    'a'.repeat(32),
  );
  expect(missing.code).toBe(66);
  expect((await cli('simulate', '--lab', 'only=x.csv')).code).toBe(64);
  const create = (...extra: string[]) =>
    cli(
      'session',
      'create',
      '--relay',
      relay.url,
      '--key',
      join(dir, 'none.key'),
      '--labs',
      'a,b',
      '--kinds',
      'email',
      ...extra,
    );
  for (const flags of [
    ['--proofs', 'some'],
    ['--chunk-size', '1023'],
    ['--chunk-size', '65537'],
    ['--chunk-size', '4096.5'],
  ]) {
    const refused = await create(...flags);
    expect({ flags, code: refused.code }).toEqual({ flags, code: 64 });
  }
  expect((await cli('results', '--session', 'a'.repeat(32), '--format', 'xml')).code).toBe(64);
});

test('an invalid lab id or name is refused before anything is sent (64, naming the flag or field)', async () => {
  const identity = join(dir, 'badly-named.identity.json');
  expect((await cli('keygen', '--out', join(dir, 'badly-named.key'), '--public', identity)).code).toBe(0);
  const members = async () =>
    (await cli('admin', 'list', '--relay', relay.url, '--admin-key', adminKey, '--json')).out.trim().split('\n').length;
  const before = await members();
  const enroll = (...extra: string[]) =>
    cli('admin', 'enroll', '--relay', relay.url, '--admin-key', adminKey, '--identity', identity, ...extra);

  const spaced = await enroll('--lab', 'Lab A');
  expect(spaced.code).toBe(64);
  expect(spaced.err).toContain('--lab "Lab A" is not a lab id');

  const longName = await enroll('--lab', 'lab-z', '--name', 'n'.repeat(201));
  expect(longName.code).toBe(64);
  expect(longName.err).toMatch(/name/);

  expect(await members()).toBe(before);
});
