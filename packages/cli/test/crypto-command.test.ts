import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BlindingKey, blind, fromHex, hashToGroup, toHex } from '@overlap/crypto';
import { INDICATOR_KIND_NAMES } from '@overlap/indicators';
import { describe, expect, test } from 'vitest';
import { HASHABLE_KINDS } from '../src/commands/crypto.js';
import { EXIT } from '../src/index.js';
import { runInProcess } from './run-in-process.js';
import { runCli } from './support/cli-process.js';

const run = runInProcess;

const KEY = '0a'.repeat(32);

describe('overlap crypto hash', () => {
  test('prints hash_to_group(kind, line) for every line, in order', async () => {
    const values = Array.from({ length: 2500 }, (_, i) => `user${i}@example.com`);
    const { code, out, err } = await run(['crypto', 'hash', '--kind', 'email'], `${values.join('\n')}\n`);
    expect(err).toBe('');
    expect(code).toBe(EXIT.OK);
    expect(out).toBe(`${values.map((v) => toHex(hashToGroup('email', v))).join('\n')}\n`);
  });

  test('accepts CRLF line endings', async () => {
    const { out } = await run(['crypto', 'hash', '--kind', 'email'], 'a@b.example\r\nc@d.example\r\n');
    expect(out).toBe(`${toHex(hashToGroup('email', 'a@b.example'))}\n${toHex(hashToGroup('email', 'c@d.example'))}\n`);
  });

  test('an empty line stops with its line number and exit 65', async () => {
    const { code, err } = await run(['crypto', 'hash', '--kind', 'email'], 'a@b.example\nc@d.example\n\ne@f.example\n');
    expect(code).toBe(EXIT.DATA);
    expect(err).toMatch(/^overlap: line 3: .*BAD_INPUT/);
  });

  test('a bad line 40 of 100: lines 1–39 are written first, then the error', async () => {
    const values = Array.from({ length: 100 }, (_, i) => (i === 39 ? '' : `user${i}@example.com`));
    const { code, out, err } = await run(['crypto', 'hash', '--kind', 'email'], `${values.join('\n')}\n`);
    expect(code).toBe(EXIT.DATA);
    expect(err).toMatch(/^overlap: line 40: /);
    expect(out).toBe(
      `${values
        .slice(0, 39)
        .map((v) => toHex(hashToGroup('email', v)))
        .join('\n')}\n`,
    );
  });

  test('every kind of spec/indicators.md is accepted, and only those', async () => {
    expect([...HASHABLE_KINDS]).toEqual([...INDICATOR_KIND_NAMES]);
    for (const kind of INDICATOR_KIND_NAMES) {
      const { code, out } = await run(['crypto', 'hash', '--kind', kind], 'x\n');
      expect({ kind, code, out }).toEqual({ kind, code: EXIT.OK, out: `${toHex(hashToGroup(kind, 'x'))}\n` });
    }
  });

  test.each([['bogus'], ['EMAIL'], [' email'], ['email,ip'], ['']])(
    'an unknown --kind %j is a usage error (64) listing the known kinds, with no output',
    async (kind) => {
      const { code, out, err } = await run(['crypto', 'hash', '--kind', kind], 'a@b.example\n');
      expect(code).toBe(EXIT.USAGE);
      expect(out).toBe('');
      expect(err).toContain(`--kind ${JSON.stringify(kind)} is not an indicator kind; known kinds: email, phone, ip,`);
    },
  );

  test('as the user met it: crypto hash --kind bogus in a real process exits 64', async () => {
    const bogus = await runCli(['crypto', 'hash', '--kind', 'bogus'], { input: 'a@b.example\n' });
    expect(bogus.code).toBe(EXIT.USAGE);
    expect(bogus.stdout).toBe('');
    expect(bogus.stderr).toContain('known kinds: ');
  }, 60_000);

  test('a missing --kind is a usage error (64)', async () => {
    const { code, err } = await run(['crypto', 'hash'], 'x\n');
    expect(code).toBe(EXIT.USAGE);
    expect(err).toContain("required option '--kind <kind>'");
  });
});

describe('overlap crypto blind', () => {
  const points = ['a@b.example', 'c@d.example', 'e@f.example'].map((v) => toHex(hashToGroup('email', v)));

  test('prints X25519(key, u) for every line', async () => {
    const { code, out } = await run(['crypto', 'blind', '--key', KEY], `${points.join('\n')}\n`);
    const key = BlindingKey.fromBytes(fromHex(KEY));
    expect(code).toBe(EXIT.OK);
    expect(out).toBe(`${points.map((u) => toHex(blind(key, fromHex(u)))).join('\n')}\n`);
  });

  test.each([
    ['uppercase hex', (p: string) => p.toUpperCase(), 'expected 64 lowercase hex digits'],
    ['a short point', (p: string) => p.slice(2), 'expected 64 lowercase hex digits'],
    ['a low-order point', () => '00'.repeat(32), 'LOW_ORDER_POINT'],
  ])('%s on line 2 stops with its line number and exit 65', async (_label, spoil, reason) => {
    const input = [points[0], spoil(points[1] as string), points[2]].join('\n');
    const { code, err } = await run(['crypto', 'blind', '--key', KEY], `${input}\n`);
    expect(code).toBe(EXIT.DATA);
    expect(err).toContain('line 2: ');
    expect(err).toContain(reason);
  });

  test.each([
    ['a low-order point', () => '00'.repeat(32), 'LOW_ORDER_POINT'],
    ['bad hex', () => 'xy'.repeat(32), 'expected 64 lowercase hex digits'],
  ])('%s on line 51 of 200: lines 1–50 are written first, then the error', async (_label, spoil, reason) => {
    const many = Array.from({ length: 200 }, (_, i) => toHex(hashToGroup('email', `user${i}@example.com`)));
    many[50] = spoil();
    const { code, out, err } = await run(['crypto', 'blind', '--key', KEY], `${many.join('\n')}\n`);
    const key = BlindingKey.fromBytes(fromHex(KEY));
    expect(code).toBe(EXIT.DATA);
    expect(err).toContain('line 51: ');
    expect(err).toContain(reason);
    expect(out).toBe(
      `${many
        .slice(0, 50)
        .map((u) => toHex(blind(key, fromHex(u))))
        .join('\n')}\n`,
    );
  });

  test.each([['0a'], ['ZZ'.repeat(32)], ['0A'.repeat(32)]])(
    '--key %s is a usage error that does not echo the key',
    async (key) => {
      const { code, err } = await run(['crypto', 'blind', '--key', key], `${points[0]}\n`);
      expect(code).toBe(EXIT.USAGE);
      expect(err).toContain('--key must be 64 lowercase hex digits');
      expect(err).not.toContain(key);
    },
  );
});

test('as a real process: a pipe in, a pipe out', async () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@overlap/source', main, 'crypto', 'hash', '--kind', 'ip'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stdin.end('192.0.2.1\n2001:db8::1\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code).toBe(0);
  expect(out).toBe(`${toHex(hashToGroup('ip', '192.0.2.1'))}\n${toHex(hashToGroup('ip', '2001:db8::1'))}\n`);
});

describe('--json: one JSON object with the results, in a real process', () => {
  test('hash: {kind, hashes} in input order; empty input, an empty list', async () => {
    const values = Array.from({ length: 1500 }, (_, i) => `user${i}@example.com`);
    const made = await runCli(['crypto', 'hash', '--kind', 'email', '--json'], { input: `${values.join('\n')}\n` });
    expect(made.code, made.stderr).toBe(EXIT.OK);
    expect(made.stdout.endsWith('}\n')).toBe(true);
    expect(JSON.parse(made.stdout)).toEqual({
      kind: 'email',
      hashes: values.map((v) => toHex(hashToGroup('email', v))),
    });
    const empty = await runCli(['crypto', 'hash', '--kind', 'ip', '--json'], { input: '' });
    expect(JSON.parse(empty.stdout)).toEqual({ kind: 'ip', hashes: [] });
  });

  test('blind: {blinded}', async () => {
    const u = toHex(hashToGroup('email', 'a@b.example'));
    const made = await runCli(['crypto', 'blind', '--key', KEY, '--json'], { input: `${u}\n${u}\n` });
    expect(made.code, made.stderr).toBe(EXIT.OK);
    const key = BlindingKey.fromBytes(fromHex(KEY, 32));
    const expected = toHex(blind(key, fromHex(u, 32)));
    key.dispose();
    expect(JSON.parse(made.stdout)).toEqual({ blinded: [expected, expected] });
  });

  test('a bad line: the object still closes, with the results before it and the error; exit 65', async () => {
    const hashed = await runCli(['crypto', 'hash', '--kind', 'email', '--json'], {
      input: 'a@b.example\n\nc@d.example\n',
    });
    expect(hashed.code).toBe(EXIT.DATA);
    expect(hashed.stderr).toMatch(/^overlap: line 2: .*BAD_INPUT/);
    const report = JSON.parse(hashed.stdout);
    expect(report.hashes).toEqual([toHex(hashToGroup('email', 'a@b.example'))]);
    expect(report.error).toMatchObject({ line: 2, message: expect.stringMatching(/^line 2: .*BAD_INPUT/) });

    const blinded = await runCli(['crypto', 'blind', '--key', KEY, '--json'], {
      input: `${'09'.repeat(32)}\nnot hex\n`,
    });
    expect(blinded.code).toBe(EXIT.DATA);
    expect(JSON.parse(blinded.stdout)).toMatchObject({
      blinded: [expect.stringMatching(/^[0-9a-f]{64}$/)],
      error: { line: 2, message: 'line 2: expected 64 lowercase hex digits' },
    });
  });
});
