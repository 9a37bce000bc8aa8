/**
 * The relay's HTTP server on node:http (chosen over Fastify and Hono by measurement: ~13k small
 * CBOR POSTs/s against ~9k and ~2.7k on the project's machine). It opens the relay's home, rebuilds
 * its state from the log, and serves the routes of routes.ts: writes through the relay core
 * (relay.ts), answers from the read model (store/read-model.ts). Every error is answered with its
 * status and a typed code (errors.ts, spec/errors.md) — whatever the peer sends, a 4xx, never a
 * 5xx or a crash; every request is counted in the metrics.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { sha256 } from '@overlap/crypto';
import { ed25519NoteSigner, formatVerifierKey } from '@overlap/log';
import { isHttpErrorCode, RelayError } from './errors.js';
import { authenticate } from './http/auth.js';
import { InboxWaiters } from './http/inbox-waiters.js';
import { errorPayload, readBody, sendPayload, statusOf } from './http/io.js';
import { Metrics } from './http/metrics.js';
import { openApiDocument } from './http/openapi.js';
import { type RelayServices, RouteContext } from './http/route-context.js';
import { matchRoute } from './http/routes.js';
import { DEFAULT_LIMITS, RateLimiter, type RelayLimits } from './limits.js';
import { Membership } from './membership.js';
import { RelayCore } from './relay.js';
import { openRelayHome } from './relay-home.js';
import { BlobFiles } from './store/blob-files.js';
import { LogWriter } from './store/log-writer.js';
import { ReadModel } from './store/read-model.js';
import { loadTree, replayLog } from './store/recovery.js';
import { committedEnvelopeReader } from './store/stored-tag-archive.js';

export const RELAY_VERSION = '0.1.0';

export interface RelayServerOptions {
  /** The relay's database file (its home is the directory around it). Default `.overlap/relay.db`. */
  db?: string;
  /** Interface to listen on; loopback unless the operator says otherwise. */
  host?: string;
  /** TCP port; 0 picks a free one (tests use that). Default 8787. */
  port?: number;
  /** The base URL clients use (and sign); default `http://HOST:PORT`. */
  publicUrl?: string;
  limits?: Partial<RelayLimits>;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

export interface RelayServer {
  /** Base URL the relay is reachable at, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly origin: string;
  /** The log's verifier key (C2SP vkey). */
  readonly vkey: string;
  readonly relayKeyId: string;
  readonly core: RelayCore;
  close(): Promise<void>;
}

export async function startRelayServer(options: RelayServerOptions = {}): Promise<RelayServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelayError('BAD_LISTEN_ADDRESS', `port must be an integer from 0 to 65535, got ${port}`);
  }
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const home = await openRelayHome(options.db);
  const { db, relayKeys } = home;
  try {
    const tree = loadTree(db);
    const blobs = new BlobFiles(home.blobsDir);
    const waiters = new InboxWaiters();
    const identity = {
      keyId: relayKeys.keyId,
      publicKey: relayKeys.signing.publicKey,
      secretKey: relayKeys.signing.secretKey,
      origin: home.origin,
    };
    const writer = new LogWriter({
      db,
      blobs,
      tree,
      signer: ed25519NoteSigner(home.origin, relayKeys.signing.secretKey),
      origin: home.origin,
      now,
      onCommitted: (items) => waiters.notify(items.map((i) => `${i.session}|${i.lab}`)),
    });
    const membership = new Membership(home.adminPublicKey);
    const readEnvelope = committedEnvelopeReader(db, blobs);
    const core = new RelayCore({ writer, membership, identity, limits, now, readEnvelope });
    await replayLog(core, db, blobs, membership);
    const reads = new ReadModel({
      db,
      blobs,
      tree,
      writer,
      membership,
      sessions: core.sessions,
      identity: core.identity,
      limits,
    });
    return await listen({
      host,
      port,
      publicUrl: options.publicUrl,
      core,
      reads,
      waiters,
      limits,
      close: () => {
        core.stopDeadlines();
        db.close();
        relayKeys.dispose();
      },
    });
  } catch (error) {
    db.close();
    relayKeys.dispose();
    throw error;
  }
}

interface ListenOptions {
  host: string;
  port: number;
  publicUrl: string | undefined;
  core: RelayCore;
  reads: ReadModel;
  waiters: InboxWaiters;
  limits: RelayLimits;
  close: () => void;
}

async function listen(o: ListenOptions): Promise<RelayServer> {
  const metrics = new Metrics();
  const rateLimiter = new RateLimiter(o.limits.rate);
  let closing = false;
  const services: RelayServices = {
    core: o.core,
    reads: o.reads,
    waiters: o.waiters,
    openapi: () => openApiDocument(RELAY_VERSION),
    metricsText: () => metrics.render({ logSize: o.reads.latest.size, sessions: o.reads.sessionCounts() }),
    health: () => {
      if (closing) throw new RelayError('UNAVAILABLE', 'the relay is shutting down');
      return { status: 'ok', version: RELAY_VERSION };
    },
  };
  let baseUrl = '';
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  // A backstop behind readBody's own timer, for requests whose headers never finish.
  server.requestTimeout = o.limits.requestTimeoutMs + 5_000;
  server.headersTimeout = Math.min(o.limits.requestTimeoutMs, 60_000);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The request target comes from the peer: a target the URL parser refuses is a 400, not a crash.
    const target = request.url ?? '/';
    const url = URL.canParse(target, 'http://relay.invalid') ? new URL(target, 'http://relay.invalid') : null;
    const json = url?.pathname === '/healthz' || url?.pathname === '/openapi.json';
    let routeName = 'unmatched';
    const aborted = new AbortController();
    response.once('close', () => aborted.abort());
    try {
      if (closing) throw new RelayError('UNAVAILABLE', 'the relay is shutting down');
      if (url === null) throw new RelayError('BAD_REQUEST', 'the request target is not a valid path');
      const match = matchRoute(request.method ?? '', url.pathname);
      if (!match) throw new RelayError('NOT_FOUND', `no route for ${url.pathname}`);
      if ('allow' in match) {
        response.setHeader(
          'Allow',
          match.allow.includes('GET') ? [...match.allow, 'HEAD'].join(', ') : match.allow.join(', '),
        );
        throw new RelayError('METHOD_NOT_ALLOWED', `${request.method} ${url.pathname}`);
      }
      const { route, params } = match;
      routeName = route.path;
      const isWrite = route.method === 'POST';
      if (isWrite && request.headers['content-type']?.split(';')[0]?.trim() !== 'application/cbor') {
        throw new RelayError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/cbor');
      }
      const body = await readBody(request, o.limits.maxBodyBytes, o.limits.requestTimeoutMs);
      metrics.bytesIn += body.length;
      // One SHA-256 of the body serves the Content-Digest check and the envelope's hash.
      const bodySha256 = isWrite ? sha256(body) : undefined;
      let auth: ReturnType<typeof authenticate> | undefined;
      if (route.auth !== 'none') {
        auth = authenticate(o.core, request, baseUrl, body, {
          write: isWrite,
          clockSkewSeconds: o.limits.clockSkewSeconds,
          ...(bodySha256 && { bodySha256 }),
        });
        if (route.auth === 'admin' && !auth.isAdmin)
          throw new RelayError('NOT_ADMIN', 'only the admin key may do this');
        const wait = rateLimiter.take(auth.keyId, Date.now());
        if (wait > 0)
          throw new RelayError('RATE_LIMITED', `too many requests from ${auth.keyId}`, { retryAfter: wait });
      }
      const opened = isWrite ? o.core.open(body, bodySha256) : undefined;
      const context = new RouteContext(services, params, url.searchParams, opened, auth, aborted.signal);
      const payload = await route.handle(context);
      if (!response.headersSent && !response.destroyed) {
        metrics.bytesOut += sendPayload(response, 200, payload);
        metrics.request(routeName, request.method ?? '', 200);
      }
    } catch (error) {
      const relayError = onTheWire(error);
      if (relayError.code === 'INTERNAL')
        process.stderr.write(`overlap relay: internal error: ${(error as Error)?.stack ?? error}\n`);
      const status = statusOf(relayError);
      metrics.error(relayError.code);
      metrics.request(routeName, request.method ?? '', status);
      if (response.headersSent || response.destroyed) return;
      const headers: Record<string, string> = {};
      if (relayError.retryAfter !== undefined) headers['retry-after'] = String(relayError.retryAfter);
      const cutOff = relayError.code === 'REQUEST_TIMEOUT' || relayError.code === 'BODY_TOO_LARGE';
      if (cutOff) headers.connection = 'close';
      metrics.bytesOut += sendPayload(
        response,
        status,
        errorPayload(relayError.code, relayError.message, json),
        headers,
      );
      if (cutOff) response.once('finish', () => request.destroy());
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(new RelayError('LISTEN_FAILED', `cannot listen on ${o.host}:${o.port}: ${cause.message}`, { cause })),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : o.port;
  const shownHost = isIP(o.host) === 6 ? `[${o.host}]` : o.host;
  const url = o.publicUrl?.replace(/\/$/, '') ?? `http://${shownHost}:${boundPort}`;
  baseUrl = url;
  const { identity } = o.core;
  return {
    url,
    origin: identity.origin,
    vkey: formatVerifierKey(identity.origin, identity.publicKey),
    relayKeyId: identity.keyId,
    core: o.core,
    close: async () => {
      closing = true;
      o.waiters.wakeAll();
      await o.core.drain().catch(() => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      o.close();
    },
  };
}

/**
 * The error a client gets (spec/errors.md §2): a request's own error as it is; a relay-side failure
 * (an operator code such as STORAGE_FAILED, or a bug) as 500 INTERNAL, its message naming at most
 * the operator code: paths and stack traces stay in the operator's log.
 */
function onTheWire(error: unknown): RelayError {
  if (error instanceof RelayError && error.code !== 'INTERNAL' && isHttpErrorCode(error.code)) return error;
  const message = error instanceof RelayError ? `internal error (${error.code})` : 'internal error';
  return new RelayError('INTERNAL', message, { cause: error });
}
