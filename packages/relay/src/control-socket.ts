/**
 * The running relay's control socket: a Unix socket in its home (`control.sock`, mode 0600 in the
 * 0700 home), through which a local command asks the relay to do what only the process that holds
 * the database can do. Today that is one thing: an online backup of the database (the relay holds
 * SQLite's exclusive lock, so no other process can read the file while it runs).
 *
 * The protocol is one JSON line each way per connection: `{"op":"backup","to":PATH}` and the
 * answer `{"ok":true,...}` or `{"ok":false,"code":CODE,"message":TEXT}`.
 *
 * Threat: another local user driving the relay. The socket is reachable only through the home,
 * which only the relay's user may enter, and is itself 0600; what a peer sends is bounded (one line
 * of at most 4 KiB, within 10 s) and checked before it is acted on.
 */
import { lstat, chmod as setMode, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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

/** The control socket's path in a relay home. */
export function controlSocketPath(homeDirectory: string): string {
  return join(homeDirectory, CONTROL_SOCKET_NAME);
}

/**
 * Listens on `path`. A socket file left by a relay that was killed is removed first: the caller
 * holds the database's lock, so no live relay of this home can be listening on it.
 */
export async function listenControlSocket(path: string, handlers: ControlHandlers): Promise<ControlSocket> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new RelayError(
      'BAD_CONFIG',
      `the control socket path ${path} is ${Buffer.byteLength(path)} bytes; a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES}: move the relay's home to a shorter path`,
    );
  }
  await removeStaleSocket(path);
  const server = createServer((socket) => serveOne(socket, handlers));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new RelayError('LISTEN_FAILED', `cannot listen on the control socket ${path}: ${cause.message}`, { cause }),
      ),
    );
    server.listen(path, () => resolve());
  });
  await setMode(path, 0o600);
  return {
    path,
    close: () => closeServer(server, path),
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch {
    return;
  }
  if (!stats.isSocket()) {
    throw new RelayError('BAD_CONFIG', `${path} exists and is not a socket; remove it (the relay listens there)`);
  }
  await unlink(path);
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
 * there (no socket, or one left by a relay that stopped); otherwise with the relay's answer.
 */
export async function askRelay(path: string, request: ControlRequest): Promise<ControlAnswer | undefined> {
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
