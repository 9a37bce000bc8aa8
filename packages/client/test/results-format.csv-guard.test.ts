/**
 * The CSV formula guard (formatResults' `csvGuard`): by default (`formulas`) no cell a spreadsheet
 * would run as a formula is written as it is, while plain signed integers — canonical phone
 * numbers among them, which a SIEM joins on — are; `none` writes every cell as it is. JSON lines
 * and STIX are never guarded. Cells are read back with an RFC 4180 reader written here.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CSV_GUARDS, type CsvGuard, csvField, formatResults, type SessionResults } from '../src/index.js';

/** One RFC 4180 field as written by csvField, read back: quoted fields unquoted, "" → ". */
function readField(field: string): string {
  if (!field.startsWith('"')) {
    expect(field).not.toMatch(/[",\r\n]/);
    return field;
  }
  expect(field.endsWith('"')).toBe(true);
  const inner = field.slice(1, -1);
  expect(inner.replaceAll('""', '')).not.toContain('"');
  return inner.replaceAll('""', '"');
}

/** A cell that Excel, LibreOffice or Google Sheets evaluates as a formula (OWASP "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

describe('formulas (the default)', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['=HYPERLINK("http://evil.example","x")', '"\'=HYPERLINK(""http://evil.example"",""x"")"'],
    ["+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"],
    ['-2+3', "'-2+3"],
    ['+1 555 0100', "'+1 555 0100"],
    ['+1.5', "'+1.5"],
    ['-1e5', "'-1e5"],
    ['+', "'+"],
    ['-', "'-"],
    ['+\u0661\u0662', "'+\u0661\u0662"], // Arabic-Indic digits are not ASCII digits
    ['+123\n=1', '"\'+123\n=1"'], // a second line does not make it a number
    ['+123 ', "'+123 "],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', '"\'\r=1"'],
  ])('%j is guarded: %j', (text, cell) => {
    expect(csvField(text)).toBe(cell);
    expect(csvField(text, 'formulas')).toBe(cell);
  });

  test.each([
    ['+15551234567'],
    ['+14155552671'],
    ['-42'],
    ['+0'],
    ['12345'],
    ['a=1'],
    ["'=already text"],
    ['user@example.com'],
  ])('%j is written as it is', (text) => {
    expect(csvField(text)).toBe(text);
  });

  test('property: no cell read back starts a formula, except a plain signed integer; nothing else changes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r'), fc.string()).map(([a, b]) => a + b),
          fc.tuple(fc.constantFrom('+', '-'), fc.stringMatching(/^[0-9]{1,15}$/)).map(([a, b]) => a + b),
        ),
        (text) => {
          const cell = readField(csvField(text, 'formulas'));
          expect([text, `'${text}`]).toContain(cell);
          if (FORMULA_START.test(cell)) expect(cell).toMatch(/^[+-][0-9]+$/);
          if (/^[+-][0-9]+$/.test(text)) expect(cell).toBe(text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('none', () => {
  test('property: every cell reads back exactly as it was', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(readField(csvField(text, 'none'))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  test.each(['=1+1', '+15551234567', '@x', '\t=1'])('%j is not guarded', (text) => {
    expect(readField(csvField(text, 'none'))).toBe(text);
  });
});

describe('formatResults', () => {
  const doc: SessionResults = {
    session: '0123456789abcdef0123456789abcdef',
    lab: 'lab-a',
    relay: 'overlap-relay/0123abcd',
    finished: '2025-03-01T12:00:00Z',
    policy: { kind: 'labs' },
    results: [
      { kind: 'phone', value: '+15551234567', labs: ['=cmd|"/c calc"!A1'] },
      { kind: 'account', value: 'x:-2+3', labs: ['lab-b'] },
    ],
  };

  test('CSV guards by default, and not with none', () => {
    expect(formatResults(doc, 'csv')).toBe(
      'kind,value,labs,count\r\naccount,x:-2+3,lab-b,\r\nphone,+15551234567,"\'=cmd|""/c calc""!A1",\r\n',
    );
    expect(formatResults(doc, 'csv', { csvGuard: 'none' })).toBe(
      'kind,value,labs,count\r\naccount,x:-2+3,lab-b,\r\nphone,+15551234567,"=cmd|""/c calc""!A1",\r\n',
    );
  });

  test('JSON lines and STIX are the same bytes whatever the guard', () => {
    for (const format of ['jsonl', 'stix'] as const) {
      const outputs = CSV_GUARDS.map((csvGuard: CsvGuard) => formatResults(doc, format, { csvGuard }));
      expect(new Set(outputs).size).toBe(1);
      expect(outputs[0]).toContain('=cmd|');
      expect(outputs[0]).not.toContain("'=cmd");
    }
  });

  test('an unknown guard is a BAD_ARGUMENT naming it', () => {
    expect(() => formatResults(doc, 'csv', { csvGuard: 'excel' as CsvGuard })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('"excel"') }),
    );
  });
});
