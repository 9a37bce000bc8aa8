/**
 * readSuspectSource on real files, folders and commands: each source gives the canonical values
 * the kinds define (compared with what the `email` kind makes of them), `newest` picks by mtime
 * then name and never a hidden, non-matching or non-regular entry, every way of not getting a
 * list is SOURCE_FAILED, and a command's output (suspect data) never stays in the work folder.
 * The name patterns are checked on their own too.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AgentError } from '../src/errors.js';
import { compileNamePattern } from '../src/source-glob.js';
import { readSuspectSource, type SuspectSource } from '../src/suspect-source.js';

const node = process.execPath;
let dir: string;
let workDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-source-'));
  workDir = join(dir, 'work');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (source: SuspectSource) => readSuspectSource(source, { workDir, describe: 'kind email' });

async function failure(run: Promise<unknown>): Promise<AgentError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

/** What is left in the work folder (it may never have been made). */
async function leftInWorkDir(): Promise<string[]> {
  return readdir(workDir).catch(() => []);
}

describe('file', () => {
  test('a CSV file, canonicalized per kind', async () => {
    const path = join(dir, 'suspects.csv');
    await writeFile(path, 'kind,value\nemail,Alice+x@Example.COM\nip,203.0.113.7\nemail,alice@example.com\n');
    const { source, file, reading } = await read({ type: 'file', path });
    expect(source).toBe(`file ${path}`);
    expect(file).toBe(path);
    expect(reading.sets).toEqual({ email: ['alice@example.com'], ip: ['203.0.113.7'] });
    expect(reading.format).toBe('csv');
  });

  test('plain lines, with the kind of the source', async () => {
    const path = join(dir, 'list.txt');
    await writeFile(path, 'J.Doe+news@GoogleMail.com\nBob@Example.org\n');
    const { reading } = await read({ type: 'file', path, kind: 'email', format: 'lines' });
    expect(reading.sets).toEqual({ email: ['jdoe@gmail.com', 'bob@example.org'] });
  });

  test('a missing file, a folder, a FIFO and a bad file are SOURCE_FAILED', async () => {
    const missing = await failure(read({ type: 'file', path: join(dir, 'missing.csv') }));
    expect(missing.code).toBe('SOURCE_FAILED');
    expect(missing.message).toContain('kind email');
    expect((await failure(read({ type: 'file', path: dir }))).code).toBe('SOURCE_FAILED');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(read({ type: 'file', path: fifo, kind: 'email' }))).code).toBe('SOURCE_FAILED');
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'kind,vaule\nemail,a@example.com\n');
    const wrapped = await failure(read({ type: 'file', path: bad }));
    expect(wrapped.code).toBe('SOURCE_FAILED');
    expect(wrapped.cause).toMatchObject({ name: 'IndicatorError', code: 'BAD_FILE' });
  });

  test('an unknown format is BAD_CONFIG', async () => {
    const path = join(dir, 'list.txt');
    await writeFile(path, 'a@example.com\n');
    const source = { type: 'file', path, format: 'xlsx' } as unknown as SuspectSource;
    expect((await failure(read(source))).code).toBe('BAD_CONFIG');
  });
});

describe('newest', () => {
  const at = (day: number) => new Date(Date.UTC(2026, 11, day, 12));

  async function file(name: string, day: number, content = `${name.replace(/\W/g, '')}@example.com\n`) {
    await writeFile(join(dir, name), content);
    await utimes(join(dir, name), at(day), at(day));
  }

  test('the newest matching regular file, by mtime', async () => {
    await file('suspects-a.csv.txt', 5);
    await file('suspects-2026-12-07.txt', 7);
    await file('suspects-2026-12-05.txt', 5);
    await file('suspects-2026-12-06.txt', 6);
    await file('other-2026-12-09.txt', 9); // newer than all, but not a match
    await file('.suspects-2026-12-09.txt', 9); // hidden: a writer's temporary file
    await mkdir(join(dir, 'suspects-2026-12-10.txt')); // matches, newest, but a folder
    await utimes(join(dir, 'suspects-2026-12-10.txt'), at(10), at(10));
    const {
      source,
      file: chosen,
      reading,
    } = await read({
      type: 'newest',
      dir,
      pattern: 'suspects-????-[0-9][0-9]-[0-9][0-9].txt',
      kind: 'email',
    });
    expect(chosen).toBe(join(dir, 'suspects-2026-12-07.txt'));
    expect(source).toBe(`newest in ${dir}: suspects-2026-12-07.txt`);
    expect(reading.sets).toEqual({ email: ['suspects20261207txt@example.com'] });
  });

  test('a tie in mtime goes to the greatest name', async () => {
    await file('b-1.txt', 7);
    await file('b-3.txt', 7);
    await file('b-2.txt', 7);
    const { file: chosen } = await read({ type: 'newest', dir, pattern: 'b-*.txt', kind: 'email' });
    expect(chosen).toBe(join(dir, 'b-3.txt'));
  });

  test('no match is SOURCE_FAILED naming the folder and the pattern; a missing folder too', async () => {
    await file('other.txt', 7);
    const none = await failure(read({ type: 'newest', dir, pattern: 'suspects-*.csv' }));
    expect(none.code).toBe('SOURCE_FAILED');
    expect(none.message).toContain(dir);
    expect(none.message).toContain('suspects-*.csv');
    const gone = await failure(read({ type: 'newest', dir: join(dir, 'missing'), pattern: '*.csv' }));
    expect(gone.code).toBe('SOURCE_FAILED');
  });

  test('a pattern with a path separator is BAD_CONFIG', async () => {
    expect((await failure(read({ type: 'newest', dir, pattern: '../*.csv' }))).code).toBe('BAD_CONFIG');
  });
});

describe('command', () => {
  const jsonLines = [
    { kind: 'email', value: 'Carol.Smith+x@GoogleMail.com' },
    { kind: 'email', value: 'Dave@Example.ORG' },
    { kind: 'ip', value: '198.51.100.4' },
  ]
    .map((record) => JSON.stringify(record))
    .join('\n');
  const printing = (extra = '') => [node, '-e', `process.stdout.write(${JSON.stringify(`${jsonLines}\n`)});${extra}`];

  test('its JSON lines output is read (format from the content), and the output file removed', async () => {
    const { source, reading } = await read({ type: 'command', argv: printing(), timeoutMs: 20_000 });
    expect(source).toBe(`command ${node}`);
    expect(reading.format).toBe('jsonl');
    expect(reading.sets).toEqual({ email: ['carolsmith@gmail.com', 'dave@example.org'], ip: ['198.51.100.4'] });
    expect(await leftInWorkDir()).toEqual([]);
    expect((await stat(workDir)).mode & 0o777).toBe(0o700);
  });

  test('keepOutput keeps the output file, 0600', async () => {
    const { file } = await readSuspectSource(
      { type: 'command', argv: printing(), timeoutMs: 20_000 },
      { workDir, describe: 'kind email', keepOutput: true },
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await leftInWorkDir()).toHaveLength(1);
  });

  test('an empty output is an empty reading, not an error', async () => {
    const { reading } = await read({ type: 'command', argv: [node, '-e', ''], timeoutMs: 20_000, kind: 'email' });
    expect(reading.sets).toEqual({});
  });

  test('a command that exits non-zero is SOURCE_FAILED even though it printed values; nothing is left', async () => {
    const error = await failure(read({ type: 'command', argv: printing('process.exitCode = 1'), timeoutMs: 20_000 }));
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('kind email');
    expect(await leftInWorkDir()).toEqual([]);
  });

  test('a command that hangs is SOURCE_FAILED at its timeout; nothing is left', async () => {
    const error = await failure(
      read({ type: 'command', argv: printing('setInterval(() => {}, 1000)'), timeoutMs: 300 }),
    );
    expect(error).toMatchObject({ code: 'SOURCE_FAILED', details: { timedOut: true } });
    expect(await leftInWorkDir()).toEqual([]);
  });

  test('output that is not records of the asked format is SOURCE_FAILED; nothing is left', async () => {
    const error = await failure(read({ type: 'command', argv: printing(), timeoutMs: 20_000, format: 'csv' }));
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.cause).toMatchObject({ code: 'BAD_FILE' });
    expect(await leftInWorkDir()).toEqual([]);
  });
});

describe('name patterns', () => {
  test.each([
    ['*.csv', 'suspects.csv', true],
    ['*.csv', 'suspects.csv.tmp', false],
    ['*.csv', '.hidden.csv', false],
    ['.*.csv', '.hidden.csv', true],
    ['?.txt', 'ü.txt', true],
    ['?.txt', 'ab.txt', false],
    ['[abc]-*', 'b-1', true],
    ['[abc]-*', 'd-1', false],
    ['x[0-9]', 'x7', true],
    ['x[!0-9]', 'x7', false],
    ['x[!0-9]', 'xa', true],
    ['[]a]', ']', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b', 'aXb', false],
    ['(x)+', '(x)+', true],
    ['Suspects.csv', 'suspects.csv', false],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(compileNamePattern(pattern).matches(name)).toBe(expected);
  });

  test.each(['', 'a/b', '[abc', '[^a]', '[z-a]', 'x\\'])('%j is BAD_CONFIG', (pattern) => {
    expect(() => compileNamePattern(pattern)).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});
