/**
 * Choosing a file's import format (spec/indicators.md §3): an explicit format wins, then the
 * extension, then the content — and the content rules never turn a structured file into plain
 * lines (where every record would be rejected and the lab would join with an empty set), nor a
 * binary file into anything.
 */
import { describe, expect, test } from 'vitest';
import {
  assertTextFile,
  chooseImportFormat,
  emptySummary,
  FORMAT_SNIFF_BYTES,
  formatOfContent,
  formatOfExtension,
  IMPORT_FORMATS,
  isErrorRecord,
  normalizeRecords,
  notTextReason,
  readRecords,
} from '../src/index.js';

const encode = (text: string) => new TextEncoder().encode(text);

async function* source(text: string): AsyncGenerator<Uint8Array> {
  yield encode(text);
}

describe('from the content, when the extension names no format', () => {
  test.each([
    ['a CSV header', 'kind,value\nemail,a@b.example\n', 'csv'],
    ['a CSV header in another case, spaced, quoted, after blank lines', '\r\n\n "Value" , KIND\r\nx,email\r\n', 'csv'],
    ['a CSV header with a byte-order mark', '\uFEFFvalue,kind,label\nx,email,y\n', 'csv'],
    ['a one-column CSV header', 'value\na@b.example\n', 'csv'],
    ['a CSV header with a misspelt column (the importer then names it)', 'kind,vaule\nemail,x\n', 'csv'],
    ['a tab-separated header', 'kind\tvalue\nemail\ta@b.example\n', 'tsv'],
    ['a JSON object per line', '{"kind":"email","value":"a@b.example"}\n', 'jsonl'],
    ['JSON lines whose first line is broken', '{"kind":"email",\n{"kind":"ip","value":"192.0.2.1"}\n', 'jsonl'],
    ['a STIX bundle on one line', '{"type":"bundle","id":"bundle--1","objects":[]}', 'stix'],
    ['a pretty-printed STIX bundle', '{\n  "type": "bundle",\n  "objects": []\n}\n', 'stix'],
    ['a chat-completions request', '{"model":"m","messages":[{"role":"user","content":"hi"}]}\n', 'chat'],
    ['a request with no messages yet', '{"messages":[]}\n', 'chat'],
    [
      'a Batch API request line',
      '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}\n',
      'chat',
    ],
    ['chat lines whose first line is broken', '{"messages":[\n{"messages":[{"role":"user","content":"hi"}]}\n', 'chat'],
    ['a JSONL record that also has messages', '{"value":"x","messages":[]}\n', 'jsonl'],
    ['an object whose messages is no array', '{"messages":"hi"}\n', 'jsonl'],
    ['an object whose body holds no messages array', '{"body":{"messages":{}}}\n', 'jsonl'],
    ['plain e-mails', 'a@b.example\nc@d.example\n', 'lines'],
    ['plain domains with commas in URLs', 'https://x.example/a,b\n', 'lines'],
    ['phone numbers', '+1 415 555 2671\n', 'lines'],
    ['one word that is no column name', 'AS64500\n', 'lines'],
    ['two words, neither a column', 'alice,bob\n', 'lines'],
    ['an empty file', '', 'lines'],
    ['only blank lines', '\n \r\n\t\n', 'lines'],
  ])('%s → %s', (_label, text, format) => {
    expect(formatOfContent(encode(text)).format).toBe(format);
    expect(chooseImportFormat('suspects.txt', encode(text))).toMatchObject({ format, from: 'content' });
  });

  test('the reason names what was seen', () => {
    expect(formatOfContent(encode('Kind,Value\n')).reason).toBe('the first line is a CSV header (kind, value)');
    expect(formatOfContent(encode('{"value":"x"}\n')).reason).toBe('the first line is a JSON object');
    expect(formatOfContent(encode('{"messages":[]}\n')).reason).toBe(
      'the first line is a chat-completions request with a "messages" array',
    );
    expect(formatOfContent(encode('{"url":"/v1/chat/completions","body":{"messages":[]}}')).reason).toBe(
      'the first line is a Batch API request line with a "messages" array in "body"',
    );
    expect(formatOfContent(encode('{\n{"messages":[]}\n')).reason).toBe(
      'the second line is a chat-completions request with a "messages" array',
    );
  });

  describe('a chat request longer than the head: its first line cut short', () => {
    // What a reader hands over: the first FORMAT_SNIFF_BYTES of a file whose first line is longer.
    const cut = (line: string) => encode(line).subarray(0, FORMAT_SNIFF_BYTES);
    const long = 'x'.repeat(FORMAT_SNIFF_BYTES);
    const tools = `"tools":[{"type":"function","function":{"name":"f","description":"a \\"quoted\\" word, {not} [json]","parameters":{"type":"object"}}}]`;

    test.each([
      [
        'a request',
        `{"model":"m",${tools},"temperature":0.5,"stream":true,"n":null,"messages":[{"role":"user","content":"${long}"}]}`,
        'chat',
        'the first line, cut short or not JSON by itself, starts a chat-completions request with a "messages" array',
      ],
      ['a request cut in its messages', `{"messages":[{"role":"system","content":"${long}`, 'chat', undefined],
      [
        'a Batch API line',
        `{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"m",${tools},"messages":[{"role":"user","content":"${long}"}]}}`,
        'chat',
        'the first line, cut short or not JSON by itself, starts a Batch API request line with a "messages" array in "body"',
      ],
      ['a JSONL record whose value comes first', `{"value":"${long}","messages":[]}`, 'stix', undefined],
      [
        'a record with value before messages',
        `{"kind":"prompt_template","value":"v","messages":["${long}"]}`,
        'stix',
        undefined,
      ],
      ['messages deeper than the body', `{"x":{"messages":["${long}"]}}`, 'stix', undefined],
      ['messages that is no array', `{"messages":"${long}"}`, 'stix', undefined],
      ['a cut inside a key before messages', `{"${long}":1,"messages":[]}`, 'stix', undefined],
    ])('%s → %s', (_label, line, format, reason) => {
      const choice = formatOfContent(cut(line));
      expect(choice.format).toBe(format);
      if (reason !== undefined) expect(choice.reason).toBe(reason);
    });
  });

  test.each([
    ['a JSON array', '[{"kind":"email","value":"a@b.example"}]', 'JSON array'],
    ['a JSON array over lines', '[\n  {"kind":"email"}\n]', 'JSON array'],
    [
      'a semicolon-separated header',
      '\nkind;value\nemail;a@b.example\n',
      'line 2: the header is separated by semicolons',
    ],
  ])('%s is an error, not plain lines', (_label, text, message) => {
    expect(() => formatOfContent(encode(text))).toThrow(expect.objectContaining({ code: 'BAD_FILE' }));
    expect(() => formatOfContent(encode(text))).toThrow(message);
  });

  test('every detected format reads the file it was detected from without a rejected record', async () => {
    const files: Record<string, string> = {
      csv: 'kind,value\nemail,a@b.example\n',
      tsv: 'kind\tvalue\nemail\ta@b.example\n',
      jsonl: '{"kind":"email","value":"a@b.example"}\n',
      stix: JSON.stringify({
        type: 'bundle',
        id: 'bundle--1',
        objects: [
          {
            type: 'indicator',
            id: 'indicator--1',
            pattern_type: 'stix',
            pattern: "[email-addr:value = 'a@b.example']",
          },
        ],
      }),
      lines: 'a@b.example\n',
      chat: '{"messages":[{"role":"user","content":"Grade the answer below"}]}\n',
    };
    for (const [expected, text] of Object.entries(files)) {
      const { format } = chooseImportFormat('in', encode(text));
      expect(format).toBe(expected);
      const summary = emptySummary();
      const out = [];
      for await (const r of normalizeRecords(readRecords(format, source(text)), { kind: 'email' }, summary))
        out.push(r);
      expect(out.filter(isErrorRecord)).toEqual([]);
      // A chat record names its own kind: a prompt.
      expect(out).toMatchObject([{ kind: format === 'chat' ? 'prompt_template' : 'email' }]);
      if (format !== 'chat') expect(out).toMatchObject([{ value: 'a@b.example' }]);
    }
  });
});

describe('what decides', () => {
  test('an explicit format wins over the extension and the content', () => {
    expect(chooseImportFormat('x.csv', encode('{"value":"x"}\n'), 'lines')).toEqual({
      format: 'lines',
      from: 'option',
      reason: 'as asked',
    });
    expect(() => chooseImportFormat('x', encode(''), 'xlsx')).toThrow(expect.objectContaining({ code: 'BAD_FILE' }));
  });

  test('an extension that names a format wins over the content', () => {
    expect(chooseImportFormat('S.CSV', encode('a@b.example\n'))).toEqual({
      format: 'csv',
      from: 'extension',
      reason: 'the file name ends in .csv',
    });
    expect(formatOfExtension('x.ndjson')).toBe('jsonl');
    expect(formatOfExtension('x.json')).toBe('stix');
  });

  test('chat has no extension: under .jsonl or .ndjson a chat log is told from JSONL records by its content', () => {
    const chat = encode('{"messages":[{"role":"user","content":"hi"}]}\n');
    expect(chooseImportFormat('requests.jsonl', chat)).toEqual({
      format: 'chat',
      from: 'content',
      reason: 'the file name ends in .jsonl, and the first line is a chat-completions request with a "messages" array',
    });
    const batch = encode('{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}\n');
    expect(chooseImportFormat('batch.NDJSON', batch)).toMatchObject({ format: 'chat', from: 'content' });
    expect(chooseImportFormat('requests.log', chat)).toMatchObject({ format: 'chat', from: 'content' });
    // JSONL records (a value), even with a messages field, stay JSONL, from the extension.
    expect(chooseImportFormat('x.jsonl', encode('{"value":"x","messages":[]}\n'))).toMatchObject({
      format: 'jsonl',
      from: 'extension',
    });
    expect(chooseImportFormat('x.jsonl', encode('[1]\n'))).toMatchObject({ format: 'jsonl', from: 'extension' });
    // The option wins either way; .json is STIX, whatever it holds.
    expect(chooseImportFormat('requests.jsonl', chat, 'jsonl')).toMatchObject({ format: 'jsonl', from: 'option' });
    expect(chooseImportFormat('x.jsonl', encode('{"value":"x"}\n'), 'chat')).toMatchObject({ format: 'chat' });
    expect(chooseImportFormat('requests.json', chat)).toMatchObject({ format: 'stix', from: 'extension' });
    expect(formatOfExtension('requests.jsonl')).toBe('jsonl');
  });

  test.each(['suspects.txt', 'suspects.tsv', 'suspects', 'suspects.xlsx', 'suspects.csv.bak', '-'])(
    '%s names no format: the content decides',
    (path) => {
      expect(formatOfExtension(path)).toBeUndefined();
      expect(chooseImportFormat(path, encode('kind,value\n')).from).toBe('content');
    },
  );

  test('tsv is a format of its own name', () => {
    expect(IMPORT_FORMATS).toContain('tsv');
  });
});

describe('files that are not text', () => {
  const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]);
  const ole = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
  const utf16 = Uint8Array.from([0xff, 0xfe, ...[...'kind,value'].flatMap((c) => [c.charCodeAt(0), 0])]);
  const utf16NoBom = Uint8Array.from([...'kind,value'].flatMap((c) => [c.charCodeAt(0), 0]));

  test.each([
    ['an .xlsx workbook', zip, 'ZIP archive (an .xlsx'],
    ['an .xls workbook', ole, 'OLE compound file (an .xls workbook?)'],
    ['UTF-16 with a byte-order mark', utf16, 'UTF-16 text'],
    ['UTF-16 without one', utf16NoBom, 'NUL byte at byte 1'],
    ['gzip', Uint8Array.from([0x1f, 0x8b, 8, 0]), 'gzip'],
    ['a PDF', encode('%PDF-1.7\n'), 'PDF'],
    ['an SQLite database', Uint8Array.from([...encode('SQLite format 3'), 0, 16]), 'SQLite'],
  ])('%s is refused, with the file named, whatever format was asked', (_label, head, looksLike) => {
    for (const [path, format] of [
      ['suspects.xlsx', undefined],
      ['suspects.csv', undefined],
      ['suspects', 'lines'],
    ] as const) {
      let error: unknown;
      try {
        chooseImportFormat(path, head, format);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'IndicatorError', code: 'BAD_FILE', details: { file: path } });
      expect((error as Error).message).toMatch(new RegExp(`^${path.replace('.', '\\.')} is not a text file: `));
      expect((error as Error).message).toContain(looksLike);
    }
  });

  test('the message for a workbook says what to do', () => {
    expect(() => assertTextFile(zip, 'suspects.xlsx')).toThrow(
      'suspects.xlsx is not a text file: it starts like a ZIP archive (an .xlsx or .ods workbook?); export it as CSV, UTF-8',
    );
    expect(() => assertTextFile(zip)).toThrow(/^the input is not a text file/);
  });

  test('text, including UTF-8 that starts with a byte-order mark or non-ASCII, is text', () => {
    for (const text of ['', 'kind,value\n', '\uFEFFzoë@bücher.example\n', 'PK is a fine value\n', '€']) {
      expect(notTextReason(encode(text))).toBeUndefined();
    }
  });
});
