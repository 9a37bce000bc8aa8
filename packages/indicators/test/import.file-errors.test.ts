/**
 * File-level errors (`BAD_FILE`) say where they are — in the message (`line N: …`) and in
 * `details` (line, and the reason without its place, for a caller that prefixes the file name) —
 * and an error of the byte source (a read error) passes through the importers as it is, never
 * turned into a CSV error.
 */
import { describe, expect, test } from 'vitest';
import { readCsv, readJsonl, readRecords, readStix } from '../src/index.js';

async function* chunks(text: string, size = 5): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function drain(records: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of records);
}

describe('CSV header errors name the line', () => {
  test.each([
    ['an unknown column', 'kind,vaule\nemail,x\n', 1, 'CSV header: unknown column(s) "vaule"'],
    ['after blank lines', '\n\nkind,vaule\n', 3, 'CSV header: unknown column(s) "vaule"'],
    ['no value column', 'kind,label\n', 1, 'CSV header: no "value" column'],
    ['a tab-separated header read as CSV', 'kind\tvalue\nemail\tx\n', 1, 'looks tab-separated (use the tsv format)'],
  ])('%s', async (_label, csv, line, reason) => {
    const error = await drain(readCsv(chunks(csv))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_FILE', details: { line, reason: expect.stringContaining(reason) } });
    expect((error as Error).message).toMatch(new RegExp(`^line ${line}: CSV header: `));
    expect((error as Error).message).toContain('(columns: kind, value, region, first_seen, confidence, label, id)');
  });

  test('a comma-separated header read as TSV says so', async () => {
    await expect(drain(readRecords('tsv', chunks('kind,value\n')))).rejects.toMatchObject({
      details: { line: 1, reason: expect.stringContaining('looks comma-separated (use the csv format)') },
    });
  });

  test.each([
    ['on the second line', 'kind,value\nemail,"a@b.example\n', 2],
    ['after records and a quoted line break', 'kind,value\r\n"a\r\nb",email\r\nx,email\r\nemail,"open\r\nmore\r\n', 5],
    ['at the end without a line break', 'kind,value\nemail,x\nemail,"a', 3],
  ])('an unclosed quote %s names the line of its record', async (_label, csv, line) => {
    await expect(drain(readCsv(chunks(csv)))).rejects.toMatchObject({
      code: 'BAD_FILE',
      details: { line, reason: 'a quoted field opened in this record is never closed' },
      message: `line ${line}: a quoted field opened in this record is never closed`,
    });
  });

  test('an empty CSV file is BAD_FILE without a line', async () => {
    await expect(drain(readCsv(chunks('')))).rejects.toMatchObject({
      code: 'BAD_FILE',
      details: { reason: 'the CSV file is empty: it needs a header row' },
    });
  });
});

describe("the source's own errors pass through unchanged", () => {
  const readError = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('kind,value\nemail,a@b.example\n');
    throw readError;
  }
  test.each([
    ['csv', readCsv],
    ['jsonl', readJsonl],
    ['stix', (s: AsyncIterable<Uint8Array>) => readStix(s)],
  ] as const)('%s', async (_label, read) => {
    await expect(drain(read(failing()))).rejects.toBe(readError);
  });
});

describe('STIX file errors are BAD_FILE with a reason', () => {
  test.each([
    ['not JSON', '{"type":', 'the STIX bundle is not valid JSON'],
    ['not a bundle', '{"type":"indicator"}', 'not a STIX 2.1 bundle'],
  ])('%s', async (_label, text, reason) => {
    await expect(drain(readStix(chunks(text)))).rejects.toMatchObject({
      code: 'BAD_FILE',
      details: { reason: expect.stringContaining(reason) },
    });
  });
});
