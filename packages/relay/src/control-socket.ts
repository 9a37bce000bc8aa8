/**
 * The running relay's control socket: a Unix socket in its home (`control.sock`, mode 0600), through
 * which a local command asks the relay to do what only the process that holds the database can do.
 * Today that is one thing: an online backup of the database (the relay holds SQLite's exclusive
 * lock, so no other process can read the file while it runs).
 *
 * The protocol is one JSON line each way per connection: `{"op":"backup","to":PATH}` and the
 * answer `{"ok":true,...}` or `{"ok":false,"code":CODE,"message":TEXT}`.
 *
 * Threat: another local user driving the relay. The socket is never reachable by anyone else, not
 * even for an instant: it is bound inside a new directory of its own (mkdtemp, 0700) in the home,
 * made 0600 there, and only then renamed to `control.sock` (a rename keeps the socket listening; a
 * socket bound in place would exist under the process's umask until a chmod). What a peer sends is
 * bounded (one line of at most 4 KiB, within 10 s) and checked before it is acted on.
 *
 * A home that other users may enter (group or world bits set) is warned about, not refused: the
 * socket's safety no longer rests on the home (above), the keys in it are 0600 whatever the home's
 * mode, and refusing would take a running forum down at its next restart over a mode its operator
 * may have chosen (a group that reads the logs, a monitoring user). The warning names the mode and
 * the chmod that closes it: the database and the blobs are readable through such a home as their
 * own modes allow (SQLite makes the database under the process's umask).
 *
 * A home whose path is too long for a Unix socket (107 bytes, with `/control.sock`) gets none,
 * with a warning: the relay serves as usual, and `overlap relay backup` cannot ask it for a copy.
 */
import { lstat, mkdtemp, rename, rm, chmod as setMode, stat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { RelayError, type RelayErrorCode } from './errors.js';

export const CONTROL_SOCKET_NAME = 'control.sock';

/** Longest Unix socket path Linux takes (sun_path is 108 bytes with its NUL); Node cuts longer ones silently. */
const MAX_SOCKET_PATH_BYTES = 107;
const MAX_REQUEST_BYTES = 4096;
const REQUEST_TIMEOUT_MS = 10_000;

export interface BackupRequest {
  op: 'backup';
  /** An existing empty file, by absolute path, that the relay fills with the copy of its database. */
  to: string;
}

export type ControlRequest = BackupRequest;

export type ControlAnswer = { ok: true; pages: number } | { ok: false; code: RelayErrorCode; message: string };

export interface ControlHandlers {
  /** Copies the database into `to`; resolves with the number of pages copied. */
  backup(to: string): Promise<number>;
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

export interface ControlSocketOptions {
  /** Told what the operator should know: no socket (its path is too long), a home others may enter. */
  onWarning(message: string): void;
}

/** The control socket's path in a relay home. */
export function controlSocketPath(homeDirectory: string): string {
  return join(homeDirectory, CONTROL_SOCKET_NAME);
}

/** Whether a Unix socket may be bound at `path` (Node would cut a longer one short, silently). */
export function fitsSocketPath(path: string): boolean {
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES;
}

/**
 * Listens on `path`; undefined, with a warning, when the path is too long for a Unix socket. A
 * socket file left by a relay that was killed is replaced: the caller holds the database's lock, so
 * no live relay of this home can be listening on it.
 */
export async function listenControlSocket(
  path: string,
  handlers: ControlHandlers,
  options: ControlSocketOptions,
): Promise<ControlSocket | undefined> {
  const home = dirname(path);
  await warnIfOpen(home, options);
  if (!fitsSocketPath(path)) {
    options.onWarning(
      `no control socket: its path ${path} is ${Buffer.byteLength(path)} bytes, and a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES}; ` +
        "the relay serves as usual, but `overlap relay backup` cannot copy it while it runs (stop the relay to back it up, or move the relay's home to a shorter path)",
    );
    return undefined;
  }
  await refuseNonSocket(path);
  // A new private directory, of a name shorter than `control.sock`: the bound path fits too.
  const staging = await mkdtemp(join(home, '.c')).catch((cause: NodeJS.ErrnoException) => {
    throw new RelayError(
      'LISTEN_FAILED',
      `cannot make a private directory for the control socket in ${home}: ${cause.code ?? cause.message}`,
      { cause },
    );
  });
  const server = createServer((socket) => serveOne(socket, handlers));
  try {
    await setMode(staging, 0o700);
    const bound = join(staging, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound, () => resolve());
    });
    await setMode(bound, 0o600);
    await rename(bound, path);
  } catch (cause) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new RelayError('LISTEN_FAILED', `cannot listen on the control socket ${path}: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    path,
    close: () => closeServer(server, path),
  };
}

/** Warns when users other than the relay's may enter its home (see the module's comment for why not refused). */
async function warnIfOpen(home: string, options: ControlSocketOptions): Promise<void> {
  const mode = (await stat(home)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const shown = mode.toString(8).padStart(4, '0');
  options.onWarning(
    `the relay's home ${home} is mode ${shown}: other users may enter it and read what its files' modes allow (the database, the blobs); chmod 700 ${home}`,
  );
}

/** A stale socket is replaced by the rename; anything else at the path is the operator's, and refused. */
async function refuseNonSocket(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch {
    return;
  }
  if (!stats.isSocket()) {
    throw new RelayError('BAD_CONFIG', `${path} exists and is not a socket; remove it (the relay listens there)`);
  }
}

async function closeServer(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await unlink(path).catch(() => {});
}

function serveOne(socket: Socket, handlers: ControlHandlers): void {
  let received = '';
  const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
  const answer = (value: ControlAnswer) => {
    clearTimeout(timer);
    socket.end(`${JSON.stringify(value)}\n`);
  };
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    if (received.includes('\n')) return;
    received += chunk.toString('utf8');
    // The request comes from a local peer: bound it before acting on it.
    if (received.length > MAX_REQUEST_BYTES) {
      answer({ ok: false, code: 'BAD_REQUEST', message: `a control request is at most ${MAX_REQUEST_BYTES} bytes` });
      return;
    }
    const end = received.indexOf('\n');
    if (end < 0) return;
    clearTimeout(timer);
    const request = parseRequest(received.slice(0, end));
    if ('problem' in request) {
      answer({ ok: false, code: 'BAD_REQUEST', message: request.problem });
      return;
    }
    handlers.backup(request.to).then(
      (pages) => answer({ ok: true, pages }),
      (error: unknown) =>
        answer(
          error instanceof RelayError
            ? { ok: false, code: error.code, message: error.message }
            : { ok: false, code: 'INTERNAL', message: `the relay failed: ${(error as Error)?.message ?? error}` },
        ),
    );
  });
}

function parseRequest(line: string): ControlRequest | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'a control request is one JSON object on one line' };
  }
  if (typeof value !== 'object' || value === null) return { problem: 'a control request is a JSON object' };
  const { op, to } = value as Record<string, unknown>;
  if (op !== 'backup') return { problem: `unknown control operation ${JSON.stringify(op)?.slice(0, 40)}` };
  if (typeof to !== 'string' || !to.startsWith('/')) return { problem: 'backup needs "to": an absolute path' };
  return { op, to };
}

/**
 * Sends one request to the relay listening on `path`. Resolves undefined when no relay listens
 * there (no socket, one left by a relay that stopped, or a path too long for a socket); otherwise
 * with the relay's answer.
 */
export async function askRelay(path: string, request: ControlRequest): Promise<ControlAnswer | undefined> {
  // A relay never listens at a path too long for a socket; a cut-short one could be anything's.
  if (!fitsSocketPath(path)) return undefined;
  return new Promise((resolve, reject) => {
    let received = '';
    let connected = false;
    const socket = createConnection(path, () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')) {
        resolve(undefined);
        return;
      }
      const hint = error.code === 'EACCES' ? ": run this as the relay's user" : '';
      reject(
        new RelayError(
          'BACKUP_FAILED',
          `cannot use the relay's control socket ${path} (${error.code ?? error.message})${hint}`,
          {
            cause: error,
          },
        ),
      );
    });
    socket.on('close', () => {
      if (!connected) return;
      const line = received.split('\n')[0] ?? '';
      try {
        resolve(JSON.parse(line) as ControlAnswer);
      } catch {
        reject(new RelayError('BACKUP_FAILED', `the relay closed its control socket ${path} without an answer`));
      }
    });
  });
}
