/**
 * A session's results posted to the lab's webhook (a SIEM's HTTP collector, a SOAR's trigger),
 * signed so the receiver knows they come from this lab's agent and are not a replay.
 *
 * The request, one per attempt:
 *
 *   POST <url>                     HTTPS only; a redirect (3xx) is not followed
 *   Content-Type: application/json
 *   Overlap-Session: <session id, 32 lowercase hex digits>
 *   Overlap-Delivery: <delivery id>     the same on every attempt and every redelivery of this
 *                                       session to this destination: the receiver's idempotency key
 *   Overlap-Timestamp: <unix time in seconds, decimal>   set anew on each attempt
 *   Overlap-Signature: v1=<64 lowercase hex digits>
 *   body: the result document (UTF-8 JSON), the shape of `<session>.json` (deliver-directory.ts)
 *
 * The signature is HMAC-SHA256 (RFC 2104) keyed with the shared secret's raw bytes over the ASCII
 * timestamp exactly as sent, one `.` (0x2E), then the body's bytes exactly as received:
 * `hex(HMAC-SHA256(secret, timestamp || "." || body))`. A receiver reads the raw body (before any
 * JSON parsing), recomputes it, compares in constant time, and refuses a timestamp more than five
 * minutes from its own clock (`verifyWebhookSignature`), then drops a delivery id it has seen.
 *
 * Trust: without `caFile`, the server's certificate must chain to Node's roots or to a CA given
 * with NODE_EXTRA_CA_CERTS (how this project trusts a private CA, docs/deploy.md). With `caFile`
 * it must chain to that CA and no other: node:https's `ca` replaces the default roots, and a lab
 * naming the CA of its own collector wants exactly that pin.
 *
 * Retries: network failures, timeouts, 429 and 5xx are tried again, up to `attempts` in all, after
 * 1 s doubling to 5 min (±20% jitter), or the server's Retry-After (capped at 15 min), slept on the
 * agent's clock. The per-attempt timeout is real time: it bounds a network wait. A certificate
 * problem, a 3xx or another 4xx fails at once (the same request gets the same answer).
 *
 * Threat: results forged or replayed to the lab's SIEM (the signature and the timestamp); results
 * sent to a server the lab did not mean (HTTPS, no redirects); a token in the URL's query or the
 * secret leaked to the log: messages and log records name the URL's origin only, never its path
 * or query, and never the secret, the signature or the body.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { SessionResults } from '@overlap/client';
import { resultDocumentPieces } from '@overlap/client';
import type { AgentLog } from './agent-log.js';
import type { Clock } from './clock.js';
import { AgentError } from './errors.js';

export interface WebhookSpec {
  /** An https:// URL (`checkWebhookUrl`). */
  url: string;
  /** The HMAC key, at least 32 bytes; the caller's to zero. */
  secret: Uint8Array;
  /** Trust only the CA certificate(s) in this PEM file. */
  caFile?: string;
  /** Per attempt: connecting, sending the body and the answer's status line (default 30 s). */
  timeoutMs?: number;
  /** Attempts in all (default 8). */
  attempts?: number;
}

export interface WebhookDeliveryOptions {
  clock: Clock;
  log: AgentLog;
  signal?: AbortSignal | undefined;
  /** Stable per session and destination: `Overlap-Delivery`, the receiver's idempotency key. */
  deliveryId: string;
}

const MIN_SECRET_BYTES = 32;
const FIRST_RETRY_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const MAX_RETRY_AFTER_MS = 15 * 60_000;
const SEND_CHUNK_CHARS = 1 << 16;
const SIGNATURE = /^v1=[0-9a-f]{64}$/;
const TIMESTAMP = /^[0-9]{1,15}$/;
const HEADER_TOKEN = /^[\x21-\x7e]{1,256}$/;
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);

/** The URL parsed, or `BAD_CONFIG` unless it is https:// (the message names its origin at most). */
export function checkWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new AgentError('BAD_CONFIG', 'the webhook URL is not a URL', { cause });
  }
  if (parsed.protocol !== 'https:') {
    throw new AgentError('BAD_CONFIG', `the webhook URL must be https:// (not ${parsed.protocol}//${parsed.host})`);
  }
  return parsed;
}

/** `v1=` and the lowercase hex HMAC-SHA256 of `timestamp.body` under `secret`. */
export function webhookSignature(secret: Uint8Array, timestamp: number | string, body: string | Uint8Array): string {
  return sign(secret, String(timestamp), [body]);
}

/**
 * Whether `signature` is this body's under `secret` and `timestamp` is within `toleranceSeconds`
 * (default 300) of `now` (milliseconds since the epoch). False, never a throw, for a missing,
 * malformed, wrong or stale header; compared in constant time. A key shorter than 32 bytes is
 * `BAD_CONFIG`: the receiver's own mistake, not the sender's.
 */
export function verifyWebhookSignature(
  secret: Uint8Array,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string | Uint8Array,
  options: { now: number; toleranceSeconds?: number },
): boolean {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined) return false;
  if (!TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) return false;
  if (Math.abs(options.now / 1000 - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(sign(secret, timestamp, [body]).slice(3), 'hex');
  const given = Buffer.from(signature.slice(3), 'hex');
  try {
    return expected.length === given.length && timingSafeEqual(expected, given);
  } finally {
    expected.fill(0);
    given.fill(0);
  }
}

function sign(secret: Uint8Array, timestamp: string, pieces: Iterable<string | Uint8Array>): string {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new AgentError('BAD_CONFIG', `the webhook's HMAC key must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
  for (const piece of pieces) hmac.update(piece);
  const digest = hmac.digest();
  try {
    return `v1=${digest.toString('hex')}`;
  } finally {
    digest.fill(0);
  }
}

/**
 * Posts `doc` until it is taken (2xx): answers the status and the attempts it took.
 * `DELIVERY_FAILED` naming the origin, the last status or error and the attempts; `BAD_CONFIG`
 * for a spec that cannot work; the signal's reason when it aborts.
 */
export async function deliverToWebhook(
  spec: WebhookSpec,
  doc: SessionResults,
  options: WebhookDeliveryOptions,
): Promise<{ status: number; attempts: number }> {
  const url = checkWebhookUrl(spec.url);
  const attempts = spec.attempts ?? 8;
  const timeoutMs = spec.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(attempts) || attempts < 1)
    throw new AgentError('BAD_CONFIG', 'webhook attempts must be ≥ 1');
  if (!(timeoutMs > 0)) throw new AgentError('BAD_CONFIG', 'the webhook timeout must be positive');
  if (spec.secret.length < MIN_SECRET_BYTES) {
    throw new AgentError('BAD_CONFIG', `the webhook's HMAC key must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (!HEADER_TOKEN.test(options.deliveryId) || !HEADER_TOKEN.test(doc.session)) {
    throw new AgentError('BAD_CONFIG', 'the webhook delivery id and session must be printable ASCII without spaces');
  }
  const ca = spec.caFile === undefined ? undefined : await readCa(spec.caFile);
  const { clock, log, signal } = options;
  const where = `the webhook at ${url.origin} (session ${doc.session})`;
  const body = () => resultDocumentPieces(doc);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const timestamp = String(Math.floor(clock.now() / 1000));
    let length = 0;
    for (const piece of body()) length += Buffer.byteLength(piece);
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': String(length),
      'User-Agent': 'overlap-agent',
      'Overlap-Session': doc.session,
      'Overlap-Delivery': options.deliveryId,
      'Overlap-Timestamp': timestamp,
      'Overlap-Signature': sign(spec.secret, timestamp, body()),
    };
    const timeout = AbortSignal.timeout(timeoutMs);
    const outcome = await post(url, headers, body, ca, signal ? AbortSignal.any([signal, timeout]) : timeout).then(
      (answer) => answer,
      (error: unknown) => {
        if (signal?.aborted) throw signal.reason;
        return failureOf(timeout.aborted ? 'ETIMEDOUT' : codeOf(error), url, spec.caFile);
      },
    );
    if ('status' in outcome && outcome.status >= 200 && outcome.status < 300)
      return { status: outcome.status, attempts: attempt };
    const failure = 'status' in outcome ? statusFailure(outcome.status) : outcome;
    if (!failure.retry) throw new AgentError('DELIVERY_FAILED', `${where}: ${failure.reason}; not retried`);
    if (attempt >= attempts) {
      throw new AgentError('DELIVERY_FAILED', `${where}: ${failure.reason}, after ${attempt} attempts`);
    }
    const waitMs = ('status' in outcome && retryAfterMs(outcome.retryAfter, clock.now())) || backoffMs(attempt);
    log.log('warn', 'webhook_retry', {
      session: doc.session,
      origin: url.origin,
      ...('status' in outcome ? { status: outcome.status } : { error: failure.code }),
      attempt,
      retry_in_ms: waitMs,
    });
    await clock.sleep(waitMs, signal);
  }
}

interface Failure {
  reason: string;
  code: string;
  retry: boolean;
}

function statusFailure(status: number): Failure {
  const code = `HTTP_${status}`;
  if (status === 429 || (status >= 500 && status < 600)) return { reason: `answered ${status}`, code, retry: true };
  if (status >= 300 && status < 400)
    return { reason: `answered ${status} (a redirect, not followed)`, code, retry: false };
  return { reason: `answered ${status} (the receiver refused the delivery)`, code, retry: false };
}

/** A network failure in words: a certificate problem is final, anything else may be an outage. */
function failureOf(code: string, url: URL, caFile: string | undefined): Failure {
  if (UNTRUSTED.has(code)) {
    const hint =
      caFile === undefined
        ? "trust its CA with NODE_EXTRA_CA_CERTS or the webhook's ca_file"
        : `it does not chain to the CA in ${caFile}`;
    return { reason: `certificate not trusted: ${code}; ${hint}`, code, retry: false };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { reason: `certificate not valid now: ${code} (or this machine's clock is wrong)`, code, retry: false };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { reason: `the certificate is not for ${url.hostname}: ${code}`, code, retry: false };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return { reason: `it does not speak TLS: ${code}`, code, retry: false };
  if (/^(ERR_SSL_|ERR_TLS_|CERT_)/.test(code))
    return { reason: `the TLS handshake failed: ${code}`, code, retry: false };
  return { reason: code === 'ETIMEDOUT' ? 'timed out (ETIMEDOUT)' : `network error: ${code}`, code, retry: true };
}

function codeOf(error: unknown): string {
  for (let at = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    const code = (at as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'UNKNOWN';
}

/** 1 s doubling to 5 min, ±20% so that many agents retrying one collector do not march in step. */
function backoffMs(attempt: number): number {
  const base = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(base * (0.8 + 0.4 * Math.random())); // jitter needs no CSPRNG
}

/** Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) in ms, capped; 0 when absent or unreadable. */
function retryAfterMs(value: string | undefined, now: number): number {
  if (value === undefined) return 0;
  const text = value.trim();
  const ms = /^[0-9]{1,10}$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : 0;
}

async function readCa(caFile: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(caFile, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new AgentError('BAD_CONFIG', `the webhook's ca_file ${caFile} cannot be read (${reason})`, { cause });
  }
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate');
    createSecureContext({ ca: pem });
  } catch (cause) {
    throw new AgentError('BAD_CONFIG', `the webhook's ca_file ${caFile} holds no usable PEM certificate`, { cause });
  }
  return pem;
}

/** One POST: the answer's status line, or the request's error. The answer's body is not read. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: () => Iterable<string>,
  ca: string | undefined,
  signal: AbortSignal,
): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    // agent: false: a connection of its own, so `ca` is never shared with, or taken from, a pooled socket.
    const request = httpsRequest(
      url,
      { method: 'POST', headers, agent: false, signal, ...(ca !== undefined && { ca }) },
      (response) => {
        resolve({ status: response.statusCode ?? 0, retryAfter: single(response.headers, 'retry-after') });
        response.destroy();
      },
    );
    request.on('error', reject);
    writeBody(request, body()).catch(reject);
  });
}

async function writeBody(request: ClientRequest, pieces: Iterable<string>): Promise<void> {
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length < SEND_CHUNK_CHARS) continue;
    if (!request.write(batch) && !request.destroyed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          request.off('drain', done);
          request.off('close', done);
          resolve();
        };
        request.on('drain', done);
        request.on('close', done);
      });
    }
    if (request.destroyed) return;
    batch = '';
  }
  request.end(batch);
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
