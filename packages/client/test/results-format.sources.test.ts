/**
 * Results written with where each came from in the lab's input (formatResults' `sources`, from
 * traceResults): CSV columns and JSON fields `line`, `id`, `label`, a STIX external reference; a
 * result without a source gets empty cells, and without `sources` the output is what it always was.
 * End to end, the line numbers written are those the test counted in the file it wrote.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  formatResults,
  type RecordSource,
  readIndicatorFile,
  type SessionResults,
  traceResults,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-results-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc: SessionResults = {
  session: '0123456789abcdef0123456789abcdef',
  lab: 'lab-a',
  relay: 'overlap-relay/0123abcd',
  finished: '2025-03-01T12:00:00Z',
  policy: { kind: 'count' },
  results: [
    { kind: 'email', value: 'a@b.example', count: 1 },
    { kind: 'ip', value: '192.0.2.1', count: 2 },
    { kind: 'phone', value: '+15551234567', count: 1 },
  ],
};

const sources = new Map<string, Map<string, RecordSource>>([
  ['email', new Map([['a@b.example', { line: 7, id: 'acct,7', label: '=danger' }]])],
  ['ip', new Map([['192.0.2.1', { line: 3 }]])],
]);

describe('with sources', () => {
  test('CSV: line, id and label columns, guarded and quoted like every cell; empty for a result without one', () => {
    expect(formatResults(doc, 'csv', { sources })).toBe(
      [
        'kind,value,labs,count,line,id,label',
        'email,a@b.example,,1,7,"acct,7",\'=danger',
        'ip,192.0.2.1,,2,3,,',
        'phone,+15551234567,,1,,,',
        '',
      ].join('\r\n'),
    );
    expect(formatResults(doc, 'csv', { sources, csvGuard: 'none' })).toContain('"acct,7",=danger');
  });

  test('JSON lines: the fields a source has', () => {
    expect(formatResults(doc, 'jsonl', { sources }).split('\n')).toEqual([
      '{"kind":"email","value":"a@b.example","count":1,"line":7,"id":"acct,7","label":"=danger"}',
      '{"kind":"ip","value":"192.0.2.1","count":2,"line":3}',
      '{"kind":"phone","value":"+15551234567","count":1}',
      '',
    ]);
  });

  test('STIX: an external reference on the indicators that have a source, none on the others', () => {
    const bundle = JSON.parse(formatResults(doc, 'stix', { sources })) as {
      objects: { type: string; name?: string; external_references?: unknown }[];
    };
    const indicators = bundle.objects.filter((o) => o.type === 'indicator');
    expect(indicators.map((o) => [o.name, o.external_references])).toEqual([
      [
        'email a@b.example',
        [
          {
            source_name: 'lab-a input',
            description: 'line 7 of the input of lab-a (=danger)',
            external_id: 'acct,7',
          },
        ],
      ],
      ['ip 192.0.2.1', [{ source_name: 'lab-a input', description: 'line 3 of the input of lab-a' }]],
      ['phone +15551234567', undefined],
    ]);
  });

  test('without sources, every format is what it was (no new columns or fields)', () => {
    expect(formatResults(doc, 'csv').split('\r\n')[0]).toBe('kind,value,labs,count');
    expect(formatResults(doc, 'jsonl')).not.toContain('"line"');
    expect(formatResults(doc, 'stix')).not.toContain('external_references');
    // Empty sources is not no sources: the columns are there, empty.
    expect(formatResults(doc, 'csv', { sources: new Map() }).split('\r\n')[1]).toBe('email,a@b.example,,1,,,');
  });
});

test('end to end: read, trace, write; the lines written are the lines counted here', async () => {
  const rows = ['id,kind,value,label'];
  const truth = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const value = `suspect${i % 150}@example.com`;
    rows.push(`case-${i},email,${i % 2 ? value.toUpperCase() : value},"note ${i}"`);
    if (!truth.has(value)) truth.set(value, rows.length); // 1-based line of the row just added
  }
  const path = join(dir, 'cases.txt'); // a CSV under .txt: read by content
  writeFileSync(path, `${rows.join('\n')}\n`);
  const input = await readIndicatorFile(path);
  const shared = (input.sets.email ?? []).filter((_, i) => i % 10 === 0);
  const results: SessionResults = {
    ...doc,
    policy: { kind: 'threshold', t: 2 },
    results: shared.map((value) => ({ kind: 'email', value })),
  };
  const trace = await traceResults(path, results.results, { format: input.format });
  const csv = formatResults(results, 'csv', { sources: trace.sources }).trim().split('\r\n');
  expect(csv[0]).toBe('kind,value,labs,count,line,id,label');
  const written = csv.slice(1).map((row) => row.split(','));
  expect(written).toHaveLength(shared.length);
  for (const [kind, value, , , line, id, label] of written) {
    const expected = truth.get(value as string) as number;
    expect([kind, line, id, label]).toEqual([
      'email',
      String(expected),
      `case-${expected - 2}`,
      `note ${expected - 2}`,
    ]);
  }
});
