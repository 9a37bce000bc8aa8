/**
 * `overlap normalize [--kind K] [--format lines|csv|tsv|jsonl|stix|chat] [--region CC] [FILE|-]`: reads
 * a lab's suspect list (or a chat-completions request log: its prompts) and writes one JSON line per
 * input record, in input order —
 *   {"line":N,"kind":K,"value":V}            accepted (plus "duplicate_of":M for a repeat, "id" if any)
 *   {"line":N,"error":{"code":C,"message":M}} rejected
 * — then a summary on stderr. Exit 0 when every record was accepted, 65 when any was rejected (the
 * output is still complete), 64 for a usage error, 66 for an unreadable file. Streams: a file of
 * any size is read in chunks.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  chooseImportFormat,
  emptySummary,
  FORMAT_SNIFF_BYTES,
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
      `kind of records that name none (plain lines; CSV/JSONL without a kind; chat records are prompt_template): ${INDICATOR_KIND_NAMES.join(', ')}`,
    )
    .option(
      '--format <format>',
      `${IMPORT_FORMATS.join(', ')} (default: from the file extension, else from the content, as session run chooses)`,
    )
    .option('--no-dedupe', 'do not look for duplicates (for inputs with hundreds of millions of values)')
    .addHelpText(
      'after',
      '\nExit codes: 0 all records accepted, 65 some rejected (output still complete), 64 usage, 66 unreadable file.',
    );
  // The region as `session run` takes it, so that a preview here canonicalizes the same way.
  addSettings(normalize, SETTINGS.region).action(async (file: string, flags: NormalizeFlags) => {
    const explicit = explicitFormat(flags.format);
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
    const opened = file === '-' ? requireStdin(io) : await openInput(file);
    const where = file === '-' ? 'stdin' : file;
    // The format as session run chooses it (spec/indicators.md §3.1): the flag, the extension, else
    // the start of the content; a binary file is refused whatever the flag says.
    const { head, input } = await (file === '-' ? readHead(opened) : fileHead(file, opened)).catch(
      (error: NodeJS.ErrnoException) => {
        opened.destroy();
        if (typeof error.code === 'string' && error.syscall) {
          throw new CliError('NO_INPUT', `reading ${where} failed: ${error.message}`, { cause: error });
        }
        throw error;
      },
    );
    let format: ImportFormat;
    try {
      const choice = chooseImportFormat(file === '-' ? '' : file, head, explicit);
      format = choice.format;
      if (choice.from === 'content') io.err(`normalize: ${where}: read as ${format} (${choice.reason})\n`);
    } catch (cause) {
      opened.destroy();
      if (cause instanceof IndicatorError) throw new CliError('DATA', cause.message, { cause });
      throw cause;
    }
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
      opened.destroy();
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

/**
 * The first FORMAT_SNIFF_BYTES of a stream that cannot be read twice (stdin), and the whole stream
 * again, from its start, as chunks.
 */
async function readHead(stream: Readable): Promise<{ head: Uint8Array; input: AsyncIterable<Uint8Array | string> }> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array | string>;
  const read: Uint8Array[] = [];
  let bytes = 0;
  let ended = false;
  while (bytes < FORMAT_SNIFF_BYTES) {
    const step = await chunks.next();
    if (step.done) {
      ended = true;
      break;
    }
    // A stream of text (stdin in tests, an encoding set upstream) is read as its UTF-8 bytes.
    const chunk = typeof step.value === 'string' ? Buffer.from(step.value, 'utf8') : step.value;
    read.push(chunk);
    bytes += chunk.length;
  }
  const head = Buffer.concat(read).subarray(0, FORMAT_SNIFF_BYTES);
  const input = (async function* () {
    yield* read;
    if (ended) return;
    for (let step = await chunks.next(); !step.done; step = await chunks.next()) yield step.value;
  })();
  return { head, input };
}

/** A file's first FORMAT_SNIFF_BYTES, read apart from `stream`, which is read from the start as it is. */
async function fileHead(path: string, stream: Readable): Promise<{ head: Uint8Array; input: Readable }> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(FORMAT_SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, FORMAT_SNIFF_BYTES, 0);
    return { head: buffer.subarray(0, bytesRead), input: stream };
  } finally {
    await handle.close();
  }
}

function explicitFormat(format: string | undefined): ImportFormat | undefined {
  if (format === undefined) return undefined;
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
