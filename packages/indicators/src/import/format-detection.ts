/**
 * Which import format a file is in, and why (spec/indicators.md §3, "Choosing the format"): a
 * format given by the caller always wins; else the extension when it names one (.csv, .jsonl,
 * .ndjson, .json, .stix); else the start of the content. Guessing wrong is the danger: a CSV read
 * as plain lines has every record rejected and the lab joins with an empty set. So the content
 * rules only pick a structured format on clear evidence, and a start that is clearly structured
 * in a way no importer reads (a JSON array, a semicolon-separated header) is an error, not lines.
 */
import { assertTextFile } from './binary-sniff.js';
import { CSV_COLUMNS } from './csv.js';
import { badFile } from './file-error.js';
import { extensionFormat, type ImportFormat, parseImportFormat } from './formats.js';

/** How many bytes of a file the content rules look at (the caller reads at most this much). */
export const FORMAT_SNIFF_BYTES = 64 * 1024;

export type FormatSource = 'option' | 'extension' | 'content';

export interface FormatChoice {
  format: ImportFormat;
  /** What decided it: the caller's option, the file's extension, or the start of its content. */
  from: FormatSource;
  /** Why, for a person: "the first line is a CSV header (kind, value)". */
  reason: string;
}

/**
 * The format of a file: `explicit` if given, else its extension's, else its content's. `head` is
 * the file's first bytes (up to FORMAT_SNIFF_BYTES; fewer if the file is shorter). Whatever the
 * format, a head that is not text (a workbook, UTF-16, NUL bytes) is a `BAD_FILE` error naming `path`.
 */
export function chooseImportFormat(path: string, head: Uint8Array, explicit?: ImportFormat | string): FormatChoice {
  assertTextFile(head, path);
  if (explicit !== undefined) return { format: parseImportFormat(explicit), from: 'option', reason: 'as asked' };
  const byExtension = extensionFormat(path);
  if (byExtension !== undefined) {
    return { format: byExtension.format, from: 'extension', reason: `the file name ends in ${byExtension.extension}` };
  }
  return { ...formatOfContent(head), from: 'content' };
}

const COLUMN_NAME = /^[a-z][a-z0-9_ -]*$/;

/** The cells of a header line split on `separator`, trimmed, unquoted and lowercased. */
function headerCells(line: string, separator: string): string[] {
  return line.split(separator).map((cell) => {
    const trimmed = cell.trim();
    const unquoted =
      trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
    return unquoted.trim().toLowerCase();
  });
}

/**
 * A header line, split on `separator`: two or more cells that are all column-like names (letters,
 * digits, `_`, `-`, spaces: no value of any kind looks like that twice over), or one cell that is
 * a column the CSV importer reads. Unknown names still count, so the importer reports them.
 */
function isHeader(line: string, separator: string): boolean {
  const cells = headerCells(line, separator);
  if (cells.length === 1) return CSV_COLUMNS.includes(cells[0] as string);
  return cells.every((cell) => COLUMN_NAME.test(cell)) && cells.some((cell) => CSV_COLUMNS.includes(cell));
}

/** The 1-based number of the first non-blank line of `text`. */
function firstLineNumber(text: string): number {
  const lines = text.split('\n');
  return lines.findIndex((line) => line.trim() !== '') + 1;
}

/** Parses `text` as JSON, or undefined if it is not JSON. */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The format the start of a file's content shows (section 3 of spec/indicators.md lists the rules in this order). */
export function formatOfContent(head: Uint8Array): { format: ImportFormat; reason: string } {
  // Not fatal: a head cut inside a character, or invalid UTF-8, is for the full read to report.
  const text = new TextDecoder('utf-8').decode(head);
  const lines = text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
  const first = lines[0]?.trim();
  if (first === undefined) return { format: 'lines', reason: 'the file is empty' };
  if (first.startsWith('{')) {
    const parsed = jsonOf(first);
    if (isObject(parsed)) {
      return parsed.type === 'bundle'
        ? { format: 'stix', reason: 'the first line is a STIX bundle' }
        : { format: 'jsonl', reason: 'the first line is a JSON object' };
    }
    const second = lines[1]?.trim();
    if (second?.startsWith('{') && isObject(jsonOf(second)))
      return { format: 'jsonl', reason: 'the second line is a JSON object' };
    return { format: 'stix', reason: 'the file starts a JSON document over several lines' };
  }
  if (/^\[\s*(?:$|[{["])/.test(first)) {
    throw badFile(
      'the file starts like a JSON array, which is not an import format: write one JSON object per line (JSON lines) or a STIX bundle',
    );
  }
  if (first.includes('\t') && isHeader(first, '\t')) {
    return {
      format: 'tsv',
      reason: `the first line is a tab-separated header (${headerCells(first, '\t').join(', ')})`,
    };
  }
  if (isHeader(first, ',')) {
    return { format: 'csv', reason: `the first line is a CSV header (${headerCells(first, ',').join(', ')})` };
  }
  if (first.includes(';') && isHeader(first, ';')) {
    throw badFile(
      'the header is separated by semicolons, which no importer reads: save the file as comma-separated CSV (or tab-separated)',
      { line: firstLineNumber(text) },
    );
  }
  return { format: 'lines', reason: 'the first line is neither a JSON object nor a CSV header, so one value per line' };
}
