/**
 * The relay's HTTP server on node:http (chosen over Fastify and Hono by measurement: DESIGN.md and
 * the relay issue). For now it answers `GET /healthz`; every other path is a 404 and every other
 * method on a known path a 405 with `Allow`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { RelayError } from './errors.js';

export interface RelayServerOptions {
  /** Interface to listen on; loopback unless the operator says otherwise. */
  host?: string;
  /** TCP port; 0 picks a free one (tests use that). */
  port?: number;
}

export interface RelayServer {
  /** Base URL the relay is reachable at, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  close(): Promise<void>;
}

export const RELAY_VERSION = '0.1.0';

export async function startRelayServer(options: RelayServerOptions = {}): Promise<RelayServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelayError('BAD_LISTEN_ADDRESS', `port must be an integer from 0 to 65535, got ${port}`);
  }
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(new RelayError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${cause.message}`, { cause })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = isIP(host) === 6 ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${boundPort}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://relay.invalid').pathname;
  if (path !== '/healthz') {
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendJson(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} ${path}` } });
    return;
  }
  sendJson(response, 200, { status: 'ok', version: RELAY_VERSION });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
  response.end(bytes);
}
