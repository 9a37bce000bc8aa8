/**
 * A session's results written to the lab's results directory, the delivery that always happens
 * first (result-delivery.ts): whatever becomes of the webhook or the command, the results are on
 * the lab's disk, never only in flight.
 *
 *   <dir>/<session>.results.jsonl      JSON lines, one result per line (format `jsonl`)
 *   <dir>/<session>.results.csv        RFC 4180 CSV, formula-guarded unless asked not to (`csv`)
 *   <dir>/<session>.results.stix.json  a STIX 2.1 bundle (`stix`)
 *   <dir>/<session>.json               the result document, which `overlap results` reads
 *
 * Each file is written with @overlap/files' atomic write (0600, flushed, renamed over the previous
 * one) in a directory made 0700 if missing, whatever the umask; the document is written last, so
 * its presence says every asked format is there. The bytes depend on the document alone (no clock,
 * no randomness), so delivering again after a crash rewrites the same files.
 *
 * The JSON lines file and the document are written a result at a time (a million shared
 * indicators are never one string); CSV and STIX come from @overlap/client's `formatResults`,
 * which answers one string, and are written from it.
 *
 * Threat: the session id comes from the relay and names the files: anything but 32 lowercase hex
 * digits (`../../etc/cron.d/x`) is refused before a path is made. Results readable by other local
 * users (a plain write under umask 022 makes 0644); a half-written file after a crash, trusted.
 */
import { join } from 'node:path';
import {
  type CsvGuard,
  formatResults,
  RESULT_FORMATS,
  type ResultFormat,
  resultDocumentPieces,
  resultJsonLines,
  type SessionResults,
} from '@overlap/client';
import { FilesError, makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { AgentError } from './errors.js';

export interface DirectoryDeliveryOptions {
  /** CSV only: `formulas` (the default) or `none` (@overlap/client's CsvGuard). */
  csvGuard?: CsvGuard;
}

const SESSION = /^[0-9a-f]{32}$/;

const SUFFIX: Readonly<Record<ResultFormat, string>> = {
  jsonl: '.results.jsonl',
  csv: '.results.csv',
  stix: '.results.stix.json',
};

/** The file a format of a session's results is written to in `dir`. */
export function resultsFileName(dir: string, session: string, format: ResultFormat | 'document'): string {
  return join(dir, `${session}${format === 'document' ? '.json' : SUFFIX[format]}`);
}

/**
 * Writes one file per format asked (each once, in the order asked), then the result document;
 * answers the paths written, in that order. `DELIVERY_FAILED` when a file cannot be written or the
 * document is not valid results; `BAD_CONFIG` for an unknown format.
 */
export async function deliverToDirectory(
  dir: string,
  doc: SessionResults,
  formats: readonly ResultFormat[] = ['jsonl'],
  options: DirectoryDeliveryOptions = {},
): Promise<{ files: string[] }> {
  for (const format of formats) {
    if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
      throw new AgentError('BAD_CONFIG', `unknown results format ${JSON.stringify(String(format).slice(0, 32))}`);
    }
  }
  // The id names the files: checked before any path is made from it.
  if (typeof doc.session !== 'string' || !SESSION.test(doc.session)) {
    throw new AgentError('DELIVERY_FAILED', 'the results name no valid session (32 lowercase hex digits)');
  }
  const files: string[] = [];
  let doing = `make the results directory ${dir}`;
  try {
    await makePrivateDirectory(dir);
    for (const format of new Set(formats)) {
      const path = resultsFileName(dir, doc.session, format);
      doing = `write ${path}`;
      await writeFileAtomic(path, contentOf(doc, format, options), { replace: true });
      files.push(path);
    }
    const path = resultsFileName(dir, doc.session, 'document');
    doing = `write ${path}`;
    await writeFileAtomic(path, resultDocumentPieces(doc), { replace: true });
    files.push(path);
  } catch (cause) {
    // A FilesError names the path and the errno; formatResults' BAD_RESULTS may quote a value,
    // which no message of the agent carries (it goes to the log): only its code, the rest in `cause`.
    const reason =
      cause instanceof FilesError
        ? cause.message
        : `cannot ${doing}: ${String((cause as { code?: unknown }).code ?? (cause as Error).name)}`;
    throw new AgentError('DELIVERY_FAILED', `session ${doc.session}: ${reason}`, { cause });
  }
  return { files };
}

function contentOf(doc: SessionResults, format: ResultFormat, options: DirectoryDeliveryOptions): Iterable<string> {
  if (format === 'jsonl') return resultJsonLines(doc);
  return [formatResults(doc, format, options.csvGuard === undefined ? {} : { csvGuard: options.csvGuard })];
}
