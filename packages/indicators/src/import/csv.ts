/**
 * CSV import (RFC 4180, through csv-parse, streaming): a header row naming the columns — `value`,
 * and optionally `kind`, `region`, `first_seen`, `confidence`, `label`, `id`, in any order and
 * case — then one record per row. Tab-separated files are read the same way with `delimiter: '\t'`
 * (the `tsv` format). A header with an unknown or repeated column is a `BAD_FILE` error (a typo
 * such as `vaule` must not silently empty a column); a row with the wrong number of fields is an
 * error record for that line; an unclosed quote ends the file with a `BAD_FILE` error. Line numbers
 * are where a record starts; empty lines are not records.
 */
import { pipeline, Readable } from 'node:stream';
import { CsvError, type Options, parse } from 'csv-parse';
import { trimWhiteSpace } from '../text.js';
import { badFile } from './file-error.js';
import { fieldsToRecord } from './jsonl.js';
import { utf8Strings } from './lines.js';
import type { RawRecord, TextSource } from './record.js';

/** The columns a header may name (`id` is the lab's own record id, carried to traced results). */
export const CSV_COLUMNS: readonly string[] = ['kind', 'value', 'region', 'first_seen', 'confidence', 'label', 'id'];
const COLUMNS = new Set(CSV_COLUMNS);

export interface CsvOptions {
  /** The field separator: `,` (the default) or a tab. */
  delimiter?: ',' | '\t';
}

export async function* readCsv(source: TextSource, csvOptions: CsvOptions = {}): AsyncGenerator<RawRecord> {
  const delimiter = csvOptions.delimiter ?? ',';
  // Empty lines are kept so line numbers stay exact; a quote inside an unquoted field is kept as
  // text (the record then fails canonicalization on its own), only an unclosed quote ends the file.
  const options: Options = {
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    info: true,
    raw: true,
    record_delimiter: ['\r\n', '\n'],
    delimiter,
  };
  const parser = parse(options);
  // pipeline() handles backpressure and ends or destroys the parser; errors surface in the loop.
  // Line breaks fed to the parser so far: an unclosed quote is found only at the end of the input,
  // after records already parsed may be dropped, so its line is counted back from the end.
  let lineBreaksFed = 0;
  const counted = async function* () {
    for await (const text of utf8Strings(source)) {
      lineBreaksFed += countLineBreaks(text);
      yield text;
    }
  };
  pipeline(Readable.from(counted()), parser, () => {});
  let header: string[] | undefined;
  let nextLine = 1;
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      // Where the record starts; it spans one line plus one per line break inside quoted fields.
      const line = nextLine;
      nextLine += countLineBreaks(raw.endsWith('\n') ? raw.slice(0, -1) : raw) + 1;
      if (record.length === 1 && record[0] === '') continue; // an empty line is not a record
      if (header === undefined) {
        header = checkHeader(record, line, delimiter);
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
    // Only the parser's own errors are about CSV; the source's (a read error, invalid UTF-8) pass as they are.
    if (!(cause instanceof CsvError)) throw cause;
    if (cause.code === 'CSV_QUOTE_NOT_CLOSED') {
      const raw = (cause as { raw?: unknown }).raw;
      const line = typeof raw === 'string' ? lineBreaksFed - countLineBreaks(raw) + 1 : nextLine;
      throw badFile('a quoted field opened in this record is never closed', { line }, cause);
    }
    throw badFile(`not readable as CSV: ${cause.message}`, { line: nextLine }, cause);
  }
  if (header === undefined) throw badFile('the CSV file is empty: it needs a header row');
}

function checkHeader(record: string[], line: number, delimiter: string): string[] {
  const header = record.map((name) => trimWhiteSpace(name).toLowerCase());
  const unknown = header.filter((name) => !COLUMNS.has(name));
  const repeated = header.filter((name, i) => header.indexOf(name) !== i);
  if (unknown.length > 0 || repeated.length > 0 || !header.includes('value')) {
    const problems = [
      unknown.length > 0 ? `unknown column(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}` : '',
      repeated.length > 0 ? `repeated column(s) ${repeated.join(', ')}` : '',
      header.includes('value') ? '' : 'no "value" column',
    ].filter(Boolean);
    // One cell holding a separator the other way round: a file saved with the other delimiter.
    const other = delimiter === ',' ? '\t' : ',';
    const hint =
      record.length === 1 && (record[0] as string).includes(other)
        ? `; the header looks ${other === '\t' ? 'tab-separated (use the tsv format)' : 'comma-separated (use the csv format)'}`
        : '';
    throw badFile(`CSV header: ${problems.join('; ')} (columns: ${CSV_COLUMNS.join(', ')})${hint}`, { line });
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
