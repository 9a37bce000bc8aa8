/**
 * `overlap results`: a finished session's shared indicators, from the result document `session run`
 * left in the state directory, as CSV, JSON lines or a STIX 2.1 bundle — or, with `--json`, a
 * summary of them.
 *
 *   overlap results --session ID --format csv|jsonl|stix [--csv-guard formulas|none] [--out FILE] [--state-dir DIR]
 *   overlap results --session ID --json [--format F --out FILE]
 *
 * `--csv-guard formulas` (the default) prefixes a CSV cell that a spreadsheet would run as a formula
 * (`=`, `@`, `+cmd…`; not a plain signed number such as a phone number) with `'`; `none` leaves
 * every cell as it is, for a program that reads the file. JSON lines and STIX are never guarded.
 * When `session run` traced the results back to the input, each row has `line`, `id` and `label`
 * (CSV columns, JSON fields, a STIX external reference). Exit 66 when the session has no results here.
 */
import { readFile } from 'node:fs/promises';
import {
  CSV_GUARDS,
  type CsvGuard,
  type FormatResultsOptions,
  formatResults,
  RESULT_FORMATS,
  type ResultFormat,
  type SessionResults,
} from '@overlap/client';
import { writeFileAtomic } from '@overlap/files';
import { formatRevealPolicy } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { sdkCall, sessionArgument } from '../lab-context.js';
import { sourcesOfDocument } from '../results-files.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';
import { sessionFiles } from './session-files.js';

interface ResultsFlags extends Record<string, unknown> {
  session: string;
  format?: string;
  out?: string;
  json?: boolean;
}

export function addResultsCommand(program: Command, io: ProgramIo): void {
  addSettings(program.command('results'), SETTINGS.stateDir, SETTINGS.csvGuard)
    .requiredOption('--session <id>', 'the session id')
    .option('--format <format>', `${RESULT_FORMATS.join(', ')} (required unless --json)`)
    .option('--out <file>', 'write here instead of standard output')
    .option('--json', 'print a summary (session, lab, reveal policy, count per kind, where written) instead')
    .action(async (flags: ResultsFlags) => {
      const id = sessionArgument(flags.session);
      const settings = await readSettings(flags);
      const stateDir = settings.require(SETTINGS.stateDir);
      const format = formatOf(flags);
      const csvGuard = settings.get(SETTINGS.csvGuard) as string;
      if (!(CSV_GUARDS as readonly string[]).includes(csvGuard)) {
        throw new CliError('USAGE', `--csv-guard must be ${CSV_GUARDS.join(' or ')}, got ${JSON.stringify(csvGuard)}`);
      }
      const path = sessionFiles(stateDir, id).resultsDocument;
      const doc = await readResultsDocument(path, id, stateDir);
      // The result document comes from a file: formatResults checks its shape whatever the format.
      const sources = sourcesOfDocument(path, doc);
      const options: FormatResultsOptions = { csvGuard: csvGuard as CsvGuard, ...(sources && { sources }) };
      const text = await sdkCall(async () => formatResults(doc, format ?? 'jsonl', options));
      if (format !== undefined && flags.out) await writeFileAtomic(flags.out, text, { replace: true });
      else if (format !== undefined && !flags.json) await io.out(text);
      if (flags.json) await io.out(`${JSON.stringify(summaryOf(doc, format, flags.out))}\n`);
    });
}

/** `--format`, checked; `--json` alone needs none, and `--json` with a format needs `--out`. */
function formatOf(flags: ResultsFlags): ResultFormat | undefined {
  if (flags.format === undefined) {
    if (flags.json) return undefined;
    throw new CliError('USAGE', `give --format (${RESULT_FORMATS.join(', ')}), or --json for a summary`);
  }
  if (!(RESULT_FORMATS as readonly string[]).includes(flags.format)) {
    throw new CliError(
      'USAGE',
      `--format must be one of ${RESULT_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`,
    );
  }
  if (flags.json && flags.out === undefined) {
    throw new CliError(
      'USAGE',
      '--json prints a summary on standard output: give --out FILE for the results themselves',
    );
  }
  return flags.format as ResultFormat;
}

async function readResultsDocument(path: string, id: string, stateDir: string): Promise<SessionResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CliError('NO_INPUT', `no results for session ${id} in ${stateDir} (run overlap session run first)`, {
      cause,
    });
  }
  try {
    return JSON.parse(text) as SessionResults;
  } catch (cause) {
    throw new CliError('DATA', `${path} is not a result document (not JSON): ${(cause as Error).message}`, { cause });
  }
}

function summaryOf(doc: SessionResults, format: ResultFormat | undefined, out: string | undefined) {
  const byKind: Record<string, number> = {};
  for (const result of doc.results) byKind[result.kind] = (byKind[result.kind] ?? 0) + 1;
  return {
    session: doc.session,
    lab: doc.lab,
    relay: doc.relay,
    reveal: formatRevealPolicy(doc.policy),
    finished: doc.finished,
    shared: doc.results.length,
    by_kind: byKind,
    ...(format !== undefined && out !== undefined && { format, out }),
  };
}
