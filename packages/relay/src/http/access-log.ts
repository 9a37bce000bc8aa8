/**
 * The relay's access log: one JSON line per request, written when the response is done (or the
 * connection went away first). Each line holds only what the operator needs to see traffic and
 * what is public anyway: the time, the peer's address, the method, the request target (path and
 * query), the status, the relay's error code, the byte counts, the duration and the key id of a
 * signature that verified.
 *
 * Threat: a log that leaks. Bodies (tags, envelopes), headers (signatures, digests, nonces) and
 * error messages are never written; a key id is written only once its signature verified, so a
 * peer cannot plant text in the log through a claimed keyid. The target comes from the peer: it is
 * cut to a bounded length, and JSON encoding escapes control characters, so it cannot forge lines.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { RelayError } from '../errors.js';

/** One request, as logged. Names are snake_case: the line is for log tools, not for TypeScript. */
export interface AccessLogRecord {
  /** When the request arrived, ISO 8601 UTC with milliseconds. */
  time: string;
  /** The peer's IP address (the proxy's, behind a reverse proxy). */
  remote: string;
  method: string;
  /** The request target, path and query, as sent (cut to 2,048 characters). */
  path: string;
  /** The status sent; 0 when the connection closed before any response. */
  status: number;
  /** The relay's error code (spec/errors.md), on error answers. */
  code?: string;
  bytes_in: number;
  bytes_out: number;
  ms: number;
  /** The key id of the request's signature, once it verified. */
  keyid?: string;
  /** The response did not finish: the peer went away, or the relay cut the connection. */
  incomplete?: true;
}

/** Where access lines go: a file path, or a function that takes each line (with its newline). */
export type AccessLogTarget = string | ((line: string) => void);

export interface AccessLog {
  write(record: AccessLogRecord): void;
  /** Flushes what is buffered and closes the file. */
  close(): Promise<void>;
}

const MAX_TARGET_CHARS = 2048;

/** The request target as logged: bounded, since it comes from the peer. */
export function loggedTarget(target: string): string {
  return target.length > MAX_TARGET_CHARS ? `${target.slice(0, MAX_TARGET_CHARS)}…` : target;
}

export function formatAccessLine(record: AccessLogRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * Opens the access log. A file is opened for appending only (O_APPEND: every line lands at the end,
 * whoever else appends, and logrotate's copytruncate works), created 0600; an existing file with
 * wider permissions is narrowed to 0600, since the lines name who talked to the relay and when.
 */
export async function openAccessLog(target: AccessLogTarget): Promise<AccessLog> {
  if (typeof target === 'function') {
    return { write: (record) => target(formatAccessLine(record)), close: async () => {} };
  }
  try {
    const handle = await open(target, 'a', 0o600);
    const { mode } = await handle.stat();
    await handle.close();
    if ((mode & 0o077) !== 0) await chmod(target, 0o600);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new RelayError('ACCESS_LOG_FAILED', `cannot open the access log ${target} for appending (${reason})`, {
      cause,
    });
  }
  return new FileAccessLog(target, createWriteStream(target, { flags: 'a', mode: 0o600 }));
}

/**
 * Lines to a file through one write stream (buffered, off the event loop). A failed write (a full
 * disk, a file system gone read-only) does not stop the relay, which goes on answering: it is said
 * on stderr at once, and the number of lines lost since is said when the relay stops.
 */
class FileAccessLog implements AccessLog {
  readonly #path: string;
  readonly #stream: WriteStream;
  #lost = 0;
  #failing = false;

  constructor(path: string, stream: WriteStream) {
    this.#path = path;
    this.#stream = stream;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.#lost++;
      if (this.#failing) return;
      this.#failing = true;
      process.stderr.write(
        `overlap relay: the access log ${this.#path} cannot be written (${error.code ?? error.message}); its lines are lost until it can\n`,
      );
    });
  }

  write(record: AccessLogRecord): void {
    if (this.#stream.destroyed) {
      this.#lost++;
      return;
    }
    this.#stream.write(formatAccessLine(record));
  }

  async close(): Promise<void> {
    if (this.#stream.destroyed) {
      if (this.#lost > 0) process.stderr.write(`overlap relay: ${this.#lost} access log line(s) were lost\n`);
      return;
    }
    await new Promise<void>((resolve) => this.#stream.end(resolve));
  }
}
