/**
 * One HTTP request, from its target to its answer: route it, bound and read its body, authenticate
 * it (spec/relay-api.md §2), open its envelope, run the route, answer. Every error is answered with
 * its status and a typed code (errors.ts, spec/errors.md) — whatever the peer sends, a 4xx, never a
 * 5xx or a crash; every request is counted in the metrics and, when the relay keeps one, written to
 * the access log once its response is done.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256 } from '@overlap/crypto';
import type { KeyBudgets } from '../budgets.js';
import { isHttpErrorCode, RelayError } from '../errors.js';
import type { BodyBudget, RelayLimits } from '../limits.js';
import { type AccessLog, loggedTarget } from './access-log.js';
import { type Authenticated, announcesBody, authenticate, checkBody } from './auth.js';
import { errorPayload, readBody, sendPayload, statusOf } from './io.js';
import type { Metrics } from './metrics.js';
import { type RelayServices, RouteContext } from './route-context.js';
import { matchRoute } from './routes.js';

export interface RequestHandlerOptions {
  services: RelayServices;
  bodies: BodyBudget;
  metrics: Metrics;
  budgets: KeyBudgets;
  limits: RelayLimits;
  /** The base URL labs sign (known once the server listens). */
  publicUrl: () => string;
  isClosing: () => boolean;
  accessLog: AccessLog | undefined;
}

/** What the access log says of one request, filled in as it is handled. */
interface Outcome {
  code?: string;
  keyid?: string;
  bytesIn: number;
  bytesOut: number;
}

export function createRequestHandler(
  o: RequestHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const outcome: Outcome = { bytesIn: 0, bytesOut: 0 };
    if (o.accessLog) logWhenDone(o.accessLog, request, response, outcome);
    void handle(o, request, response, outcome);
  };
}

function logWhenDone(log: AccessLog, request: IncomingMessage, response: ServerResponse, outcome: Outcome): void {
  const arrived = new Date();
  const started = performance.now();
  response.once('close', () => {
    log.write({
      time: arrived.toISOString(),
      remote: request.socket.remoteAddress ?? '',
      method: request.method ?? '',
      path: loggedTarget(request.url ?? ''),
      status: response.headersSent ? response.statusCode : 0,
      ...(outcome.code !== undefined && { code: outcome.code }),
      bytes_in: outcome.bytesIn,
      bytes_out: outcome.bytesOut,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(outcome.keyid !== undefined && { keyid: outcome.keyid }),
      ...(!response.writableFinished && { incomplete: true }),
    });
  });
}

async function handle(
  o: RequestHandlerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: Outcome,
): Promise<void> {
  const { metrics, limits } = o;
  // The request target comes from the peer: a target the URL parser refuses is a 400, not a crash.
  const target = request.url ?? '/';
  const url = URL.canParse(target, 'http://relay.invalid') ? new URL(target, 'http://relay.invalid') : null;
  const json = url?.pathname === '/healthz' || url?.pathname === '/openapi.json';
  let routeName = 'unmatched';
  const aborted = new AbortController();
  response.once('close', () => aborted.abort());
  let bodyRead = false;
  try {
    if (o.isClosing()) throw new RelayError('UNAVAILABLE', 'the relay is shutting down');
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
    if (!route.servedWhileRebuilding) o.services.assertBuilt();
    if (isWrite && request.headers['content-type']?.split(';')[0]?.trim() !== 'application/cbor') {
      throw new RelayError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/cbor');
    }
    // Before the body is read: a relay that cannot write refuses at once (relay-runtime.ts).
    if (isWrite) o.services.assertWritable();
    // Who signed it, from the headers, before the body is read: an outsider's body is never buffered.
    let auth: Authenticated | undefined;
    if (route.auth !== 'none') {
      auth = authenticate(o.services.core, request, o.publicUrl(), {
        write: isWrite,
        clockSkewSeconds: limits.clockSkewSeconds,
      });
      if (route.auth === 'admin' && !auth.isAdmin) throw new RelayError('NOT_ADMIN', 'only the admin key may do this');
      o.budgets.admit(auth.keyId, declaredLength(request, limits), Date.now(), !auth.isAdmin);
    }
    // An unsigned route takes no body: one announced is refused unread (nobody is known to have sent it).
    if (route.auth === 'none' && announcesBody(request)) {
      throw new RelayError('BAD_REQUEST', `${route.method} ${route.path} takes no request body`);
    }
    const body = await readBudgeted(o, request).catch((error: unknown) => {
      if (auth !== undefined && !auth.isAdmin && (error as RelayError).code === 'BUSY') {
        o.budgets.refundBytes(auth.keyId, declaredLength(request, limits), Date.now());
      }
      throw error;
    });
    bodyRead = true;
    metrics.bytesIn += body.length;
    outcome.bytesIn = body.length;
    const opening = performance.now();
    let opened: ReturnType<RelayServices['core']['open']> | undefined;
    try {
      // One SHA-256 of the body serves the Content-Digest check and the envelope's hash.
      const bodySha256 = isWrite || auth !== undefined ? sha256(body) : undefined;
      if (auth !== undefined) {
        checkBody(auth, body, bodySha256 as Uint8Array);
        // Logged once the body is the one signed: a signature over other bytes names no one.
        outcome.keyid = auth.keyId;
      }
      opened = isWrite ? o.services.core.open(body, bodySha256) : undefined;
    } finally {
      // The signer pays for hashing and opening its body, also for one that is refused (a bomb).
      if (auth !== undefined && !auth.isAdmin) o.budgets.chargeCpu(auth.keyId, performance.now() - opening, Date.now());
    }
    const context = new RouteContext(o.services, params, url.searchParams, opened, auth, aborted.signal);
    const payload = await route.handle(context);
    if (!response.headersSent && !response.destroyed) {
      outcome.bytesOut = sendPayload(response, 200, payload);
      metrics.bytesOut += outcome.bytesOut;
      metrics.request(routeName, request.method ?? '', 200);
    }
  } catch (error) {
    const relayError = onTheWire(error);
    if (relayError.code === 'INTERNAL')
      process.stderr.write(`overlap relay: internal error: ${(error as Error)?.stack ?? error}\n`);
    const status = statusOf(relayError);
    outcome.code = relayError.code;
    metrics.error(relayError.code);
    metrics.request(routeName, request.method ?? '', status);
    if (response.headersSent || response.destroyed) return;
    const headers: Record<string, string> = {};
    if (relayError.retryAfter !== undefined) headers['retry-after'] = String(relayError.retryAfter);
    // A body that was not read (refused before it, or cut off) is not drained: the connection closes.
    const cutOff =
      relayError.code === 'REQUEST_TIMEOUT' ||
      relayError.code === 'BODY_TOO_LARGE' ||
      (!bodyRead && announcesBody(request));
    if (cutOff) headers.connection = 'close';
    outcome.bytesOut = sendPayload(response, status, errorPayload(relayError.code, relayError.message, json), headers);
    metrics.bytesOut += outcome.bytesOut;
    if (cutOff) response.once('finish', () => request.destroy());
  }
}

/**
 * The body, read within the relay's budget of bytes in flight: counted at its Content-Length (at
 * the largest body when it has none) while it is read; over the budget, 503 BUSY with a Retry-After.
 */
async function readBudgeted(o: RequestHandlerOptions, request: IncomingMessage): Promise<Uint8Array> {
  const { limits } = o;
  if (!announcesBody(request)) return readBody(request, limits.maxBodyBytes, limits.requestTimeoutMs);
  const reserved = declaredLength(request, limits);
  if (!o.bodies.take(reserved)) {
    throw new RelayError('BUSY', 'the relay is reading as many request bodies as it takes at once; send it again', {
      retryAfter: 1,
    });
  }
  try {
    return await readBody(request, limits.maxBodyBytes, limits.requestTimeoutMs);
  } finally {
    o.bodies.release(reserved);
  }
}

/** A body's length as its headers announce it: its Content-Length (at most the largest body), the largest without one, 0 for none. */
function declaredLength(request: IncomingMessage, limits: RelayLimits): number {
  if (!announcesBody(request)) return 0;
  const declared = Number(request.headers['content-length']);
  return Number.isSafeInteger(declared) && declared >= 0
    ? Math.min(declared, limits.maxBodyBytes)
    : limits.maxBodyBytes;
}

/**
 * The error a client gets (spec/errors.md §2): a request's own error as it is; a relay-side failure
 * (an operator code such as STORAGE_CORRUPT, or a bug) as 500 INTERNAL, its message naming at most
 * the operator code: paths and stack traces stay in the operator's log.
 */
function onTheWire(error: unknown): RelayError {
  if (error instanceof RelayError && error.code !== 'INTERNAL' && isHttpErrorCode(error.code)) return error;
  const message = error instanceof RelayError ? `internal error (${error.code})` : 'internal error';
  return new RelayError('INTERNAL', message, { cause: error });
}
