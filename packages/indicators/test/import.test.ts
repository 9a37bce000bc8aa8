import { describe, expect, test } from 'vitest';
import {
  emptySummary,
  MAX_CONTEXT_BYTES,
  MAX_LINE_LENGTH,
  type NormalizedRecord,
  normalizeRecords,
  parseStixPattern,
  type RawRecord,
  readCsv,
  readJsonl,
  readPlainLines,
  readStix,
} from '../src/index.js';

/** A text source delivered in small chunks, so record boundaries fall inside chunks. */
async function* chunks(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of records) out.push(r);
  return out;
}

describe('plain lines', () => {
  test('numbers lines from 1, keeps blank lines out of the records, handles CRLF, BOM and UTF-8 split across chunks', async () => {
    const records = await collect(readPlainLines(chunks('\uFEFFa@b.example\r\n\r\nc@d.example\nGrüße@e.example', 3)));
    expect(records).toEqual([
      { line: 1, kind: undefined, value: 'a@b.example' },
      { line: 3, kind: undefined, value: 'c@d.example' },
      { line: 4, kind: undefined, value: 'Grüße@e.example' },
    ]);
  });
});

describe('CSV', () => {
  test('reads the header in any order and case, quoted fields, empty optional cells and confidence', async () => {
    const csv = 'Value,KIND,confidence,label\n"a,b@x.example",email,80,"two\nlines"\r\n192.0.2.1,ip,,\n\n';
    expect(await collect(readCsv(chunks(csv)))).toEqual([
      { line: 2, kind: 'email', value: 'a,b@x.example', confidence: 80, label: 'two\nlines' },
      { line: 4, kind: 'ip', value: '192.0.2.1' },
    ]);
  });

  test('a row with the wrong number of fields is an error record for its line; reading goes on', async () => {
    const records = await collect(readCsv(chunks('kind,value\nemail,a@b.example,extra\nip,192.0.2.1\n')));
    expect(records[0]).toMatchObject({ line: 2, error: { code: 'BAD_RECORD' } });
    expect(records[1]).toMatchObject({ line: 3, kind: 'ip', value: '192.0.2.1' });
  });

  test.each([
    ['an unknown column', 'kind,vaule\nemail,x\n', 'unknown column(s) "vaule"'],
    ['a repeated column', 'value,value\nx,y\n', 'repeated column(s) value'],
    ['no value column', 'kind,label\nemail,x\n', 'no "value" column'],
    ['an empty file', '', 'empty'],
    [
      'an unclosed quote',
      'kind,value\nemail,"a@b.example\n',
      'line 2: a quoted field opened in this record is never closed',
    ],
  ])('%s is a BAD_FILE error', async (_label, csv, message) => {
    await expect(collect(readCsv(chunks(csv)))).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: expect.stringContaining(message),
    });
  });

  test("a stray quote inside an unquoted field is that record's problem; the file goes on (no hang)", async () => {
    // Big enough that the parser applies backpressure before it meets the quote.
    const rows = Array.from({ length: 20_000 }, (_, i) => `u${i}@x.example,email`).join('\n');
    const csv = `value,kind\n${rows}\nb"c@x.example,email\nd@x.example,email\n`;
    const records = await collect(readCsv(chunks(csv, 65536)));
    expect(records).toHaveLength(20_002);
    expect(records[20_000]).toEqual({ line: 20_002, kind: 'email', value: 'b"c@x.example' });
    expect(records[20_001]).toEqual({ line: 20_003, kind: 'email', value: 'd@x.example' });
  });

  test('line numbers stay exact after a quoted field with CRLF line breaks inside', async () => {
    const records = await collect(readCsv(chunks('value,kind\r\n"a\r\nb",email\r\nc@x.com,email\r\n')));
    expect(records.map((r) => r.line)).toEqual([2, 4]);
  });

  test('invalid UTF-8 is a BAD_FILE error, never silently replaced', async () => {
    const bytes = Uint8Array.from([
      ...new TextEncoder().encode('value\na'),
      0xff,
      ...new TextEncoder().encode('@x.com\n'),
    ]);
    async function* source() {
      yield bytes;
    }
    await expect(collect(readCsv(source()))).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: expect.stringContaining('UTF-8'),
    });
    await expect(collect(readPlainLines(source()))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });

  test('a confidence that is not a number between 0 and 100 is a BAD_RECORD', async () => {
    const records = await collect(readCsv(chunks('value,confidence\nx,high\ny,101\nz,0x10\nw,1e1\n')));
    expect(records.map((r) => ('error' in r ? r.error.code : 'ok'))).toEqual([
      'BAD_RECORD',
      'BAD_RECORD',
      'BAD_RECORD',
      'BAD_RECORD',
    ]);
  });
});

describe('plain lines, limits', () => {
  test('a line longer than the limit is a BAD_FILE error naming it', async () => {
    await expect(
      collect(readPlainLines(chunks(`ok\n${'x'.repeat(MAX_LINE_LENGTH + 10)}\n`, 1 << 16))),
    ).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: expect.stringContaining('line 2'),
    });
  });
});

describe('JSONL', () => {
  test('empty optional fields are absent, so defaults apply', async () => {
    const records = await collect(readJsonl(chunks('{"kind":"","value":"x","region":""}\n')));
    expect(records).toEqual([{ line: 1, kind: undefined, value: 'x' }]);
  });

  test('reads records and reports each bad line with its number and reason', async () => {
    const jsonl = [
      '{"kind":"email","value":"a@b.example","region":"US"}',
      '',
      'not json',
      '[1,2]',
      '{"kind":"email"}',
      '{"value":"x","colour":"red"}',
      '{"value":"x","confidence":500}',
    ].join('\n');
    const records = await collect(readJsonl(chunks(jsonl)));
    expect(records[0]).toEqual({ line: 1, kind: 'email', value: 'a@b.example', region: 'US' });
    expect(records.slice(1).map((r) => ['error' in r && r.error.code, r.line])).toEqual([
      ['BAD_RECORD', 3],
      ['BAD_RECORD', 4],
      ['MISSING_FIELD', 5],
      ['BAD_RECORD', 6],
      ['BAD_RECORD', 7],
    ]);
    expect((records[4] as { error: { message: string } }).error.message).toContain('unknown field(s) colour');
  });
});

describe('JSONL context', () => {
  const context = (value: unknown) =>
    JSON.stringify({ kind: 'prompt_template', value: 'p', id: 'req-17', context: value });
  const first = async (line: string) => (await collect(readJsonl(chunks(line))))[0];

  test('an object of the lab’s own fields is accepted and not carried on the record', async () => {
    const line =
      '{"kind":"prompt_template","value":"Grade this","id":"req-17","context":{"account":"u-9","model":"m","at":1,"tags":["a"],"n":{"x":null}}}';
    expect(await first(line)).toEqual({ line: 1, kind: 'prompt_template', value: 'Grade this', id: 'req-17' });
    expect(await first(context({}))).toEqual({ line: 1, kind: 'prompt_template', value: 'p', id: 'req-17' });
  });

  test('an empty string is an absent field, as for the other optional fields', async () => {
    expect(await first(context(''))).toEqual({ line: 1, kind: 'prompt_template', value: 'p', id: 'req-17' });
  });

  test.each([
    ['an array', ['u-9']],
    ['null', null],
    ['a string', 'u-9'],
    ['a number', 9],
    ['a boolean', true],
  ])('%s is BAD_RECORD naming the field, keeping the id', async (_label, value) => {
    expect(await first(context(value))).toEqual({
      line: 1,
      id: 'req-17',
      error: { code: 'BAD_RECORD', message: 'line 1: context: must be a JSON object' },
    });
  });

  test('at most 4096 bytes as JSON.stringify writes it (UTF-8); over is BAD_RECORD naming the bound', async () => {
    expect(MAX_CONTEXT_BYTES).toBe(4096);
    // {"a":"…"} is 8 bytes around the string.
    expect(await first(context({ a: 'x'.repeat(4088) }))).toMatchObject({ value: 'p' });
    expect(await first(context({ a: 'x'.repeat(4089) }))).toEqual({
      line: 1,
      id: 'req-17',
      error: { code: 'BAD_RECORD', message: 'line 1: context: must be at most 4096 bytes as JSON (is 4097)' },
    });
    // Bytes, not characters: 2045 × é is 4090 bytes in 2045 characters.
    expect(await first(context({ a: 'é'.repeat(2044) }))).toMatchObject({ value: 'p' });
    expect(await first(context({ a: 'é'.repeat(2045) }))).toMatchObject({
      error: { code: 'BAD_RECORD', message: expect.stringContaining('(is 4098)') },
    });
    // White space in the line does not count: the bound is on JSON.stringify's output.
    const spaced = `{"value":"p","context":{ "a" :   "${'x'.repeat(4088)}"   }}`;
    expect(await first(spaced)).toMatchObject({ value: 'p' });
  });

  test('a context nested too deeply to write is BAD_RECORD, not a crash', async () => {
    // Arrays inside the object: 2 characters a level, 400,000 levels within one line's bound.
    const depth = 400_000;
    const line = `{"value":"p","context":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const [record] = await collect(readJsonl(chunks(line, 65536)));
    expect(record).toEqual({
      line: 1,
      error: {
        code: 'BAD_RECORD',
        message: 'line 1: context: must be at most 4096 bytes as JSON (is nested too deeply to write)',
      },
    });
  });

  test('other problems are named beside it; context is no CSV column', async () => {
    const record = await first('{"value":"p","context":[],"colour":"red"}');
    expect(record).toMatchObject({ error: { code: 'BAD_RECORD' } });
    expect((record as { error: { message: string } }).error.message).toContain('unknown field(s) colour');
    await expect(collect(readCsv(chunks('value,context\np,x\n')))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });

  test('a chat-completions request read as JSONL says which format reads it', async () => {
    const record = await first('{"model":"m","messages":[{"role":"user","content":"hi"}]}');
    expect(record).toMatchObject({
      error: {
        code: 'MISSING_FIELD',
        message: 'line 1 has no "value" (a chat-completions request? read the file in the chat format)',
      },
    });
    expect(await first('{"kind":"email"}')).toMatchObject({ error: { message: 'line 1 has no "value"' } });
  });
});

describe('STIX 2.1 patterns', () => {
  test.each([
    ["[email-addr:value = 'a@b.example']", [['email-addr', 'a@b.example']]],
    [
      "[ipv4-addr:value='198.51.100.0/24' OR ipv6-addr:value = '2001:db8::1']",
      [
        ['ipv4-addr', '198.51.100.0/24'],
        ['ipv6-addr', '2001:db8::1'],
      ],
    ],
    [
      "[domain-name:value = 'x.example'] OR [url:value = 'http://x.example/it\\'s']",
      [
        ['domain-name', 'x.example'],
        ['url', "http://x.example/it's"],
      ],
    ],
  ])('%s', (pattern, expected) => {
    expect(parseStixPattern(pattern).map((v) => [v.objectType, v.value])).toEqual(expected);
  });

  test.each([
    ["[email-addr:value = 'a@b.example' AND email-addr:value = 'c@d.example']"],
    ["[email-addr:value != 'a@b.example']"],
    ["[file:hashes.MD5 = 'abc']"],
    ["[email-addr:value = 'a@b.example'] WITHIN 5 SECONDS"],
    ["[email-addr:value = 'a@b.example'"],
    ["[email-addr:value = 'unterminated]"],
    ["[email-addr:value = 'bad \\n escape']"],
  ])('%s is UNSUPPORTED_STIX', (pattern) => {
    expect(() => parseStixPattern(pattern)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_STIX' }));
  });
});

describe('STIX 2.1 bundles', () => {
  const bundle = {
    type: 'bundle',
    id: 'bundle--1',
    objects: [
      { type: 'identity', id: 'identity--1', name: 'Lab A' },
      {
        type: 'indicator',
        id: 'indicator--1',
        pattern_type: 'stix',
        pattern: "[email-addr:value = 'A@B.example']",
        valid_from: '2026-11-01T00:00:00Z',
      },
      {
        type: 'indicator',
        id: 'indicator--2',
        pattern_type: 'stix',
        pattern: "[ipv4-addr:value = '198.51.100.7/24'] OR [ipv4-addr:value = '192.0.2.1']",
      },
      { type: 'indicator', id: 'indicator--3', pattern_type: 'sigma', pattern: 'title: x' },
      {
        type: 'indicator',
        id: 'indicator--4',
        pattern_type: 'stix',
        pattern: "[email-addr:value = 'a' AND email-addr:value = 'b']",
      },
      {
        type: 'indicator',
        id: 'indicator--5',
        pattern_type: 'stix',
        pattern: "[email-addr:value = 'x@y.example']",
        revoked: true,
      },
      {
        type: 'indicator',
        id: 'indicator--6',
        pattern_type: 'stix',
        pattern: "[email-addr:value = 'x@y.example']",
        confidence: 1000,
      },
      { type: 'indicator', id: 'indicator--7', pattern_type: 'stix', pattern: "[ipv4-addr:value = '2001:db8::1']" },
    ],
  };

  test('one record per value with the indicator id; everything else reported with its id', async () => {
    const records = await collect(readStix(chunks(JSON.stringify(bundle), 50)));
    expect(records).toEqual([
      {
        line: 1,
        id: 'identity--1',
        error: { code: 'UNSUPPORTED_STIX', message: expect.stringContaining('identity object is not an indicator') },
      },
      { line: 2, id: 'indicator--1', kind: 'email', value: 'A@B.example', firstSeen: '2026-11-01T00:00:00Z' },
      { line: 3, id: 'indicator--2', kind: 'ip_prefix', value: '198.51.100.7/24' },
      { line: 3, id: 'indicator--2', kind: 'ip', value: '192.0.2.1' },
      { line: 4, id: 'indicator--3', error: { code: 'UNSUPPORTED_STIX', message: expect.stringContaining('sigma') } },
      {
        line: 5,
        id: 'indicator--4',
        error: { code: 'UNSUPPORTED_STIX', message: expect.stringContaining('indicator--4') },
      },
      { line: 6, id: 'indicator--5', error: { code: 'UNSUPPORTED_STIX', message: expect.stringContaining('revoked') } },
      { line: 7, id: 'indicator--6', error: { code: 'BAD_RECORD', message: expect.stringContaining('confidence') } },
      { line: 8, id: 'indicator--7', error: { code: 'BAD_RECORD', message: expect.stringContaining('ipv4-addr') } },
    ]);
  });

  test.each([
    ['not JSON', '{"type": "bundle", '],
    ['not a bundle', '{"type": "indicator"}'],
    ['no objects array', '{"type": "bundle", "objects": {}}'],
  ])('%s is BAD_FILE', async (_label, text) => {
    await expect(collect(readStix(chunks(text)))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });

  test('a bundle over the size limit is refused while reading', async () => {
    await expect(collect(readStix(chunks('x'.repeat(5000), 100), 1000))).rejects.toMatchObject({ code: 'BAD_FILE' });
  });
});

describe('normalizeRecords', () => {
  async function* raw(records: RawRecord[]) {
    yield* records;
  }

  test('one output per input in order, duplicates merged and counted, errors passed through, defaults applied', async () => {
    const summary = emptySummary();
    const out: NormalizedRecord[] = await collect(
      normalizeRecords(
        raw([
          { line: 1, kind: undefined, value: 'Someone@Example.com' },
          { line: 2, kind: 'email', value: 'someone+x@example.com' },
          { line: 3, error: { code: 'BAD_RECORD', message: 'bad' } },
          { line: 4, kind: 'phone', value: '(415) 555-2671' },
          { line: 5, kind: 'phone', value: '030 1234567', region: 'DE' },
          { line: 6, kind: 'nonsense', value: 'x' },
        ]),
        { kind: 'email', region: 'US' },
        summary,
      ),
    );
    expect(out).toEqual([
      { line: 1, kind: 'email', value: 'someone@example.com' },
      { line: 2, kind: 'email', value: 'someone@example.com', duplicateOf: 1 },
      { line: 3, error: { code: 'BAD_RECORD', message: 'bad' } },
      { line: 4, kind: 'phone', value: '+14155552671' },
      { line: 5, kind: 'phone', value: '+49301234567' },
      { line: 6, error: { code: 'UNKNOWN_KIND', message: expect.any(String) } },
    ]);
    expect(summary).toEqual({
      records: 6,
      accepted: 4,
      duplicates: 1,
      rejected: 2,
      rejectedBy: { BAD_RECORD: 1, UNKNOWN_KIND: 1 },
    });
  });

  test('a record with no kind and no default is MISSING_FIELD', async () => {
    const [out] = await collect(normalizeRecords(raw([{ line: 7, kind: undefined, value: 'x' }])));
    expect(out).toMatchObject({ line: 7, error: { code: 'MISSING_FIELD' } });
  });
});
