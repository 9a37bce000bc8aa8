/**
 * traceResults finds, for each result, the first record of the lab's input that gives it: its line
 * and its own id and label. The truth is kept by the test as it writes the file (which line each
 * row starts on, which canonical value each spelling has), not computed by the code under test.
 * Memory: only the results are held — 600,000 records are traced in a 40 MB heap, where a map of
 * the input's records would not fit.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { readIndicatorFile, sourcesOfReading, traceResults } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Truth {
  line: number;
  id?: string;
  label?: string;
}

/**
 * A messy CSV: repeated values in other spellings, rejected rows, blank lines, a quoted label over
 * two lines, rows without an id. Returns the text and, per canonical e-mail, its first row.
 */
function messyCsv(rows: number): { text: string; truth: Map<string, Truth> } {
  const truth = new Map<string, Truth>();
  let text = 'id,kind,value,label\r\n';
  let line = 2;
  const add = (row: string) => {
    text += row;
    line += row.split('\n').length - 1;
  };
  for (let i = 0; i < rows; i++) {
    const n = i % 97; // repeats: row i and i+97 give the same canonical value
    const canonical = `user.${n}@example.com`;
    const spelled = i % 2 === 0 ? `User.${n}@Example.COM` : ` user.${n}@EXAMPLE.com `;
    const id = i % 5 === 0 ? '' : `acct-${i}`;
    const label = i % 7 === 0 ? `"two\nlines ${i}"` : `l${i}`;
    if (i % 11 === 0) add(`bad-${i},email,not an e-mail,x\r\n`);
    if (i % 13 === 0) add('\r\n');
    if (!truth.has(canonical)) {
      truth.set(canonical, {
        line,
        ...(id !== '' && { id }),
        label: label.startsWith('"') ? label.slice(1, -1) : label,
      });
    }
    add(`${id},email,${spelled},${label}\r\n`);
  }
  return { text, truth };
}

describe('each result traced to its first record', () => {
  test('CSV: line, id and label of the first row giving each result, in any spelling', async () => {
    const { text, truth } = messyCsv(1000);
    const path = join(dir, 'suspects.csv');
    writeFileSync(path, text);
    const shared = [...truth.keys()].filter((_, i) => i % 3 === 0);
    const results = [...shared.map((value) => ({ kind: 'email', value })), { kind: 'ip', value: '192.0.2.99' }];
    const trace = await traceResults(path, results);
    expect(trace).toMatchObject({ found: shared.length, missingCount: 1, format: 'csv', formatFrom: 'extension' });
    expect(trace.missing).toEqual([{ kind: 'ip', value: '192.0.2.99' }]);
    expect(Object.fromEntries(trace.sources.get('email') ?? [])).toEqual(
      Object.fromEntries(shared.map((value) => [value, truth.get(value)])),
    );
    expect(trace.sources.has('ip')).toBe(false);
  });

  test('the same file under another name, read by content, traces the same', async () => {
    const { text, truth } = messyCsv(200);
    const asCsv = join(dir, 'same.csv');
    const asTxt = join(dir, 'same.txt');
    writeFileSync(asCsv, text);
    writeFileSync(asTxt, text);
    const results = [...truth.keys()].map((value) => ({ kind: 'email', value }));
    const a = await traceResults(asCsv, results);
    const b = await traceResults(asTxt, results);
    expect(b.formatFrom).toBe('content');
    expect(b.sources).toEqual(a.sources);
    expect(a.found).toBe(truth.size);
  });

  test('JSON lines: ids and labels from the fields; plain lines: the line only, with the same kind option', async () => {
    const jsonl = [
      '{"kind":"ip","value":"192.0.2.1","id":"fw-1"}',
      '',
      '{"kind":"email","value":"bad"}',
      '{"kind":"ip","value":"192.000.2.1"}',
      '{"kind":"email","value":"A@B.example","label":"ceo"}',
    ].join('\n');
    const path = join(dir, 'records.jsonl');
    writeFileSync(path, jsonl);
    const trace = await traceResults(path, [
      { kind: 'ip', value: '192.0.2.1' },
      { kind: 'email', value: 'a@b.example' },
    ]);
    expect(trace.sources.get('ip')?.get('192.0.2.1')).toEqual({ line: 1, id: 'fw-1' });
    expect(trace.sources.get('email')?.get('a@b.example')).toEqual({ line: 5, label: 'ceo' });

    const lines = join(dir, 'phones.txt');
    writeFileSync(lines, '(415) 555-2671\n\n415 555 2672\n+1 415 555 2671\n');
    const phones = [{ kind: 'phone', value: '+14155552671' }];
    const traced = await traceResults(lines, phones, { kind: 'phone', region: 'US' });
    expect(traced.sources.get('phone')?.get('+14155552671')).toEqual({ line: 1 });
    // Without the region the national spelling canonicalizes to nothing: the first match is line 4.
    expect((await traceResults(lines, phones, { kind: 'phone' })).sources.get('phone')?.get('+14155552671')).toEqual({
      line: 4,
    });
  });

  test("STIX: the object's position, id and name", async () => {
    const objects = [
      { type: 'identity', id: 'identity--1', name: 'x' },
      {
        type: 'indicator',
        id: 'indicator--a',
        name: 'c2',
        pattern_type: 'stix',
        pattern: "[ipv4-addr:value = '198.51.100.4']",
      },
    ];
    const path = join(dir, 'bundle.json');
    writeFileSync(path, JSON.stringify({ type: 'bundle', id: 'bundle--1', objects }));
    const trace = await traceResults(path, [{ kind: 'ip', value: '198.51.100.4' }]);
    expect(trace.sources.get('ip')?.get('198.51.100.4')).toEqual({ line: 2, id: 'indicator--a', label: 'c2' });
  });

  test('reading stops once every result is found: damage after the last one does not matter', async () => {
    const path = join(dir, 'damaged.csv');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from(`kind,value\nemail,a@b.example\n${'email,x@y.example\n'.repeat(200_000)}email,caf`),
        Buffer.from([0xe9]),
      ]),
    );
    await expect(readIndicatorFile(path)).rejects.toMatchObject({ code: 'BAD_FILE' });
    const trace = await traceResults(path, [{ kind: 'email', value: 'a@b.example' }]);
    expect(trace.sources.get('email')?.get('a@b.example')).toEqual({ line: 2 });
    // …but a result not found before it means reading on, and then the damage is reported.
    await expect(traceResults(path, [{ kind: 'email', value: 'zz@b.example' }])).rejects.toMatchObject({
      code: 'BAD_FILE',
      details: { file: path, line: 200_003 },
    });
  });
});

describe('errors are those of readIndicatorFile', () => {
  test('a missing file, a directory, a bad header', async () => {
    const results = [{ kind: 'email', value: 'a@b.example' }];
    await expect(traceResults(join(dir, 'gone.csv'), results)).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: `cannot read ${join(dir, 'gone.csv')}: no such file or directory`,
    });
    await expect(traceResults(dir, results)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
    const bad = join(dir, 'bad-header.csv');
    writeFileSync(bad, 'kind,vaule\n');
    await expect(traceResults(bad, results)).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: expect.stringMatching(/bad-header\.csv:1: CSV header: unknown column/),
    });
  });

  test('no results: nothing to find, the file is only opened', async () => {
    const path = join(dir, 'any.csv');
    writeFileSync(path, 'kind,value\nemail,a@b.example\n');
    expect(await traceResults(path, [])).toMatchObject({ found: 0, missingCount: 0, missing: [] });
  });
});

test('600,000 records are traced in a process limited to a 40 MB heap', async () => {
  const path = join(dir, 'large.csv');
  const rows: string[] = ['id,kind,value'];
  for (let i = 0; i < 600_000; i++) rows.push(`acct-${i},email,user${i}@example.com`);
  writeFileSync(path, `${rows.join('\n')}\n`);
  const index = new URL('../src/index.ts', import.meta.url).href;
  // The last 1,000 records are the results: the whole file is read.
  const script = `
    import { traceResults } from ${JSON.stringify(index)};
    const results = [];
    for (let i = 599000; i < 600000; i++) results.push({ kind: 'email', value: 'user' + i + '@example.com' });
    const trace = await traceResults(${JSON.stringify(path)}, results);
    console.log(JSON.stringify({ found: trace.found, last: trace.sources.get('email').get('user599999@example.com') }));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-old-space-size=40', '--import', 'tsx', '--conditions=@overlap/source', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), maxBuffer: 1 << 20 },
  );
  expect(JSON.parse(stdout)).toEqual({ found: 1000, last: { line: 600_001, id: 'acct-599999' } });
}, 180_000);

describe('sourcesOfReading: the lines from the reading itself, without a second read', () => {
  /** Plain lines with repeats in other spellings, blank and rejected lines: the truth kept as written. */
  function messyLines(rows: number): { text: string; truth: Map<string, number> } {
    const truth = new Map<string, number>();
    const out: string[] = [];
    for (let i = 0; i < rows; i++) {
      const n = i % 1_009;
      if (i % 17 === 0) out.push('not an e-mail');
      if (i % 23 === 0) out.push('');
      const canonical = `person.${n}@example.org`;
      out.push(i % 2 === 0 ? `Person.${n}@Example.ORG` : ` person.${n}@EXAMPLE.org `);
      if (!truth.has(canonical)) truth.set(canonical, out.length);
    }
    return { text: `${out.join('\n')}\n`, truth };
  }

  test.each([
    ['read on this thread', 3_000],
    ['read in the reader worker (over 4 MiB)', 200_000],
  ])('plain lines, %s: each result’s first line, as the truth and as traceResults finds it', async (_where, rows) => {
    const { text, truth } = messyLines(rows);
    const path = join(dir, `lines-${rows}.txt`);
    writeFileSync(path, text);
    if (rows > 100_000) expect(Buffer.byteLength(text)).toBeGreaterThan(4 * 1024 * 1024);
    const input = await readIndicatorFile(path, { kind: 'email' });
    expect(input.identified).toBe(false);
    const results = [...truth.keys()].filter((_, i) => i % 3 === 0).map((value) => ({ kind: 'email', value }));
    const reading = sourcesOfReading(input, results);
    expect(reading?.found).toBe(results.length);
    expect(reading?.missingCount).toBe(0);
    expect([...(reading?.lines ?? [])]).toEqual(results.map(({ value }) => truth.get(value)));
    const traced = await traceResults(path, results, { kind: 'email' });
    expect([...(reading?.lines ?? [])]).toEqual(
      results.map(({ value }) => traced.sources.get('email')?.get(value)?.line),
    );
  });

  test('records with ids or labels: undefined (only a second read finds them); a result the reading lacks is missing', async () => {
    const { text } = messyCsv(50);
    const csv = join(dir, 'identified.csv');
    writeFileSync(csv, text);
    const identified = await readIndicatorFile(csv);
    expect(identified.identified).toBe(true);
    expect(sourcesOfReading(identified, [{ kind: 'email', value: 'user.1@example.com' }])).toBeUndefined();

    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, 'kind,value\nemail,a@example.com\nemail,b@example.com\n');
    const input = await readIndicatorFile(plain);
    expect(input.identified).toBe(false);
    const reading = sourcesOfReading(input, [
      { kind: 'email', value: 'b@example.com' },
      { kind: 'email', value: 'gone@example.com' },
      { kind: 'ip', value: '192.0.2.1' },
      { kind: 'email', value: 'b@example.com' },
    ]);
    expect([...(reading?.lines ?? [])]).toEqual([3, 0, 0, 3]); // a result listed twice: its line twice
    expect(reading?.found).toBe(2);
    expect(reading?.missingCount).toBe(2);
    expect(reading?.missing).toEqual([
      { kind: 'email', value: 'gone@example.com' },
      { kind: 'ip', value: '192.0.2.1' },
    ]);
  });
});
