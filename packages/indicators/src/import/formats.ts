/**
 * The import formats and how to pick one: by name (`--format`), or from a file's extension.
 */
import { IndicatorError } from '../errors.js';
import { readCsv } from './csv.js';
import { readJsonl } from './jsonl.js';
import { readPlainLines } from './lines.js';
import type { RawRecord, TextSource } from './record.js';
import { readStix } from './stix.js';

export const IMPORT_FORMATS = ['lines', 'csv', 'jsonl', 'stix'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function readRecords(format: ImportFormat, source: TextSource): AsyncIterable<RawRecord> {
  switch (format) {
    case 'lines':
      return readPlainLines(source);
    case 'csv':
      return readCsv(source);
    case 'jsonl':
      return readJsonl(source);
    case 'stix':
      return readStix(source);
    default:
      throw new IndicatorError('BAD_FILE', `unknown import format ${String(format)}`);
  }
}

/** The format a file name suggests: .csv, .jsonl/.ndjson, .json (a STIX bundle); else lines. */
export function formatFromPath(path: string): ImportFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json') || lower.endsWith('.stix')) return 'stix';
  return 'lines';
}

export function parseImportFormat(name: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(name)) return name as ImportFormat;
  throw new IndicatorError('BAD_FILE', `unknown format ${JSON.stringify(name)}; formats: ${IMPORT_FORMATS.join(', ')}`);
}
