/**
 * The operator's listener: `GET /metrics` (Prometheus text) on an address of its own, apart from
 * the public API. Metrics count requests by route and the bytes received; on the public listener an
 * outsider polling them during a session could read a lab's set size from the bytes a single
 * upload added (spec/relay-api.md §3.1). So they are served only here, on loopback unless the
 * operator says otherwise, for the forum's monitoring, and the public listener has no `/metrics`.
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { RelayError } from '../errors.js';

export interface OperatorListenerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

export interface OperatorListener {
  /** e.g. `http://127.0.0.1:9787`; `GET <url>/metrics`. */
  url: string;
  close(): Promise<void>;
}

export async function listenOperator(
  options: OperatorListenerOptions,
  metricsText: () => string,
): Promise<OperatorListener> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    request.resume();
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('the operator listener has GET /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('use GET\n');
      return;
    }
    const text = metricsText();
    response.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  });
  server.maxConnections = 64;
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new RelayError('LISTEN_FAILED', `cannot listen for metrics on ${host}:${options.port}: ${cause.message}`, {
          cause,
        }),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
