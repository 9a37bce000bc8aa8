/**
 * networkFailureOf reads the reason out of fetch's `TypeError('fetch failed')` (undici puts the
 * socket's or TLS's error in `cause`), out of an AggregateError (one error per address tried), and
 * out of a body stream cut short (`terminated`, its cause the socket's error). Which failures are
 * final (TLS mistakes, a blocked port) and which are worth another attempt.
 */
import { describe, expect, test } from 'vitest';
import { networkFailureOf } from '../src/network-failure.js';

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

describe.each([
  ['refused', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'connection refused (ECONNREFUSED)', false],
  ['not found', coded('ENOTFOUND', 'getaddrinfo ENOTFOUND relay.invalid'), 'host not found (ENOTFOUND)', false],
  [
    'lookup failed',
    coded('EAI_AGAIN', 'getaddrinfo EAI_AGAIN relay'),
    'host name lookup failed for now (EAI_AGAIN)',
    false,
  ],
  ['unreachable', coded('EHOSTUNREACH', 'connect EHOSTUNREACH'), 'host unreachable (EHOSTUNREACH)', false],
  [
    'connect timeout',
    coded('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'),
    'timed out (UND_ERR_CONNECT_TIMEOUT)',
    false,
  ],
  [
    'headers timeout',
    coded('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'),
    'timed out (UND_ERR_HEADERS_TIMEOUT)',
    false,
  ],
  ['reset', coded('ECONNRESET', 'read ECONNRESET'), 'the connection was reset (ECONNRESET)', false],
  [
    'reset in the handshake',
    coded('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'),
    'the connection was reset during the TLS handshake (ECONNRESET)',
    false,
  ],
  ['hang-up', coded('UND_ERR_SOCKET', 'other side closed'), 'the relay hung up (UND_ERR_SOCKET)', false],
  [
    'plain HTTP',
    coded(
      'ERR_SSL_WRONG_VERSION_NUMBER',
      '801C8C7CB17F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:350:',
    ),
    'it does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)',
    true,
  ],
  [
    'untrusted CA',
    coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    'unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    true,
  ],
  [
    'self-signed in chain',
    coded('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
    'self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)',
    true,
  ],
  [
    'expired',
    coded('CERT_HAS_EXPIRED', 'certificate has expired'),
    'its certificate has expired (CERT_HAS_EXPIRED)',
    true,
  ],
  [
    'other host',
    coded('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
    "Hostname/IP does not match certificate's altnames (ERR_TLS_CERT_ALTNAME_INVALID)",
    true,
  ],
  [
    'another handshake failure',
    coded('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ssl routines'),
    'the TLS handshake failed: ssl routines (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)',
    true,
  ],
  ['a blocked port', new Error('bad port'), 'fetch refuses to connect to that port (a blocked port)', true],
  ['something else', new Error('boom'), 'boom', false],
] as const)('%s', (_, cause, reason, final) => {
  test(`as fetch throws it: "${reason}", ${final ? 'final' : 'retried'}`, () => {
    expect(networkFailureOf(fetchFailed(cause))).toMatchObject({ reason, final });
  });
});

describe('where the code hides', () => {
  test('an AggregateError of every address tried: its own code, or its first error', () => {
    const withCode = Object.assign(new AggregateError([coded('ECONNREFUSED', 'connect ECONNREFUSED ::1:1')]), {
      code: 'ECONNREFUSED',
    });
    expect(networkFailureOf(fetchFailed(withCode))).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    const without = new AggregateError([coded('ENETUNREACH', 'connect ENETUNREACH'), coded('ECONNREFUSED', 'x')]);
    expect(networkFailureOf(fetchFailed(without))).toMatchObject({ kind: 'unreachable', code: 'ENETUNREACH' });
  });

  test('a body cut short: TypeError("terminated") whose cause is the socket error', () => {
    const cut = new TypeError('terminated', { cause: coded('UND_ERR_SOCKET', 'other side closed') });
    expect(networkFailureOf(cut)).toMatchObject({ kind: 'hung-up', final: false });
  });

  test('a cycle of causes ends, and a non-error is described', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(networkFailureOf(a)).toMatchObject({ kind: 'other', reason: 'a' });
    expect(networkFailureOf(undefined)).toMatchObject({ kind: 'other', reason: 'the request failed' });
  });
});
