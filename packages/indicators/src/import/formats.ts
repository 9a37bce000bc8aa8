/**
 * The import formats by name (`--format`). Which one a file is in: format-detection.ts. `chat`
 * (chat-completions request logs) has no extension of its own: it is JSON lines, and told from
 * `jsonl` by the content (also under `.jsonl` and `.ndjson`).
 */
import { IndicatorError } from '../errors.js';
import { readChat } from './chat.js';
import { readCsv } from './csv.js';
import { readJsonl } from './jsonl.js';
import { readPlainLines } from './lines.js';
import type { RawRecord, TextSource } from './record.js';
import { readStix } from './stix.js';

export const IMPORT_FORMATS = ['lines', 'csv', 'tsv', 'jsonl', 'stix', 'chat'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function readRecords(format: ImportFormat, source: TextSource): AsyncIterable<RawRecord> {
  switch (format) {
    case 'lines':
      return readPlainLines(source);
    case 'csv':
      return readCsv(source);
    case 'tsv':
      return readCsv(source, { delimiter: '\t' });
    case 'jsonl':
      return readJsonl(source);
    case 'stix':
      return readStix(source);
    case 'chat':
      return readChat(source);
    default:
      throw new IndicatorError('BAD_FILE', `unknown import format ${String(format)}`);
  }
}

const EXTENSIONS: { extension: string; format: ImportFormat }[] = [
  { extension: '.csv', format: 'csv' },
  { extension: '.jsonl', format: 'jsonl' },
  { extension: '.ndjson', format: 'jsonl' },
  { extension: '.json', format: 'stix' },
  { extension: '.stix', format: 'stix' },
];

/** The extension of `path` that names a format, and that format; undefined for .txt, .tsv, none, … */
export function extensionFormat(path: string): { extension: string; format: ImportFormat } | undefined {
  const lower = path.toLowerCase();
  return EXTENSIONS.find(({ extension }) => lower.endsWith(extension));
}

/**
 * The format a file's extension names, or undefined when it names none (.txt, .tsv, none, …).
 * Never `chat`: `.jsonl`/`.ndjson` name `jsonl`, which chooseImportFormat turns into `chat` when the
 * content is a chat-completions request log.
 */
export function formatOfExtension(path: string): ImportFormat | undefined {
  return extensionFormat(path)?.format;
}

/**
 * The format a file name suggests: .csv, .jsonl/.ndjson, .json/.stix (a STIX bundle); else lines.
 * For a file that can be read, prefer chooseImportFormat, which looks at the content when the
 * extension names no format instead of assuming lines.
 */
export function formatFromPath(path: string): ImportFormat {
  return formatOfExtension(path) ?? 'lines';
}

export function parseImportFormat(name: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(name)) return name as ImportFormat;
  throw new IndicatorError('BAD_FILE', `unknown format ${JSON.stringify(name)}; formats: ${IMPORT_FORMATS.join(', ')}`);
}
