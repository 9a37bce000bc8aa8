/**
 * CSV import (RFC 4180, through csv-parse, streaming): a header row naming the columns — `value`,
 * and optionally `kind`, `region`, `first_seen`, `confidence`, `label`, in any order and case —
 * then one record per row. A header with an unknown or repeated column is a `BAD_FILE` error (a
 * typo such as `vaule` must not silently empty a column); a row with the wrong number of fields is
 * an error record for that line; an unclosed quote ends the file with a `BAD_FILE` error. Line
 * numbers are where a record starts; empty lines are not records.
 */
import { type Options, parse } from 'csv-parse';
import { IndicatorError } from '../errors.js';
import { fieldsToRecord } from './jsonl.js';
import type { RawRecord, TextSource } from './record.js';

const COLUMNS = new Set(['kind', 'value', 'region', 'first_seen', 'confidence', 'label']);

export async function* readCsv(source: TextSource): AsyncGenerator<RawRecord> {
  // Empty lines are kept so every record's first line is the previous record's last line + 1.
  const options: Options = { bom: true, relax_column_count: true, info: true, record_delimiter: ['\r\n', '\n'] };
  const parser = parse(options);
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let header: string[] | undefined;
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = lastLine + 1; // where the record starts (a quoted field may span lines)
      lastLine = info.lines;
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
  } finally {
    await feeding;
  }
  if (header === undefined) throw new IndicatorError('BAD_FILE', 'the CSV file is empty: it needs a header row');
}

function checkHeader(record: string[], line: number): string[] {
  const header = record.map((name) => name.trim().toLowerCase());
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

function toNumber(cell: string): unknown {
  const n = Number(cell);
  return cell.trim() !== '' && Number.isFinite(n) ? n : cell;
}
