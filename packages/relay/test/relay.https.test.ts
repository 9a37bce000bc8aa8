/**
 * The relay serving HTTPS itself (`startRelayServer({ tls })`), with a CA and certificate the test
 * makes: a client that trusts the CA gets answers and signed requests verify against the https://
 * public URL; one that does not is refused by TLS; a plain-HTTP request to the TLS port gets no
 * answer; a certificate or key TLS cannot use is refused at start-up with BAD_TLS.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLabKeys } from '@overlap/crypto';
import { decodeDeterministic } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initRelay, MEMBERSHIP_SESSION, startRelayServer } from '../src/index.js';
import { actor, seal, TestRelay } from './support/harness.js';
import { makeTestCertificates, type TestCertificates } from './support/test-ca.js';

let certs: TestCertificates;
let otherKey = '';
let t: TestRelay;

beforeAll(async () => {
  certs = await makeTestCertificates();
  otherKey = (await makeTestCertificates()).serverKey;
  t = await TestRelay.start({ tls: { cert: certs.serverCert, key: Buffer.from(certs.serverKey) } });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

interface HttpsAnswer {
  status: number;
  body: Buffer;
}

/** One request over HTTPS through node:https, trusting `ca` only (or the default roots without it). */
function send(
  method: string,
  path: string,
  options: { ca?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<HttpsAnswer> {
  const url = new URL(`${t.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: options.headers ?? {},
        ...(options.ca !== undefined && { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('a relay serving HTTPS', () => {
  test('its URL is https:// and a client that trusts the CA gets its health', async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await send('GET', '/healthz', { ca: certs.caCert });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ status: 'ok' });
  });

  test('a signed admin request verifies against the https:// public URL', async () => {
    const lab = actor(generateLabKeys());
    const envelope = seal(t.admin, 'enrollment', MEMBERSHIP_SESSION, {
      lab: 'tls-lab',
      name: 'Lab over TLS',
      signing_key: lab.keys.signing.publicKey,
      sealing_key: lab.keys.sealing.publicKey,
      valid_from: Date.now() - 60_000,
      valid_until: Date.now() + 86_400_000,
    });
    const headers = t.headersFor('POST', '/v1/admin', envelope.bytes, { signer: t.admin });
    const answer = await send('POST', '/v1/admin', { ca: certs.caCert, headers, body: envelope.bytes });
    expect(answer.status, answer.body.toString()).toBe(200);
    expect(decodeDeterministic(answer.body)).toHaveProperty('index');
  });

  test('a client that does not trust the CA is refused by TLS, before any HTTP', async () => {
    await expect(send('GET', '/healthz')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  test('plain HTTP to the TLS port gets no HTTP answer from the relay', async () => {
    const url = new URL(t.url);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/healthz' }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      req.end();
    });
    // node:https answers a plain request with a bare 400 and closes, or resets: never a relay answer.
    expect(outcome).not.toBe('status 200');
  });
});

describe('TLS material the relay cannot use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-tls-'));
  const db = join(dir, 'relay.db');
  beforeAll(async () => {
    await initRelay({ db });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['a certificate that is not PEM', () => ({ cert: 'not a certificate', key: certs.serverKey })],
    ['a key that is not PEM', () => ({ cert: certs.serverCert, key: 'not a key' })],
    ['the key of another certificate', () => ({ cert: certs.serverCert, key: otherKey })],
  ])('%s is refused at start-up with BAD_TLS, and the home stays usable', async (_name, tls) => {
    await expect(startRelayServer({ db, port: 0, tls: tls() })).rejects.toMatchObject({ code: 'BAD_TLS' });
    // The failed start released the database's lock.
    const relay = await startRelayServer({ db, port: 0 });
    await relay.close();
  });
});
