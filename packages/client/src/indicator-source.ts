/**
 * A lab's input file opened for import: its bytes as a stream, the import format chosen for it
 * (spec/indicators.md §3.1: the caller's, else the extension's, else the content's, and never for
 * a file that is not text), and the two ways reading it can fail, told apart by class and code so
 * a command can exit 66 for one and 65 for the other:
 *
 * - the file cannot be read (missing, a directory, no permission, an I/O error):
 *   `ClientError('INPUT_UNREADABLE')`, "cannot read suspects.csv: no such file or directory";
 * - its content is not records of its format: `IndicatorError('BAD_FILE')`, named by file and
 *   line, "suspects.csv:1: CSV header: unknown column(s) "vaule" …".
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  chooseImportFormat,
  FORMAT_SNIFF_BYTES,
  type FormatSource,
  type ImportFormat,
  IndicatorError,
} from '@overlap/indicators';
import { ClientError } from './errors.js';

export interface IndicatorSource {
  format: ImportFormat;
  /** What chose the format: the caller's option, the file's extension, or its content. */
  formatFrom: FormatSource;
  /** Why, for a person ("the first line is a CSV header (kind, value)"). */
  formatReason: string;
  /** The file's bytes from its start; a failed read is `INPUT_UNREADABLE`. Read it once. */
  bytes: AsyncIterable<Uint8Array>;
  /** Closes the file, for a reader that stops before the end (idempotent). */
  close(): void;
}

const OS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
};

/** `INPUT_UNREADABLE` for `path`, with the operating system's reason in words (and its code as `cause`). */
export function unreadableInput(path: string, cause: unknown): ClientError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason =
    typeof code === 'string' ? (OS_REASONS[code] ?? code) : cause instanceof Error ? cause.message : String(cause);
  return new ClientError('INPUT_UNREADABLE', `cannot read ${path}: ${reason}`, { cause });
}

/** The size of the regular file (or other readable non-directory) at `path`; `INPUT_UNREADABLE` otherwise. */
export async function inputSize(path: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw unreadableInput(path, cause);
  }
  if (info.isDirectory()) throw unreadableInput(path, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
  return info.size;
}

/**
 * `error` as the caller of a reading of `path` should see it: a file-level `IndicatorError` (the
 * importers read a stream and never know its name) named `path:line: reason`; anything else as it is.
 */
export function namedForFile(path: string, error: unknown): unknown {
  if (!(error instanceof IndicatorError) || error.details?.file !== undefined) return error;
  const { line, reason = error.message } = error.details ?? {};
  const place = line === undefined ? path : `${path}:${line}`;
  return new IndicatorError(error.code, `${place}: ${reason}`, {
    details: { ...error.details, file: path, reason },
    cause: error,
  });
}

/**
 * Opens `path` and reads its first bytes to choose the format (`format`, if given, wins). The
 * returned `bytes` yields those first bytes again, then the rest; the file is closed when they
 * have been read, or when the reader stops early.
 */
export async function openIndicatorSource(path: string, format?: ImportFormat): Promise<IndicatorSource> {
  const stream = createReadStream(path, { highWaterMark: FORMAT_SNIFF_BYTES });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const next = async (): Promise<IteratorResult<Buffer>> => {
    try {
      return await chunks.next();
    } catch (cause) {
      throw unreadableInput(path, cause);
    }
  };
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  try {
    while (headBytes < FORMAT_SNIFF_BYTES) {
      const step = await next();
      if (step.done) {
        ended = true;
        break;
      }
      head.push(step.value);
      headBytes += step.value.length;
    }
    const choice = chooseImportFormat(path, Buffer.concat(head).subarray(0, FORMAT_SNIFF_BYTES), format);
    const bytes = (async function* () {
      try {
        yield* head.splice(0);
        if (ended) return;
        for (let step = await next(); !step.done; step = await next()) yield step.value;
      } finally {
        stream.destroy();
      }
    })();
    return {
      format: choice.format,
      formatFrom: choice.from,
      formatReason: choice.reason,
      bytes,
      close: () => void stream.destroy(),
    };
  } catch (error) {
    stream.destroy();
    throw error;
  }
}
