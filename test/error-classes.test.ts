/**
 * One error base: every package's one error class is an OverlapError (@overlap/errors) with its own
 * name, its code and cause as given, and the extra fields its callers read (a relay status, a
 * Retry-After, validation issues, an exit code) unchanged.
 */
import { CliError } from '@overlap/cli';
import { ClientError } from '@overlap/client';
import { CryptoError } from '@overlap/crypto';
import { OverlapError } from '@overlap/errors';
import { FilesError } from '@overlap/files';
import { IndicatorError } from '@overlap/indicators';
import { LogError } from '@overlap/log';
import { ProtocolError } from '@overlap/protocol';
import { RelayError } from '@overlap/relay';
import { describe, expect, test } from 'vitest';

const cause = new Error('underneath');

const client = new ClientError('RELAY_REFUSED', 'm', { cause, status: 409, relayCode: 'CONFLICT' });
const protocol = new ProtocolError('INVALID_MESSAGE', 'm', { cause, issues: [{ path: ['lab'], message: 'x' }] });
const relay = new RelayError('RATE_LIMITED', 'm', { cause, retryAfter: 3 });

const made: [string, Error & { code: string }][] = [
  ['CliError', new CliError('DATA', 'm', { cause })],
  ['ClientError', client],
  ['CryptoError', new CryptoError('BAD_HEX', 'm', { cause })],
  ['FilesError', new FilesError('WRITE_FAILED', 'm', { cause, details: { path: '/x', errno: 'ENOSPC' } })],
  ['IndicatorError', new IndicatorError('INVALID_EMAIL', 'm', { cause })],
  ['LogError', new LogError('BAD_INDEX', 'm', { cause })],
  ['ProtocolError', protocol],
  ['RelayError', relay],
];

describe.each(made)('%s', (name, error) => {
  test('is an OverlapError named for its class, with the code and cause it was given', () => {
    expect(error).toBeInstanceOf(OverlapError);
    expect(error).toBeInstanceOf(Error);
    expect({ name: error.name, message: error.message, cause: error.cause }).toEqual({ name, message: 'm', cause });
    expect(error.code).toMatch(/^[A-Z_]+$/);
  });
});

test('the fields beyond the base stay where callers read them', () => {
  expect({ status: client.status, relayCode: client.relayCode }).toEqual({ status: 409, relayCode: 'CONFLICT' });
  expect(relay.retryAfter).toBe(3);
  expect(protocol.issues).toEqual([{ path: ['lab'], message: 'x' }]);
  expect(new ProtocolError('BAD_ENCODING', 'm').issues).toEqual([]);
  expect(new CliError('USAGE', 'm').exitCode).toBe(64);
  expect(Object.hasOwn(new RelayError('INTERNAL', 'm', { retryAfter: 1 }), 'cause')).toBe(false);
});

test('a request-signature failure is a ProtocolError the relay can tell apart by its code', () => {
  expect(new ProtocolError('SIGNATURE_EXPIRED', 'm').isHttpSignatureError()).toBe(true);
  expect(new ProtocolError('BAD_ENVELOPE', 'm').isHttpSignatureError()).toBe(false);
});
