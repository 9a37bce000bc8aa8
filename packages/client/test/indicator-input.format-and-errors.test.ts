/**
 * readIndicatorFile never reads a file in the wrong format silently, and every way it fails names
 * the file: a CSV saved under another name is still read as CSV (it used to be read as plain lines,
 * every record rejected, and the lab joined with an empty set); a workbook, UTF-16 or invalid UTF-8
 * is refused with the file, line and byte; a missing or unreadable file is INPUT_UNREADABLE with the
 * OS reason. Each failure is the same, class, code, message and details, read here or in the worker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readIndicatorFile } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-input-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The error `run` fails with (the test fails if it does not). */
async function failure(run: () => Promise<unknown>): Promise<Error & { code: string; details?: unknown }> {
  try {
    await run();
  } catch (error) {
    return error as Error & { code: string; details?: unknown };
  }
  throw new Error('expected a failure');
}

/** The same failure on this thread and in the reader worker; returns it. */
async function sameFailureBothWays(path: string, options: { format?: 'lines' | 'csv' } = {}) {
  const here = await failure(() => readIndicatorFile(path, { ...options, isolate: false }));
  const there = await failure(() => readIndicatorFile(path, { ...options, isolate: true }));
  expect({ name: there.name, code: there.code, message: there.message, details: there.details }).toEqual({
    name: here.name,
    code: here.code,
    message: here.message,
    details: here.details,
  });
  return here;
}

const CSV = 'kind,value,label\nemail,Alice@Example.COM,a\nip,192.0.2.7,b\nemail,alice@example.com,dup\n';

describe('a CSV under a name that does not say so is still read as CSV', () => {
  test.each(['suspects.txt', 'suspects.tsv', 'suspects', 'suspects.xlsx'])('%s', async (name) => {
    const truth = await readIndicatorFile(file('truth.csv', CSV));
    expect(truth).toMatchObject({ format: 'csv', formatFrom: 'extension' });
    for (const isolate of [false, true]) {
      const input = await readIndicatorFile(file(name, CSV), { isolate });
      expect(input).toMatchObject({
        format: 'csv',
        formatFrom: 'content',
        formatReason: 'the first line is a CSV header (kind, value, label)',
      });
      expect(input.sets).toEqual({ email: ['alice@example.com'], ip: ['192.0.2.7'] });
      expect(input.summary).toEqual(truth.summary);
      expect(input.rejected).toEqual([]);
    }
  });

  test('tab-separated, JSON lines and a STIX bundle under .txt are each read as what they are', async () => {
    const tsv = await readIndicatorFile(file('t.txt', 'kind\tvalue\nemail\tA@b.example\n'));
    expect(tsv).toMatchObject({ format: 'tsv', formatFrom: 'content', sets: { email: ['a@b.example'] } });
    const jsonl = await readIndicatorFile(file('j.txt', '{"kind":"email","value":"A@b.example"}\n'));
    expect(jsonl).toMatchObject({ format: 'jsonl', sets: { email: ['a@b.example'] } });
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        { type: 'indicator', id: 'indicator--1', pattern_type: 'stix', pattern: "[ipv4-addr:value = '192.0.2.1']" },
      ],
    };
    const stix = await readIndicatorFile(file('s.txt', JSON.stringify(bundle, null, 2)));
    expect(stix).toMatchObject({ format: 'stix', sets: { ip: ['192.0.2.1'] } });
  });

  test('plain values are plain lines, and say why', async () => {
    const input = await readIndicatorFile(file('plain.txt', 'a@b.example\nC@D.example\n'), { kind: 'email' });
    expect(input).toMatchObject({
      format: 'lines',
      formatFrom: 'content',
      sets: { email: ['a@b.example', 'c@d.example'] },
    });
    expect(input.formatReason).toMatch(/neither a JSON object nor a CSV header/);
  });

  test('an explicit format always wins', async () => {
    const input = await readIndicatorFile(file('forced.txt', CSV), { format: 'lines', kind: 'email' });
    expect(input).toMatchObject({ format: 'lines', formatFrom: 'option' });
    expect(input.summary.rejected).toBe(4); // every line, header included, is a value that is no e-mail
  });
});

describe('files that are not text are named, with what they look like', () => {
  test('a real .xlsx (a ZIP archive)', async () => {
    const xlsx = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, ...new Uint8Array(64)]);
    const path = file('suspects.xlsx', xlsx);
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ name: 'IndicatorError', code: 'BAD_FILE', details: { file: path } });
    expect(error.message).toBe(
      `${path} is not a text file: it starts like a ZIP archive (an .xlsx or .ods workbook?); export it as CSV, UTF-8`,
    );
  });

  test('an old .xls, even when called .csv or read with an explicit format', async () => {
    const xls = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...new Uint8Array(64)]);
    const asCsv = await sameFailureBothWays(file('suspects.csv', xls));
    expect(asCsv.message).toMatch(/suspects\.csv is not a text file: it starts like an OLE compound file/);
    const forced = await sameFailureBothWays(file('suspects.xls', xls), { format: 'lines' });
    expect(forced.message).toMatch(/suspects\.xls is not a text file/);
  });

  test('UTF-16 (as "Unicode text" exports are)', async () => {
    const text = 'kind,value\r\nemail,a@b.example\r\n';
    const utf16 = Uint8Array.from([0xff, 0xfe, ...[...text].flatMap((c) => [c.charCodeAt(0), 0])]);
    const error = await sameFailureBothWays(file('unicode.txt', utf16));
    expect(error.message).toMatch(/unicode\.txt is not a text file: it starts like UTF-16 text.*save it as UTF-8$/);
  });

  test('invalid UTF-8 names the file, the line and the byte', async () => {
    // Latin-1 "é" on the third line, after a first chunk's worth of lines: the truth is counted here.
    const before = `kind,value\n${'email,x@y.example\n'.repeat(5000)}email,caf`;
    const bytes = Uint8Array.from([...Buffer.from(before), 0xe9, ...Buffer.from('@x.example\n')]);
    const path = file('latin1.csv', bytes);
    const line = before.split('\n').length;
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ code: 'BAD_FILE', details: { file: path, line, byte: before.length } });
    expect(error.message).toMatch(
      new RegExp(`^${path.replaceAll('/', '\\/')}:${line}: invalid UTF-8 at byte ${before.length} \\(0xE9\\)`),
    );
  });
});

describe('bad content names the file and line', () => {
  test('an unknown CSV column', async () => {
    const path = file('header.csv', '\nkind,vaule\nemail,a@b.example\n');
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ name: 'IndicatorError', code: 'BAD_FILE', details: { file: path, line: 2 } });
    expect(error.message).toMatch(
      new RegExp(`^${path.replaceAll('/', '\\/')}:2: CSV header: unknown column\\(s\\) "vaule"`),
    );
  });

  test('a header separated by semicolons', async () => {
    const path = file('excel-de.txt', 'kind;value\nemail;a@b.example\n');
    const error = await sameFailureBothWays(path);
    expect(error.message).toBe(
      `${path}:1: the header is separated by semicolons, which no importer reads: save the file as comma-separated CSV (or tab-separated)`,
    );
  });

  test('a file-level error without a line names the file', async () => {
    const path = file('empty.csv', '');
    const error = await sameFailureBothWays(path);
    expect(error.message).toBe(`${path}: the CSV file is empty: it needs a header row`);
  });
});

describe('a file that cannot be read is INPUT_UNREADABLE, with the OS reason', () => {
  test('missing', async () => {
    const path = join(dir, 'nowhere', 'suspects.csv');
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ name: 'ClientError', code: 'INPUT_UNREADABLE' });
    expect(error.message).toBe(`cannot read ${path}: no such file or directory`);
  });

  test('a directory', async () => {
    const path = join(dir, 'a-directory.csv');
    mkdirSync(path);
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: `cannot read ${path}: it is a directory` });
  });

  test('a read that fails after the file is open (EIO), here and in the worker', async () => {
    // /proc/self/mem is a regular file whose first read fails with EIO: the open succeeds, the read does not.
    const error = await sameFailureBothWays('/proc/self/mem');
    expect(error).toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: 'cannot read /proc/self/mem: input/output error',
    });
  });

  test.skipIf(process.getuid?.() === 0)('no permission', async () => {
    const path = file('secret.csv', CSV);
    const { chmodSync } = await import('node:fs');
    chmodSync(path, 0o000);
    const error = await sameFailureBothWays(path);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: `cannot read ${path}: permission denied` });
  });
});
