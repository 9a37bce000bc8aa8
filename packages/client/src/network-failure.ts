/**
 * Why a request got no HTTP answer, in words a lab engineer can act on. Node's fetch (undici) throws
 * one `TypeError('fetch failed')` for every network failure; the reason is in its `cause` chain: an
 * OS error code (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`), one of undici's own (`UND_ERR_SOCKET`
 * for a hang-up, `UND_ERR_CONNECT_TIMEOUT`), or an OpenSSL/TLS one (`ERR_SSL_WRONG_VERSION_NUMBER`
 * when an `https://` URL meets a plain-HTTP server, `UNABLE_TO_VERIFY_LEAF_SIGNATURE` for a
 * certificate from a CA this process does not trust, `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`).
 *
 * A TLS failure other than a connection reset is final: the same handshake fails the same way on
 * every retry, so the lab is told at once what to change. Everything else may be an outage and is
 * retried (retry.ts).
 */
import { ClientError } from './errors.js';

export type NetworkFailureKind =
  | 'refused'
  | 'host-not-found'
  | 'unreachable'
  | 'timed-out'
  | 'reset'
  | 'hung-up'
  /** An `https://` URL, and the server answered in plain HTTP. */
  | 'tls-not-spoken'
  /** The certificate chain does not end at a CA this process trusts. */
  | 'tls-untrusted'
  /** The certificate is expired or not yet valid. */
  | 'tls-expired'
  /** The certificate does not name the host in the URL. */
  | 'tls-wrong-host'
  | 'tls-other'
  /** A port that fetch refuses to connect to (the Fetch standard's "bad ports", like 9 or 6000). */
  | 'blocked-port'
  | 'other';

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** A short reason for people, e.g. "connection refused (ECONNREFUSED)". */
  reason: string;
  /** The code that said so, when there was one. */
  code?: string;
  /** Whether trying again cannot help (a TLS mistake, a blocked port). */
  final: boolean;
}

const CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);
const EXPIRY_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOST_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Plain words for the codes a lab meets most; the code itself is always shown beside them. */
const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed for now',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed while sending',
  UND_ERR_SOCKET: 'the relay hung up',
  UND_ERR_CLOSED: 'the relay hung up',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
};

/** What went wrong, from the error fetch (or the body's stream) threw. */
export function networkFailureOf(error: unknown): NetworkFailure {
  const { code, message } = innermostCode(error);
  if (code === undefined) {
    if (/^bad port$/i.test(message)) {
      return { kind: 'blocked-port', reason: 'fetch refuses to connect to that port (a blocked port)', final: true };
    }
    return { kind: 'other', reason: short(message) || 'the request failed', final: false };
  }
  const failure = (kind: NetworkFailureKind, words: string, final = false): NetworkFailure => ({
    kind,
    reason: `${words} (${code})`,
    code,
    final,
  });
  const plain = WORDS[code] ?? short(message);
  if (code === 'ECONNREFUSED') return failure('refused', plain);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return failure('host-not-found', plain);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return failure('unreachable', plain);
  if (TIMEOUT_CODES.has(code)) return failure('timed-out', 'timed out');
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return failure('reset', /TLS|secure/i.test(message) ? `${plain} during the TLS handshake` : plain);
  }
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return failure('hung-up', plain);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(message)) {
    return failure('tls-not-spoken', 'it does not speak TLS', true);
  }
  if (CHAIN_CODES.has(code)) return failure('tls-untrusted', short(message), true);
  if (EXPIRY_CODES.has(code)) return failure('tls-expired', plain, true);
  if (HOST_CODES.has(code)) return failure('tls-wrong-host', short(message), true);
  if (/^(ERR_SSL_|ERR_TLS_|CERT_)/.test(code) || code === 'EPROTO') {
    return failure('tls-other', `the TLS handshake failed: ${short(message)}`, true);
  }
  return failure('other', short(message) || 'the request failed');
}

/** A failure that retrying cannot cure, in words that say what to change. */
export function finalFailureError(baseUrl: string, what: string, network: NetworkFailure, cause: unknown): ClientError {
  const url = new URL(baseUrl);
  const at = `the relay at ${url.host}`;
  switch (network.kind) {
    case 'blocked-port':
      return new ClientError('BAD_RELAY_URL', `${what}: ${network.reason}: serve the relay on another port`, { cause });
    case 'tls-not-spoken':
      return new ClientError(
        'TLS_FAILED',
        `${what}: ${at} does not speak TLS (${network.code}): use ${withProtocol(url, 'http:')} or serve HTTPS (relay serve --tls-cert/--tls-key)`,
        { cause },
      );
    case 'tls-untrusted':
      return new ClientError(
        'TLS_FAILED',
        `${what}: ${at} presented a certificate this lab does not trust: ${network.reason}; a private CA is trusted with NODE_EXTRA_CA_CERTS=ca.pem`,
        { cause },
      );
    case 'tls-expired':
      return new ClientError(
        'TLS_FAILED',
        `${what}: ${at} presented a certificate this lab cannot accept: ${network.reason}; the forum must renew it (or this machine's clock is wrong)`,
        { cause },
      );
    case 'tls-wrong-host':
      return new ClientError(
        'TLS_FAILED',
        `${what}: the certificate of ${at} is not for ${url.hostname}: ${network.reason}; use a host name the certificate names`,
        { cause },
      );
    default:
      return new ClientError('TLS_FAILED', `${what}: ${at}: ${network.reason}`, { cause });
  }
}

/** The base URL with another scheme, for a hint (no path: only the host and port are in question). */
export function withProtocol(url: URL, protocol: 'http:' | 'https:'): string {
  return `${protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * The deepest `code` in the chain of causes (undici wraps the socket's error; an AggregateError of
 * Happy Eyeballs holds one per address and carries the code itself), with its message.
 */
function innermostCode(error: unknown): { code?: string; message: string } {
  let found: { code?: string; message: string } = { message: messageOf(error) };
  const seen = new Set<unknown>();
  for (let at: unknown = error; at !== null && typeof at === 'object' && !seen.has(at); ) {
    seen.add(at);
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') found = { code, message: messageOf(at) };
    else if (found.code === undefined) found = { message: messageOf(at) };
    const inner = (at as { errors?: unknown[] }).errors?.[0];
    at = (at as { cause?: unknown }).cause ?? (found.code === undefined ? inner : undefined);
  }
  return found;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : '';
}

/**
 * OpenSSL's messages carry a library prefix and a source path
 * ("801C…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/…"): keep the words.
 */
function short(message: string): string {
  const openssl = /:SSL routines:[^:]*:([^:]+)/.exec(message);
  const text = openssl?.[1] ?? message;
  return text.trim().slice(0, 200);
}
