/**
 * One relay request over HTTP, signed and retried: the part of RelayClient that talks to the
 * network. Signed requests carry RFC 9421 signatures in spec/relay-api.md §2's profile (created now,
 * expires 60 s later, a random 24-byte nonce), made again on every attempt because the relay stores
 * each accepted nonce and refuses it twice (`NONCE_REPLAYED`). Retries follow retry.ts.
 *
 * Redirects are not followed: the signature covers the target URI, and a relay that moves is a
 * configuration change, not something to follow silently.
 */
import { signRequest } from '@overlap/protocol';
import { parseRelayError, readBounded } from './cbor-body.js';
import { ClientError } from './errors.js';
import { isRetryableStatus, parseRetryAfter, type RetryPolicy, retryDelay, sleep } from './retry.js';

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

interface Problem {
  cause: unknown;
  status?: number;
  retryAfterMs?: number;
}

/** Sends `spec`, tried up to `retry.attempts` times; answers the first 2xx. */
export async function send(options: TransportOptions, spec: RequestSpec): Promise<Answer> {
  const { retry, signal } = options;
  if (spec.signed && options.signer === undefined) {
    throw new ClientError('NO_SIGNER', `${spec.what} must be signed, and this client has no signer`);
  }
  let last: Problem = { cause: undefined };
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    if (attempt > 0) await sleep(retryDelay(attempt - 1, retry, last.retryAfterMs), signal);
    signal?.throwIfAborted();
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
      body = await readBounded(response, spec.maxBytes, spec.what);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ClientError) throw error;
      // fetch failed: refused, reset, hung up, or the body was cut short. Try again.
      last = { cause: error };
      continue;
    }
    const { status } = response;
    const contentType = response.headers.get('content-type');
    if (status >= 200 && status <= 299) return { status, body, contentType };
    const relayError = parseRelayError(body, contentType);
    if (isRetryableStatus(status)) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.now());
      last = {
        cause: new ClientError('RELAY_UNAVAILABLE', `${spec.what}: HTTP ${status} ${relayError?.code ?? ''}`.trim(), {
          status,
          ...(relayError !== undefined && { relayCode: relayError.code }),
        }),
        status,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
      continue;
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
  const host = new URL(options.baseUrl).host;
  throw new ClientError(
    'RELAY_UNAVAILABLE',
    `${spec.what}: no answer from the relay at ${host} after ${retry.attempts} attempt(s)`,
    { cause: last.cause, ...(last.status !== undefined && { status: last.status }) },
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
