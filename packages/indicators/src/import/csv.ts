/**
 * CSV import (RFC 4180, through csv-parse, streaming): a header row naming the columns — `value`,
 * and optionally `kind`, `region`, `first_seen`, `confidence`, `label`, in any order and case —
 * then one record per row. A header with an unknown or repeated column is a `BAD_FILE` error (a
 * typo such as `vaule` must not silently empty a column); a row with the wrong number of fields is
 * an error record for that line; an unclosed quote ends the file with a `BAD_FILE` error. Line
 * numbers are where a record starts; empty lines are not records.
 */
import { pipeline, Readable } from 'node:stream';
import { type Options, parse } from 'csv-parse';
import { IndicatorError } from '../errors.js';
import { trimWhiteSpace } from '../text.js';
import { fieldsToRecord } from './jsonl.js';
import { utf8Strings } from './lines.js';
import type { RawRecord, TextSource } from './record.js';

const COLUMNS = new Set(['kind', 'value', 'region', 'first_seen', 'confidence', 'label']);

export async function* readCsv(source: TextSource): AsyncGenerator<RawRecord> {
  // Empty lines are kept so line numbers stay exact; a quote inside an unquoted field is kept as
  // text (the record then fails canonicalization on its own), only an unclosed quote ends the file.
  const options: Options = {
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    info: true,
    raw: true,
    record_delimiter: ['\r\n', '\n'],
  };
  const parser = parse(options);
  // pipeline() handles backpressure and ends or destroys the parser; errors surface in the loop.
  pipeline(Readable.from(utf8Strings(source)), parser, () => {});
  let header: string[] | undefined;
  let nextLine = 1;
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      // Where the record starts; it spans one line plus one per line break inside quoted fields.
      const line = nextLine;
      nextLine += countLineBreaks(raw.endsWith('\n') ? raw.slice(0, -1) : raw) + 1;
      if (record.length === 1 && record[0] === '') continue; // an empty line is not a record
      if (header === undefined) {
        header = checkHeader(record, line);
        continue;
      }
      if (record.length !== header.length) {
        yield {
          line,
          error: {
            code: 'BAD_RECORD',
            message: `line ${line} has ${record.length} fields; the header has ${header.length}`,
          },
        };
        continue;
      }
      const fields: Record<string, unknown> = {};
      header.forEach((column, i) => {
        const cell = record[i] as string;
        if (cell === '' && column !== 'value') return; // an empty optional cell is an absent field
        fields[column] = column === 'confidence' ? toNumber(cell) : cell;
      });
      yield fieldsToRecord(line, fields);
    }
  } catch (cause) {
    if (cause instanceof IndicatorError) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new IndicatorError('BAD_FILE', `not readable as CSV: ${detail}`, { cause });
  }
  if (header === undefined) throw new IndicatorError('BAD_FILE', 'the CSV file is empty: it needs a header row');
}

function checkHeader(record: string[], line: number): string[] {
  const header = record.map((name) => trimWhiteSpace(name).toLowerCase());
  const unknown = header.filter((name) => !COLUMNS.has(name));
  const repeated = header.filter((name, i) => header.indexOf(name) !== i);
  if (unknown.length > 0 || repeated.length > 0 || !header.includes('value')) {
    const problems = [
      unknown.length > 0 ? `unknown column(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}` : '',
      repeated.length > 0 ? `repeated column(s) ${repeated.join(', ')}` : '',
      header.includes('value') ? '' : 'no "value" column',
    ].filter(Boolean);
    throw new IndicatorError(
      'BAD_FILE',
      `CSV header on line ${line}: ${problems.join('; ')} (columns: ${[...COLUMNS].join(', ')})`,
    );
  }
  return header;
}

/** A plain decimal integer becomes a number (checked 0–100 later); anything else stays text and fails. */
function toNumber(cell: string): unknown {
  return /^\s*[0-9]{1,3}\s*$/.test(cell) ? Number(cell) : cell;
}

function countLineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
