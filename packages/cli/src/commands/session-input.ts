/**
 * A lab's suspect list as `overlap session run` reads it, and what it says about it: which format
 * and why, the records rejected (the first ones, with their lines), the records of kinds the session
 * does not name (counted per kind: they are not sent, and the lab is told so), and a refusal to join
 * with nothing to send because of the lab's own input errors (unless `--allow-empty`).
 *
 * Exit codes: 66 for a file that cannot be read (with the OS reason), 65 for a file whose content
 * is wrong (a bad CSV header, a binary file), 64 for an unknown `--format` or `--kind`.
 */
import { open, stat } from 'node:fs/promises';
import { ClientError, type IndicatorFile, readIndicatorFile } from '@overlap/client';
import { IMPORT_FORMATS, type ImportFormat, IndicatorError } from '@overlap/indicators';
import { osReason } from '../config-file.js';
import { CliError } from '../errors.js';

export interface LabInputOptions {
  format?: string;
  kind?: string;
  region?: string;
}

/** `--format`, checked: one of the import formats. */
export function formatOption(format: string | undefined): ImportFormat | undefined {
  if (format === undefined) return undefined;
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw new CliError('USAGE', `--format must be one of ${IMPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  return format as ImportFormat;
}

/**
 * Fails with 66 and the OS's reason unless `path` is a regular file this process can open for
 * reading: it is opened (and closed), so that a file without read permission fails here, before
 * the relay is contacted, not once the run is under way. Whether it is a regular file is asked
 * first, so that a FIFO is not opened (that would wait for a writer).
 */
export async function assertReadableFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw Object.assign(new Error('not a file'), { code: info.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
    const handle = await open(path, 'r');
    await handle.close();
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOTFILE' ? 'not a regular file' : osReason(cause);
    throw new CliError('NO_INPUT', `cannot read the indicator file ${path}: ${reason}`, { cause });
  }
}

/** Reads and canonicalizes the input; every failure a CliError naming the file. */
export async function readLabInput(path: string, options: LabInputOptions): Promise<IndicatorFile> {
  const format = formatOption(options.format);
  try {
    return await readIndicatorFile(path, {
      ...(format !== undefined && { format }),
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.region !== undefined && { region: options.region }),
    });
  } catch (error) {
    throw inputError(path, error);
  }
}

/** The CLI error for a failure to read `path`: unreadable 66, bad content 65, a bad option 64. */
function inputError(path: string, error: unknown): unknown {
  if (error instanceof IndicatorError) {
    if (error.code === 'UNKNOWN_KIND') return new CliError('USAGE', `--kind: ${error.message}`, { cause: error });
    const message = error.message.includes(path) ? error.message : `${path}: ${error.message}`;
    return new CliError('DATA', message, { cause: error });
  }
  if (error instanceof ClientError) {
    // INPUT_UNREADABLE's message names the file and the OS's reason.
    if (error.code === 'INPUT_UNREADABLE') return new CliError('NO_INPUT', error.message, { cause: error });
    const message = error.message.includes(path) ? error.message : `${path}: ${error.message}`;
    return new CliError(error.code === 'BAD_ARGUMENT' ? 'USAGE' : 'DATA', message, { cause: error });
  }
  return error;
}

/** Why the input was read as it was: `csv (from its content: the first line is a CSV header (kind, value))`. */
export function formatExplanation(input: IndicatorFile): string {
  const from = { option: '--format', extension: 'from its name', content: 'from its content' }[input.formatFrom];
  return `${input.format} (${from}: ${input.formatReason})`;
}

/** Distinct values per kind of the input that the session does not name: they are not sent. */
export function kindsNotSent(
  input: IndicatorFile,
  sessionKinds: readonly string[],
): { kind: string; values: number }[] {
  return Object.entries(input.sets)
    .filter(([kind, values]) => !sessionKinds.includes(kind) && values.length > 0)
    .map(([kind, values]) => ({ kind, values: values.length }));
}

/** How many distinct values of the session's kinds the input holds. */
export function valuesToSend(input: IndicatorFile, sessionKinds: readonly string[]): number {
  return sessionKinds.reduce((n, kind) => n + (input.sets[kind]?.length ?? 0), 0);
}

/** The lines that say what the input holds and what of it is not sent. */
export function inputReport(path: string, input: IndicatorFile, sessionKinds: readonly string[]): string[] {
  const lines = input.rejected.map((r) => `${path}:${r.line}: rejected (${r.code}): ${r.message}`);
  const shownAll = input.rejected.length >= input.summary.rejected;
  if (!shownAll) lines.push(`${path}: … and ${input.summary.rejected - input.rejected.length} more rejected`);
  const { summary } = input;
  lines.push(
    `${path}: ${summary.records} records, ${summary.accepted} accepted (${summary.duplicates} duplicates), ${summary.rejected} rejected`,
  );
  for (const { kind, values } of kindsNotSent(input, sessionKinds)) {
    lines.push(
      `${path}: ${values} distinct ${kind} value${values === 1 ? '' : 's'} not sent: the session's kinds are ${sessionKinds.join(', ')}`,
    );
  }
  return lines;
}

/**
 * Refuses (65) a run that would join with nothing to send: every record rejected, or none of the
 * session's kinds. A lab that means it says `--allow-empty`.
 */
export function refuseEmptyInput(path: string, input: IndicatorFile, sessionKinds: readonly string[]): void {
  if (valuesToSend(input, sessionKinds) > 0) return;
  const { summary } = input;
  const why =
    summary.accepted === 0
      ? `every one of its ${summary.records} records was rejected`
      : `none of its ${summary.accepted} accepted records is of the session's kinds (${sessionKinds.join(', ')})`;
  const first = input.rejected
    .slice(0, 3)
    .map((r) => `line ${r.line}: ${r.code}`)
    .join('; ');
  throw new CliError(
    'DATA',
    `${path}: nothing to send: ${why}${first ? ` (${first})` : ''}; nothing was sent. Check the file and its format ` +
      '(--format, --kind), or pass --allow-empty to join with an empty set',
  );
}
