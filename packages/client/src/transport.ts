/**
 * One relay request over HTTP, signed and retried: the part of RelayClient that talks to the
 * network. Signed requests carry RFC 9421 signatures in spec/relay-api.md §2's profile (created now,
 * expires 60 s later, a random 24-byte nonce), made again on every attempt because the relay stores
 * each accepted nonce and refuses it twice (`NONCE_REPLAYED`). Retries follow retry.ts; why an
 * attempt got no answer is read from fetch's error by network-failure.ts.
 *
 * An HTTP answer is never reported as "no answer": when the retries run out, the error names the
 * relay's last status and code, or the network's reason (refused, not found, timed out, reset),
 * and when the attempts met different things (some refused, some answered 503) it counts each. An
 * answer whose body was cut short is said as such: the relay answered its status, and the body
 * could not be read (retried: it is a network failure after the status line).
 *
 * Redirects are not followed: the signature covers the target URI, and a relay that moves is a
 * configuration change, not something to follow silently.
 */
import { signRequest } from '@overlap/protocol';
import { attemptsMet } from './attempts-met.js';
import { parseRelayError, readBounded } from './cbor-body.js';
import { ClientError } from './errors.js';
import { finalFailureError, type NetworkFailure, networkFailureOf, withProtocol } from './network-failure.js';
import { isRetryableStatus, nextRetryDelay, parseRetryAfter, type RetryPolicy, sleep } from './retry.js';

const SIGNATURE_LIFETIME_S = 60;
const NONCE_BYTES = 24;

export interface RequestSigner {
  keyId: string;
  secretKey: Uint8Array;
}

export interface TransportOptions {
  /** The relay's base URL, without a trailing slash. */
  baseUrl: string;
  signer: RequestSigner | undefined;
  retry: RetryPolicy;
  signal: AbortSignal | undefined;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path and query, starting with `/`. */
  path: string;
  body?: Uint8Array;
  signed: boolean;
  accept: 'application/cbor' | 'text/plain';
  /** What the request is, for error messages. */
  what: string;
  /** Largest answer accepted (default MAX_ANSWER_BYTES). */
  maxBytes?: number;
}

export interface Answer {
  status: number;
  body: Uint8Array;
  contentType: string | null;
}

/**
 * An attempt that deserves another: an HTTP answer (408, 429, 5xx), an answer whose body could not
 * be read (`bodyLost`: why), or no answer at all.
 */
type Failure =
  | {
      answered: true;
      status: number;
      relayCode?: string;
      relayMessage?: string;
      retryAfterMs?: number;
      bodyLost?: NetworkFailure;
      cause?: unknown;
    }
  | { answered: false; network: NetworkFailure; cause: unknown };

/** What the attempts so far came to, for the message when they run out. */
interface Tally {
  attempts: number;
  answered: number;
  hungUp: number;
  startedAt: number;
  /** How many attempts met each reason (`reasonOf`), in the order first met, with the relay's last message for it. */
  reasons: Map<string, { n: number; answered: boolean; relayMessage?: string }>;
}

/**
 * Sends `spec`, retried within `retry`'s budget (retry.ts); answers the first 2xx. A final answer
 * (4xx other than 408/429) or a TLS mistake is thrown at once; when the budget runs out, the error
 * says what the last attempt met: the relay's HTTP answer, or why there was none.
 */
export async function send(options: TransportOptions, spec: RequestSpec): Promise<Answer> {
  const { retry, signal } = options;
  if (spec.signed && options.signer === undefined) {
    throw new ClientError('NO_SIGNER', `${spec.what} must be signed, and this client has no signer`);
  }
  const tally: Tally = { attempts: 0, answered: 0, hungUp: 0, startedAt: performance.now(), reasons: new Map() };
  for (;;) {
    signal?.throwIfAborted();
    const outcome = await attempt(options, spec);
    if ('status' in outcome && !('answered' in outcome)) return outcome;
    const failure = outcome as Failure;
    count(tally, failure);
    if (!failure.answered && failure.network.final) {
      throw finalFailureError(options.baseUrl, spec.what, failure.network, failure.cause);
    }
    const retryAfterMs = failure.answered ? failure.retryAfterMs : undefined;
    const delayMs = nextRetryDelay(retry, tally.attempts, performance.now() - tally.startedAt, retryAfterMs);
    if (delayMs === undefined) throw exhaustedError(options.baseUrl, spec.what, failure, tally);
    retry.onRetry?.({ what: spec.what, attempt: tally.attempts, delayMs, reason: reasonOf(failure) });
    await sleep(delayMs, signal);
  }
}

/** One attempt: the 2xx answer, a failure worth retrying, or a thrown final error. */
async function attempt(options: TransportOptions, spec: RequestSpec): Promise<Answer | Failure> {
  const { signal } = options;
  let response: Response;
  let body: Uint8Array;
  try {
    response = await fetch(`${options.baseUrl}${spec.path}`, {
      method: spec.method,
      headers: headersFor(options, spec),
      redirect: 'manual',
      ...(spec.body !== undefined && { body: spec.body }),
      ...(signal !== undefined && { signal }),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // fetch failed before any status line: refused, reset, hung up, a TLS handshake.
    return { answered: false, network: networkFailureOf(error), cause: error };
  }
  const { status } = response;
  try {
    body = await readBounded(response, spec.maxBytes, spec.what);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof ClientError) throw error;
    // The relay answered, and the body was cut short (a reset, a hang-up): worth another attempt.
    return { answered: true, status, bodyLost: networkFailureOf(error), cause: error };
  }
  const contentType = response.headers.get('content-type');
  if (status >= 200 && status <= 299) return { status, body, contentType };
  const relayError = parseRelayError(body, contentType);
  if (isRetryableStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.now());
    return {
      answered: true,
      status,
      ...(relayError !== undefined && { relayCode: relayError.code }),
      ...(relayError?.message && { relayMessage: relayError.message }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  if (status >= 400 && status <= 499) {
    const relayCode = relayError?.code ?? 'UNKNOWN';
    const detail = relayError?.message ? `: ${relayError.message}` : '';
    throw new ClientError('RELAY_REFUSED', `${spec.what}: HTTP ${status} ${relayCode}${detail}`, {
      status,
      relayCode,
    });
  }
  throw new ClientError('BAD_RESPONSE', `${spec.what}: unexpected HTTP ${status}`, { status });
}

/**
 * The short reason `onRetry` hears: `HTTP 503 UNAVAILABLE`, `connection refused (ECONNREFUSED)`,
 * `HTTP 200, but its body could not be read: the relay hung up (UND_ERR_SOCKET)`.
 */
function reasonOf(failure: Failure): string {
  if (!failure.answered) return failure.network.reason;
  if (failure.bodyLost !== undefined) {
    return `HTTP ${failure.status}, but its body could not be read: ${failure.bodyLost.reason}`;
  }
  return `HTTP ${failure.status}${failure.relayCode === undefined ? '' : ` ${failure.relayCode}`}`;
}

function count(tally: Tally, failure: Failure): void {
  tally.attempts++;
  if (failure.answered) tally.answered++;
  else if (failure.network.kind === 'hung-up' || failure.network.kind === 'reset') tally.hungUp++;
  const reason = reasonOf(failure);
  const seen = tally.reasons.get(reason) ?? { n: 0, answered: failure.answered };
  seen.n++;
  if (failure.answered && failure.relayMessage !== undefined) seen.relayMessage = failure.relayMessage;
  tally.reasons.set(reason, seen);
}

/**
 * The budget is spent: what the relay answered on every attempt, or why it did not answer, or, when
 * the attempts met different things, each counted (`1 answered HTTP 503 UNAVAILABLE, 3 got no
 * answer (connection refused (ECONNREFUSED))`) and the last.
 */
function exhaustedError(baseUrl: string, what: string, last: Failure, tally: Tally): ClientError {
  const url = new URL(baseUrl);
  const took = `${((performance.now() - tally.startedAt) / 1000).toFixed(1)} s`;
  const attempts = `${tally.attempts} attempt${tally.attempts === 1 ? '' : 's'}`;
  const fields = last.answered
    ? {
        ...(last.bodyLost === undefined ? { status: last.status } : { cause: last.cause }),
        ...(last.relayCode !== undefined && { relayCode: last.relayCode }),
      }
    : { cause: last.cause };
  if (tally.answered > 0 && tally.reasons.size > 1) {
    const counted = attemptsMet([...tally.reasons].map(([reason, seen]) => ({ reason, ...seen })));
    const lastly = last.answered ? `the last answered ${reasonOf(last)}` : `the last got no answer (${reasonOf(last)})`;
    return new ClientError(
      'RELAY_UNAVAILABLE',
      `${what}: the relay at ${url.host} failed all ${attempts} (${took}): ${counted}; ${lastly}`,
      fields,
    );
  }
  if (last.answered) {
    const detail = last.relayMessage === undefined ? '' : ` (${last.relayMessage})`;
    return new ClientError(
      'RELAY_UNAVAILABLE',
      `${what}: the relay at ${url.host} answered ${reasonOf(last)}${detail} on all ${attempts} (${took})`,
      fields,
    );
  }
  const hint =
    url.protocol === 'http:' && tally.hungUp === tally.attempts
      ? `; if the relay serves HTTPS, use ${withProtocol(url, 'https:')}`
      : last.network.kind === 'host-not-found'
        ? '; check the host name in the relay URL'
        : '';
  return new ClientError(
    'RELAY_UNAVAILABLE',
    `${what}: no answer from the relay at ${url.host} after ${attempts} (${took}): ${last.network.reason}${hint}`,
    { cause: last.cause },
  );
}

/** Headers of one attempt: a fresh signature (new nonce, new window) every time. */
function headersFor(options: TransportOptions, spec: RequestSpec): Record<string, string> {
  const headers: Record<string, string> = { accept: spec.accept };
  if (spec.body !== undefined) headers['content-type'] = 'application/cbor';
  if (spec.signed && options.signer !== undefined) {
    const created = Math.floor(options.now() / 1000);
    const nonce = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES))).toString('base64url');
    Object.assign(
      headers,
      signRequest({
        method: spec.method,
        targetUri: `${options.baseUrl}${spec.path}`,
        ...(spec.body !== undefined && { body: spec.body }),
        keyId: options.signer.keyId,
        secretKey: options.signer.secretKey,
        created,
        expires: created + SIGNATURE_LIFETIME_S,
        nonce,
      }),
    );
  }
  return headers;
}
