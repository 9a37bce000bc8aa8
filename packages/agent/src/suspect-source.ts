/**
 * Where a kind's current suspect list comes from, read afresh for each session: a file, the
 * newest file of a folder whose name matches a pattern (an export that writes a dated file a
 * day), or the output of the lab's own command. Each is read by the SDK's `readIndicatorFile`
 * (spec/indicators.md §3: the configured format, else the extension's, else the content's).
 *
 * Every way of not getting a list is `SOURCE_FAILED` naming the source and the kind (a missing
 * file, a folder with no match, a special file, a command that fails or hangs, a file that is not
 * records of its format), so the agent declines the session rather than join with a list it did
 * not mean. An empty list is not an error here: the caller decides what to do with it.
 *
 * - `newest` takes the regular file with the latest mtime, ties to the greatest name. Hidden
 *   names (`.x`) are matched only by a pattern that starts with `.` (source-glob.ts), so an
 *   export that writes a temporary file and renames it is never read half written; an export that
 *   writes the final name in place can be read in the middle: write it atomically.
 * - A special file is refused before it is opened: reading a FIFO would wait forever.
 * - A command's stdout goes to a private file in `workDir` (run-command.ts: 0600, renamed into
 *   place only if the command exits 0), is read, and is removed, on success or failure: it holds
 *   the lab's suspects. Its stderr is never quoted (it may quote them too). A command that exits
 *   non-zero fails even if it printed values: its list may be partial.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ClientError, type IndicatorFile, readIndicatorFile } from '@overlap/client';
import { IMPORT_FORMATS, type ImportFormat, IndicatorError } from '@overlap/indicators';
import { AgentError } from './errors.js';
import { runCommand } from './run-command.js';
import { compileNamePattern } from './source-glob.js';

export type SuspectSource =
  | { type: 'file'; path: string; format?: ImportFormat; kind?: string }
  | { type: 'newest'; dir: string; pattern: string; format?: ImportFormat; kind?: string }
  | { type: 'command'; argv: string[]; timeoutMs: number; format?: ImportFormat; kind?: string; cwd?: string };

export interface SourceReading {
  /** The source, for logs: "file /x/y.csv", "newest in /dir: y-2026-12-07.csv", "command ./export.sh". */
  source: string;
  /** The file that was read (a command's output: removed since, unless kept). */
  file: string;
  reading: IndicatorFile;
}

export interface ReadSourceOptions {
  /** A private folder for a command's output file (made if missing; the file is removed after reading). */
  workDir: string;
  /** Region for phone numbers without a country code. */
  region?: string;
  signal?: AbortSignal;
  /** Whose list this is, for messages: "kind email". */
  describe: string;
  /** Keep a command's output file (to look at an export that reads wrong). Default false. */
  keepOutput?: boolean;
}

/** The source in words, before it is read ("newest in /dir matching *.csv"). */
export function describeSource(source: SuspectSource): string {
  switch (source.type) {
    case 'file':
      return `file ${source.path}`;
    case 'newest':
      return `newest in ${source.dir} matching ${source.pattern}`;
    case 'command':
      // The program only: its arguments may carry a token.
      return `command ${source.argv[0] ?? ''}`;
  }
}

export async function readSuspectSource(source: SuspectSource, options: ReadSourceOptions): Promise<SourceReading> {
  if (source.format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(source.format)) {
    throw new AgentError(
      'BAD_CONFIG',
      `the source of ${options.describe}: unknown format ${JSON.stringify(source.format)} (formats: ${IMPORT_FORMATS.join(', ')})`,
    );
  }
  options.signal?.throwIfAborted();
  switch (source.type) {
    case 'file':
      await mustBeRegularFile(source.path, `file ${source.path}`, options);
      return readFrom(source.path, `file ${source.path}`, source, options);
    case 'newest': {
      const file = await newestMatch(source.dir, source.pattern, options);
      return readFrom(file, `newest in ${source.dir}: ${basename(file)}`, source, options);
    }
    case 'command':
      return readCommand(source, options);
  }
}

function sourceFailed(options: ReadSourceOptions, from: string, why: string, cause?: unknown): AgentError {
  return new AgentError(
    'SOURCE_FAILED',
    `cannot read the suspects of ${options.describe} from ${from}: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

async function mustBeRegularFile(path: string, from: string, options: ReadSourceOptions): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw sourceFailed(options, from, osReason(cause), cause);
  }
  if (!info.isFile()) throw sourceFailed(options, from, `${path} is not a regular file`);
}

/** The newest regular file of `dir` whose name matches `pattern` (ties: the greatest name). */
async function newestMatch(dir: string, pattern: string, options: ReadSourceOptions): Promise<string> {
  const from = `newest in ${dir} matching ${pattern}`;
  const matcher = compileNamePattern(pattern);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => matcher.matches(name));
  } catch (cause) {
    throw sourceFailed(options, from, `cannot list ${dir}: ${osReason(cause)}`, cause);
  }
  let best: { name: string; mtime: bigint } | undefined;
  for (const name of names) {
    let info: Awaited<ReturnType<typeof stat>> & { mtimeNs: bigint };
    try {
      info = await stat(join(dir, name), { bigint: true });
    } catch (cause) {
      // Gone since the listing (rotated away), or a dangling link: it is not a candidate.
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
      // Any other failure could hide the newest list: better no session than an older list.
      throw sourceFailed(options, from, `cannot look at ${join(dir, name)}: ${osReason(cause)}`, cause);
    }
    if (!info.isFile()) continue;
    if (best === undefined || info.mtimeNs > best.mtime || (info.mtimeNs === best.mtime && name > best.name))
      best = { name, mtime: info.mtimeNs };
  }
  if (best === undefined) throw sourceFailed(options, from, `no regular file in ${dir} has a name matching ${pattern}`);
  return join(dir, best.name);
}

async function readCommand(
  source: Extract<SuspectSource, { type: 'command' }>,
  options: ReadSourceOptions,
): Promise<SourceReading> {
  const from = describeSource(source);
  // A fresh name per reading: the kinds of one session may be read at once into one workDir.
  const output = join(options.workDir, `source-${randomBytes(8).toString('hex')}.out`);
  try {
    await runCommand(source.argv, {
      what: `the source command of ${options.describe} (${source.argv[0] ?? ''})`,
      timeoutMs: source.timeoutMs,
      failure: 'SOURCE_FAILED',
      stdoutTo: output,
      showStderr: false,
      ...(source.cwd !== undefined && { cwd: source.cwd }),
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    return await readFrom(output, from, source, options);
  } finally {
    if (options.keepOutput !== true) await unlink(output).catch(() => {});
  }
}

async function readFrom(
  file: string,
  from: string,
  source: SuspectSource,
  options: ReadSourceOptions,
): Promise<SourceReading> {
  try {
    const reading = await readIndicatorFile(file, {
      ...(source.format !== undefined && { format: source.format }),
      ...(source.kind !== undefined && { kind: source.kind }),
      ...(options.region !== undefined && { region: options.region }),
    });
    return { source: from, file, reading };
  } catch (cause) {
    if (cause instanceof IndicatorError) {
      // The structural reason and its line, not the SDK's message: that names a command's
      // temporary output file, which means nothing to the operator.
      const { line, reason = cause.message } = cause.details ?? {};
      throw sourceFailed(options, from, line === undefined ? reason : `line ${line}: ${reason}`, cause);
    }
    if (cause instanceof ClientError) throw sourceFailed(options, from, cause.message, cause);
    throw cause;
  }
}

const OS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
};

function osReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return OS_REASONS[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}
