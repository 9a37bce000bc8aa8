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
    };
    for (const [expected, text] of Object.entries(files)) {
      const { format } = chooseImportFormat('in', encode(text));
      expect(format).toBe(expected);
      const summary = emptySummary();
      const out = [];
      for await (const r of normalizeRecords(readRecords(format, source(text)), { kind: 'email' }, summary))
        out.push(r);
      expect(out.filter(isErrorRecord)).toEqual([]);
      expect(out).toMatchObject([{ kind: 'email', value: 'a@b.example' }]);
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
