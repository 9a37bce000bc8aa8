/**
 * The agent's operator listener, on a loopback address only (agent-config.ts refuses any other):
 * `GET /healthz` answers 200 `{"status":"ok",…}` while the agent runs and the relay answered its
 * last request, 503 with the reason otherwise (a relay outage, the agent stopping), so a
 * supervisor or a load balancer's probe can tell; `GET /metrics` is agent-metrics.ts. Anything
 * else is 404; only GET and HEAD are answered.
 *
 * Threat: the listener tells whoever can reach it how many sessions the lab runs. It never binds a
 * public interface, carries no session id, lab name or value, and reads no request body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentMetrics } from './agent-metrics.js';

export interface Health {
  status: 'ok' | 'degraded' | 'stopping';
  reason?: string;
  running: number;
  queued: number;
}

export interface RunningHealthServer {
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(
  listen: { host: string; port: number },
  health: () => Health,
  metrics: AgentMetrics,
): Promise<RunningHealthServer> {
  const server: Server = createServer((request, response) => {
    request.resume();
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const h = health();
      const body = `${JSON.stringify(h)}\n`;
      response.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else {
      response.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
