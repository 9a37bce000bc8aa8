/**
 * Which import format a file is in, and why (spec/indicators.md §3, "Choosing the format"): a
 * format given by the caller always wins; else the extension when it names one (.csv, .jsonl,
 * .ndjson, .json, .stix); else the start of the content. A chat-completions request log is JSON
 * lines too: it is told from JSONL records by its `messages`, by the content, also under .jsonl
 * and .ndjson (where JSONL would reject every line of it). Guessing wrong is the danger: a CSV read
 * as plain lines has every record rejected and the lab joins with an empty set. So the content
 * rules only pick a structured format on clear evidence, and a start that is clearly structured
 * in a way no importer reads (a JSON array, a semicolon-separated header) is an error, not lines.
 */
import { assertTextFile } from './binary-sniff.js';
import { chatLineShape } from './chat-line-shape.js';
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
    const named = `the file name ends in ${byExtension.extension}`;
    const chat = byExtension.format === 'jsonl' ? chatStart(headLines(headText(head))) : undefined;
    if (chat !== undefined) return { format: 'chat', from: 'content', reason: `${named}, and ${chat}` };
    return { format: byExtension.format, from: 'extension', reason: named };
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

const CHAT_SHAPES = {
  request: 'a chat-completions request with a "messages" array',
  batch: 'a Batch API request line with a "messages" array in "body"',
} as const;

/**
 * Which line of the chat format `line` starts, when it is the start of a JSON object that does not
 * parse by itself (a line cut short by the head): a top-level `"messages"` key whose value opens an
 * array (a request), or a top-level `"body"` object with such a key (a Batch API line), seen before
 * any top-level `"value"` key. It reads only as far as that; anything it cannot follow is undefined.
 */
function opensChatLine(line: string): keyof typeof CHAT_SHAPES | undefined {
  // The open containers: whether each is an object, and the key it is the value of in its parent.
  const stack: { object: boolean; key: string | undefined }[] = [];
  let key: string | undefined; // in an object: the key just read, whose value comes next
  let expectKey = false; // in an object: the next string is a key
  /** What a value starting with `c` under the current key says: a shape, 'no' (a `value` key), or nothing yet. */
  const valueStart = (c: string): keyof typeof CHAT_SHAPES | 'no' | undefined => {
    const top = stack.at(-1);
    if (top?.object !== true || key === undefined) return undefined;
    if (stack.length === 1 && key === 'value') return 'no';
    if (key !== 'messages' || c !== '[') return undefined;
    if (stack.length === 1) return 'request';
    return stack.length === 2 && stack[0]?.object && top.key === 'body' ? 'batch' : undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (stack.length === 0 && (i > 0 || c !== '{')) return undefined;
    const top = stack.at(-1);
    if (c === '"') {
      let end = i + 1;
      while (end < line.length && line.charAt(end) !== '"') end += line.charAt(end) === '\\' ? 2 : 1;
      if (end >= line.length) return undefined; // cut inside a string
      if (top?.object && expectKey) {
        const name = jsonOf(line.slice(i, end + 1));
        if (typeof name !== 'string') return undefined;
        key = name;
        expectKey = false;
      } else {
        const seen = valueStart(c);
        if (seen !== undefined) return seen === 'no' ? undefined : seen;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      if (stack.length > 0) {
        const seen = valueStart(c);
        if (seen !== undefined) return seen === 'no' ? undefined : seen;
      }
      stack.push({ object: c === '{', key: top?.object ? key : undefined });
      key = undefined;
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
      if (stack.length === 0) return undefined; // the object ended: it is not cut short
      key = undefined;
    } else if (c === ',') {
      key = undefined;
      expectKey = stack.at(-1)?.object === true;
    } else if (c === ':') {
      if (!top?.object || key === undefined) return undefined;
    } else {
      // A number, true, false or null: up to the next separator.
      const seen = valueStart(c);
      if (seen !== undefined) return seen === 'no' ? undefined : seen;
      while (i + 1 < line.length && !',}] \t'.includes(line.charAt(i + 1))) i++;
    }
  }
  return undefined;
}

/** A head as text. Not fatal: a head cut inside a character, or invalid UTF-8, is for the full read to report. */
const headText = (head: Uint8Array) => new TextDecoder('utf-8').decode(head);

/** The non-blank lines of a head's text, CRs dropped. */
function headLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

/**
 * Why the start of a file is a chat-completions request log, or undefined when it is not: the
 * first line is a chat line (and no STIX bundle), or it is not JSON by itself (cut short by the
 * head, or broken) and starts one, or the second line is one.
 */
function chatStart(lines: readonly string[]): string | undefined {
  const first = lines[0]?.trim();
  if (!first?.startsWith('{')) return undefined;
  const parsed = jsonOf(first);
  if (isObject(parsed)) {
    const shape = parsed.type === 'bundle' ? undefined : chatLineShape(parsed);
    return shape === undefined ? undefined : `the first line is ${CHAT_SHAPES[shape]}`;
  }
  // A chat request is often longer than the head: a first line cut short can still show it.
  const opened = opensChatLine(first);
  if (opened !== undefined) return `the first line, cut short or not JSON by itself, starts ${CHAT_SHAPES[opened]}`;
  const second = lines[1]?.trim();
  const shape = second?.startsWith('{') ? chatLineShape(jsonOf(second)) : undefined;
  return shape === undefined ? undefined : `the second line is ${CHAT_SHAPES[shape]}`;
}

/** The format the start of a file's content shows (section 3 of spec/indicators.md lists the rules in this order). */
export function formatOfContent(head: Uint8Array): { format: ImportFormat; reason: string } {
  const text = headText(head);
  const lines = headLines(text);
  const first = lines[0]?.trim();
  if (first === undefined) return { format: 'lines', reason: 'the file is empty' };
  if (first.startsWith('{')) {
    const chat = chatStart(lines);
    if (chat !== undefined) return { format: 'chat', reason: chat };
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
