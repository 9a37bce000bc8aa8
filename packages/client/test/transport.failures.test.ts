/**
 * What a lab is told when its requests fail, against real servers on loopback: an HTTP answer is
 * never "no answer" (the relay's status, code and message are named, and kept on the error); a
 * network failure names the OS's reason; `https://` against plain HTTP, and a certificate the lab
 * does not trust, are final TLS_FAILED errors after one attempt, with what to change; `http://`
 * against HTTPS hints at `https://`. The HTTPS servers use a CA and certificates the test makes
 * (test/support/test-certificates.ts); NODE_EXTRA_CA_CERTS is tried in a child process, as a lab
 * would set it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeDeterministic } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClientError, RelayClient } from '../src/index.js';
import type { RetryInfo } from '../src/retry.js';
import { makeTestCa, type Pem, selfSignedCertificate, type TestCa } from './support/test-certificates.js';

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
const servers: (Server | TcpServer)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'overlap-transport-'));
afterAll(async () => {
  for (const server of servers) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  rmSync(dir, { recursive: true, force: true });
});

async function listen<T extends Server | TcpServer>(server: T): Promise<{ server: T; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  servers.push(server);
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { server, port: address.port };
}

/** Answers every request with `status` and the relay's CBOR error body; counts the requests. */
async function answering(status: number, code: string, message: string) {
  let requests = 0;
  const { port } = await listen(
    createHttpServer((_, res) => {
      requests++;
      res.writeHead(status, { 'content-type': 'application/cbor' });
      res.end(encodeDeterministic({ error: { code, message } }));
    }),
  );
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

/** A port nothing listens on: bind one, note it, release it. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(createTcpServer());
  servers.splice(servers.indexOf(server), 1);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts and closes every connection at once; counts them. */
async function hangingUp() {
  let connections = 0;
  const { port } = await listen(
    createTcpServer((socket) => {
      connections++;
      socket.destroy();
    }),
  );
  return { port, connections: () => connections };
}

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

describe('an HTTP answer is named, never "no answer"', () => {
  test('500 on every attempt: status, relay code and message, on all N attempts', async () => {
    const relay = await answering(500, 'INTERNAL', 'the lab id is not valid');
    const error = await failure(new RelayClient({ url: relay.url, retry: fast }).relayInfo());
    expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE', status: 500, relayCode: 'INTERNAL' });
    expect(error.message).toBe(
      `GET /v1/relay: the relay at ${new URL(relay.url).host} answered HTTP 500 INTERNAL (the lab id is not valid) on all 4 attempts (${/\((\d+\.\d) s\)$/.exec(error.message)?.[1]} s)`,
    );
    expect(error.message).not.toMatch(/no answer/);
    expect(relay.requests()).toBe(4);
  });

  test('503 then refused connections: each counted, never "no answer" for all of them', async () => {
    const relay = await answering(503, 'UNAVAILABLE', 'shutting down');
    const port = Number(new URL(relay.url).port);
    let calls = 0;
    const seen: RetryInfo[] = [];
    const client = new RelayClient({
      url: relay.url,
      retry: {
        ...fast,
        onRetry: (info) => {
          seen.push(info);
          // After the first answer the relay goes away: every later attempt is refused.
          if (++calls === 1) for (const server of servers.filter((s) => portOf(s) === port)) closeNow(server);
        },
      },
    });
    const error = await failure(client.relayInfo());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.status).toBeUndefined();
    // The second attempt may meet the kept-alive connection as it closes (a hang-up).
    expect(error.message).toMatch(
      /^GET \/v1\/relay: the relay at 127\.0\.0\.1:\d+ failed all 4 attempts \(\d+\.\d s\): 1 answered HTTP 503 UNAVAILABLE \(shutting down\), (3 got no answer \(connection refused \(ECONNREFUSED\)\)|1 got no answer \(the relay hung up \(UND_ERR_SOCKET\)\), 2 got no answer \(connection refused \(ECONNREFUSED\)\)); the last got no answer \(connection refused \(ECONNREFUSED\)\)$/,
    );
    expect(error.message).not.toMatch(/no answer from/);
    // The third attempt finds nothing listening.
    expect(seen.map((s) => s.reason)).toEqual([
      'HTTP 503 UNAVAILABLE',
      expect.stringMatching(/^(connection refused \(ECONNREFUSED\)|the relay hung up \(UND_ERR_SOCKET\))$/),
      'connection refused (ECONNREFUSED)',
    ]);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    for (const info of seen) {
      expect(info.what).toBe('GET /v1/relay');
      expect(info.delayMs).toBeGreaterThanOrEqual(0);
      expect(info.delayMs).toBeLessThanOrEqual(5);
    }
  });

  test('with maxElapsedMs, retries go on past 8 attempts until the time is spent', async () => {
    const relay = await answering(503, 'UNAVAILABLE', 'restarting');
    const started = performance.now();
    const retry = { baseDelayMs: 1, maxDelayMs: 10, maxElapsedMs: 400 };
    const error = await failure(new RelayClient({ url: relay.url, retry }).relayInfo());
    // The last attempt starts no later than 400 ms after the first, and the retries stop only then.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(relay.requests()).toBeGreaterThan(8);
    expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE', status: 503, relayCode: 'UNAVAILABLE' });
    expect(error.message).toContain(`answered HTTP 503 UNAVAILABLE (restarting) on all ${relay.requests()} attempts`);
  });

  test('an answer whose body is cut short: the status is named, and that its body could not be read', async () => {
    let requests = 0;
    const { port } = await listen(
      createHttpServer((_, res) => {
        requests++;
        // A status line and part of the body it announces, then the connection goes.
        res.writeHead(200, { 'content-type': 'application/cbor', 'content-length': '100' });
        res.write(Buffer.alloc(10));
        setImmediate(() => res.socket?.destroy());
      }),
    );
    const seen: RetryInfo[] = [];
    const client = new RelayClient({
      url: `http://127.0.0.1:${port}`,
      retry: { ...fast, onRetry: (i) => seen.push(i) },
    });
    const error = await failure(client.relayInfo());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.message).toMatch(
      new RegExp(
        `^GET /v1/relay: the relay at 127\\.0\\.0\\.1:${port} answered HTTP 200, but its body could not be read: (the relay hung up \\(UND_ERR_SOCKET\\)|the connection was reset \\(ECONNRESET\\)) on all 4 attempts \\(\\d+\\.\\d s\\)$`,
      ),
    );
    expect(error.message).not.toMatch(/no answer/);
    expect(seen.map((s) => s.reason)).toEqual(
      Array(3).fill(expect.stringMatching(/^HTTP 200, but its body could not be read: /)),
    );
    expect(requests).toBe(4);
  });

  test('a 4xx is final and never retried (RELAY_REFUSED)', async () => {
    const relay = await answering(403, 'NOT_ENROLLED', 'key is not enrolled');
    const error = await failure(new RelayClient({ url: relay.url, retry: fast }).relayInfo());
    expect(error).toMatchObject({ code: 'RELAY_REFUSED', status: 403, relayCode: 'NOT_ENROLLED' });
    expect(relay.requests()).toBe(1);
  });
});

describe('no answer: the reason, from the OS', () => {
  test('nothing listening: connection refused (ECONNREFUSED)', async () => {
    const port = await closedPort();
    const error = await failure(new RelayClient({ url: `http://127.0.0.1:${port}`, retry: fast }).relayInfo());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.message).toMatch(/after 4 attempts .*: connection refused \(ECONNREFUSED\)$/);
    expect((error.cause as Error).message).toBe('fetch failed');
  });

  test('a host that does not exist: host not found, and a hint to check the name', async () => {
    const error = await failure(new RelayClient({ url: 'http://relay.invalid', retry: { attempts: 1 } }).relayInfo());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.message).toMatch(
      /relay\.invalid after 1 attempt \(.*\): host (not found|name lookup failed for now) \((ENOTFOUND|EAI_AGAIN)\); check the host name/,
    );
  });

  test('a server that hangs up on http://: the hang-up named, with a hint at https://', async () => {
    const server = await hangingUp();
    const url = `http://127.0.0.1:${server.port}`;
    const error = await failure(new RelayClient({ url, retry: fast }).relayInfo());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.message).toMatch(/: the relay hung up \(UND_ERR_SOCKET\)|: the connection was reset \(ECONNRESET\)/);
    expect(error.message).toMatch(new RegExp(`if the relay serves HTTPS, use https://127\\.0\\.0\\.1:${server.port}$`));
    expect(server.connections()).toBe(4);
  });

  test('fetch refuses a blocked port at once: BAD_RELAY_URL, one attempt', async () => {
    const error = await failure(new RelayClient({ url: 'http://127.0.0.1:6000', retry: fast }).relayInfo());
    expect(error.code).toBe('BAD_RELAY_URL');
    expect(error.message).toMatch(/blocked port/);
  });
});

describe('TLS mistakes are named, and final', () => {
  let ca: TestCa;
  let https: { port: number; requests: () => number };
  let caFile: string;
  beforeAll(async () => {
    ca = await makeTestCa();
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.cert);
    https = await httpsServer(await ca.issue(['127.0.0.1', 'localhost']));
  });

  test('https:// against plain HTTP: "does not speak TLS", use http://, after one attempt', async () => {
    const relay = await answering(200, 'OK', '');
    const port = new URL(relay.url).port;
    const seen: RetryInfo[] = [];
    const error = await failure(
      new RelayClient({
        url: `https://127.0.0.1:${port}`,
        retry: { ...fast, onRetry: (i) => seen.push(i) },
      }).relayInfo(),
    );
    expect(error.code).toBe('TLS_FAILED');
    expect(error.message).toBe(
      `GET /v1/relay: the relay at 127.0.0.1:${port} does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER): use http://127.0.0.1:${port} or serve HTTPS (relay serve --tls-cert/--tls-key)`,
    );
    expect(seen).toEqual([]);
    expect(relay.requests()).toBe(0);
  });

  test('a certificate from a CA the lab does not trust: named, with NODE_EXTRA_CA_CERTS, after one attempt', async () => {
    const before = https.requests();
    const error = await failure(new RelayClient({ url: `https://127.0.0.1:${https.port}`, retry: fast }).checkpoint());
    expect(error.code).toBe('TLS_FAILED');
    expect(error.message).toMatch(
      /does not trust: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); a private CA is trusted with NODE_EXTRA_CA_CERTS=ca\.pem$/,
    );
    expect(https.requests()).toBe(before);
  });

  test('a self-signed server certificate: named as untrusted (DEPTH_ZERO_SELF_SIGNED_CERT)', async () => {
    const self = await httpsServer(await selfSignedCertificate(['127.0.0.1']));
    const error = await failure(new RelayClient({ url: `https://127.0.0.1:${self.port}`, retry: fast }).checkpoint());
    expect(error.code).toBe('TLS_FAILED');
    expect(error.message).toMatch(/\(DEPTH_ZERO_SELF_SIGNED_CERT\); a private CA is trusted with NODE_EXTRA_CA_CERTS/);
  });

  test('http:// against HTTPS: the server hangs up; after the retries, a hint at https://', async () => {
    const error = await failure(new RelayClient({ url: `http://127.0.0.1:${https.port}`, retry: fast }).checkpoint());
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(error.message).toMatch(/after 4 attempts/);
    expect(error.message).toMatch(new RegExp(`if the relay serves HTTPS, use https://127\\.0\\.0\\.1:${https.port}$`));
  });

  test('NODE_EXTRA_CA_CERTS=ca.pem trusts the private CA (in a lab process started with it)', async () => {
    const outcome = await probe(`https://127.0.0.1:${https.port}`, caFile);
    expect(outcome).toEqual({ ok: true, body: 'a checkpoint note\n' });
    // Without it, the same process is refused.
    expect(await probe(`https://127.0.0.1:${https.port}`)).toMatchObject({ ok: false, code: 'TLS_FAILED' });
  });

  test('with the CA trusted: an expired certificate, and one for another host, are named', async () => {
    const day = 24 * 3_600_000;
    const expired = await httpsServer(
      await ca.issue(['127.0.0.1'], {
        notBefore: new Date(Date.now() - 10 * day),
        notAfter: new Date(Date.now() - day),
      }),
    );
    const otherHost = await httpsServer(await ca.issue(['relay.example']));
    const [old, wrong] = await Promise.all([
      probe(`https://127.0.0.1:${expired.port}`, caFile),
      probe(`https://127.0.0.1:${otherHost.port}`, caFile),
    ]);
    expect(old).toMatchObject({ ok: false, code: 'TLS_FAILED' });
    expect(old.message).toMatch(/its certificate has expired \(CERT_HAS_EXPIRED\); the forum must renew it/);
    expect(wrong).toMatchObject({ ok: false, code: 'TLS_FAILED' });
    expect(wrong.message).toMatch(
      /the certificate of the relay at 127\.0\.0\.1:\d+ is not for 127\.0\.0\.1: .*\(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    );
  });
});

/** An HTTPS server answering every request with a checkpoint-like text; counts the requests. */
async function httpsServer(pem: Pem) {
  let requests = 0;
  const { port } = await listen(
    createHttpsServer({ cert: pem.cert, key: pem.key }, (_, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('a checkpoint note\n');
    }),
  );
  return { port, requests: () => requests };
}

/** One checkpoint read by a lab process started with NODE_EXTRA_CA_CERTS=`caFile` (or without it). */
async function probe(
  url: string,
  caFile?: string,
): Promise<{ ok: boolean; code?: string; message?: string; body?: string }> {
  const child = join(import.meta.dirname, 'support', 'tls-probe-child.ts');
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  if (caFile !== undefined) env.NODE_EXTRA_CA_CERTS = caFile;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=@overlap/source', child, url],
    { env, cwd: join(import.meta.dirname, '..', '..', '..'), timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

function portOf(server: Server | TcpServer): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}

function closeNow(server: Server | TcpServer): void {
  servers.splice(servers.indexOf(server), 1);
  if ('closeAllConnections' in server) server.closeAllConnections();
  server.close();
}
