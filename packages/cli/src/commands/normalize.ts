/**
 * `overlap normalize [--kind K] [--format lines|csv|tsv|jsonl|stix] [--region CC] [FILE|-]`: reads a
 * lab's suspect list and writes one JSON line per input record, in input order —
 *   {"line":N,"kind":K,"value":V}            accepted (plus "duplicate_of":M for a repeat, "id" for STIX)
 *   {"line":N,"error":{"code":C,"message":M}} rejected
 * — then a summary on stderr. Exit 0 when every record was accepted, 65 when any was rejected (the
 * output is still complete), 64 for a usage error, 66 for an unreadable file. Streams: a file of
 * any size is read in chunks.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  emptySummary,
  formatFromPath,
  IMPORT_FORMATS,
  type ImportFormat,
  INDICATOR_KIND_NAMES,
  IndicatorError,
  isErrorRecord,
  type NormalizedRecord,
  normalizeRecords,
  parseImportFormat,
  parseIndicatorKindName,
  readRecords,
} from '@overlap/indicators';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { LineWriter, type ProgramIo } from '../io.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';
import { settingName } from './trust-roots.js';

type NormalizeFlags = {
  kind?: string;
  format?: string;
  region?: string;
  dedupe: boolean;
};

export function addNormalizeCommand(program: Command, io: ProgramIo): void {
  const normalize = program
    .command('normalize')
    .argument('[file]', 'input file, or - for standard input', '-')
    .option(
      '--kind <kind>',
      `kind of records that name none (plain lines; CSV/JSONL without a kind): ${INDICATOR_KIND_NAMES.join(', ')}`,
    )
    .option('--format <format>', `${IMPORT_FORMATS.join(', ')} (default: from the file extension, else lines)`)
    .option('--no-dedupe', 'do not look for duplicates (for inputs with hundreds of millions of values)')
    .addHelpText(
      'after',
      '\nExit codes: 0 all records accepted, 65 some rejected (output still complete), 64 usage, 66 unreadable file.',
    );
  // The region as `session run` takes it, so that a preview here canonicalizes the same way.
  addSettings(normalize, SETTINGS.region).action(async (file: string, flags: NormalizeFlags) => {
    const format = chooseFormat(file, flags.format);
    if (flags.kind !== undefined) {
      try {
        parseIndicatorKindName(flags.kind);
      } catch (cause) {
        throw new CliError('USAGE', `--kind: ${(cause as Error).message}`, { cause });
      }
    }
    const settings = await readSettings(flags);
    const region = settings.get(SETTINGS.region);
    if (region !== undefined && !/^[A-Za-z]{2}$/.test(region)) {
      throw new CliError(
        'USAGE',
        `${settingName(settings, SETTINGS.region)} must be a two-letter ISO 3166 code, got ${JSON.stringify(region)}`,
      );
    }
    const input = file === '-' ? requireStdin(io) : await openInput(file);
    const summary = emptySummary();
    const writer = new LineWriter(io.out);
    const options = {
      dedupe: flags.dedupe,
      ...(flags.kind && { kind: flags.kind }),
      ...(region && { region }),
    };
    let fileError: IndicatorError | undefined;
    const started = Date.now();
    let lastProgress = started;
    try {
      for await (const record of normalizeRecords(readRecords(format, input), options, summary)) {
        await writer.line(JSON.stringify(toOutput(record)));
        // On a terminal, a progress line each second for long inputs (rewritten in place).
        if (io.stderrIsTTY && summary.records % 4096 === 0 && Date.now() - lastProgress >= 1000) {
          lastProgress = Date.now();
          const rate = Math.round((summary.records * 1000) / (lastProgress - started));
          io.err(
            `\rnormalize: ${summary.records.toLocaleString('en-US')} records, ${summary.rejected} rejected, ${rate.toLocaleString('en-US')}/s`,
          );
        }
      }
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall) {
        throw new CliError('NO_INPUT', `reading ${file === '-' ? 'stdin' : file} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (!(error instanceof IndicatorError)) throw error;
      fileError = error; // the file stopped being readable as its format: report after the output
    } finally {
      await writer.flush();
      input.destroy();
    }
    const rejectedBy = Object.entries(summary.rejectedBy)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    if (io.stderrIsTTY && lastProgress !== started) io.err('\r\x1b[K');
    io.err(
      `normalize: ${summary.records} records: ${summary.accepted} accepted (${summary.duplicates} duplicates), ${summary.rejected} rejected${rejectedBy ? ` (${rejectedBy})` : ''}\n`,
    );
    if (fileError)
      throw new CliError('DATA', `${file === '-' ? 'stdin' : file}: ${fileError.message}`, { cause: fileError });
    if (summary.rejected > 0)
      throw new CliError('DATA', `${summary.rejected} record(s) rejected; see the "error" lines`);
  });
}

function chooseFormat(file: string, format: string | undefined): ImportFormat {
  if (format === undefined) return file === '-' ? 'lines' : formatFromPath(file);
  try {
    return parseImportFormat(format);
  } catch (cause) {
    throw new CliError('USAGE', `--format: ${(cause as Error).message}`, { cause });
  }
}

async function openInput(path: string): Promise<Readable> {
  try {
    const handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    }
    return handle.createReadStream(); // closes the handle when the stream ends or is destroyed
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'not a regular file'
            : String(cause);
    throw new CliError('NO_INPUT', `cannot read ${path}: ${reason}`, { cause });
  }
}

function requireStdin(io: ProgramIo): Readable {
  if (!io.stdin) throw new CliError('USAGE', 'no standard input to read');
  return io.stdin;
}

function toOutput(record: NormalizedRecord): Record<string, unknown> {
  const base: Record<string, unknown> = { line: record.line };
  if (record.id !== undefined) base.id = record.id;
  if (isErrorRecord(record)) return { ...base, error: record.error };
  const out: Record<string, unknown> = { ...base, kind: record.kind, value: record.value };
  if (record.duplicateOf !== undefined) out.duplicate_of = record.duplicateOf;
  if (record.firstSeen !== undefined) out.first_seen = record.firstSeen;
  if (record.confidence !== undefined) out.confidence = record.confidence;
  if (record.label !== undefined) out.label = record.label;
  return out;
}
