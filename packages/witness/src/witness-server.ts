/**
 * The witness's HTTP interface (C2SP tlog-witness v1): `POST <prefix>/add-checkpoint`, with the
 * prefix `/` here, and `GET /healthz`. The protocol authenticates nothing but the checkpoint's
 * signature, so the server takes requests from anyone and keeps each one cheap: bodies of at most
 * 64 KiB (a request is a few lines and a note of at most 100 signatures), read with a deadline,
 * a cap on connections, and the work of a judgement is a few signature checks and hashes.
 *
 *   200  text/plain    the cosignature lines
 *   409  text/x.tlog.size   the size of the checkpoint last cosigned
 *   400, 403, 404, 405, 413, 422, 503   text/plain: one line saying why
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Witness, WitnessAnswer } from './witness.js';

export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;
const MAX_CONNECTIONS = 256;
const REQUEST_TIMEOUT_MS = 10_000;

export interface WitnessServerOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface RunningWitnessServer {
  /** The base URL, e.g. `http://127.0.0.1:7380`. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startWitnessServer(
  witness: Witness,
  options: WitnessServerOptions = {},
): Promise<RunningWitnessServer> {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    void handle(witness, request).then(
      (answer) => send(response, answer),
      () => send(response, plain(500, 'the witness failed to answer')),
    );
  };
  const server: Server = options.tls
    ? (createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) as unknown as Server)
    : createHttpServer(handler);
  server.maxConnections = MAX_CONNECTIONS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(witness: Witness, request: IncomingMessage): Promise<WitnessAnswer> {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    return request.method === 'GET' ? plain(200, 'ok') : plain(405, 'use GET');
  }
  if (path !== '/add-checkpoint') {
    request.resume();
    return plain(404, `no such endpoint ${JSON.stringify(path)}: the witness has POST /add-checkpoint`);
  }
  if (request.method !== 'POST') {
    request.resume();
    return plain(405, 'add-checkpoint takes POST');
  }
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > MAX_ADD_CHECKPOINT_BYTES) {
    request.resume();
    return plain(413, `a request body is at most ${MAX_ADD_CHECKPOINT_BYTES} bytes`);
  }
  const body = await readBody(request);
  if (body === undefined) return plain(413, `a request body is at most ${MAX_ADD_CHECKPOINT_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return plain(400, 'the request body is not UTF-8');
  }
  return witness.addCheckpoint(text);
}

/** The body, or undefined past the limit (the rest is not read). */
function readBody(request: IncomingMessage): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_ADD_CHECKPOINT_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function send(response: ServerResponse, answer: WitnessAnswer): void {
  if (response.headersSent) return;
  response.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    'cache-control': 'no-store',
  });
  response.end(answer.body);
}

function plain(status: number, message: string): WitnessAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
}
