import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RELAY_VERSION, startRelayServer } from '../src/index.js';
import { TestRelay } from './support/harness.js';

describe('relay HTTP server on loopback', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await TestRelay.start();
  });
  afterAll(async () => {
    await relay.close();
  });

  test('GET /healthz answers ok with the version', async () => {
    const response = await fetch(`${relay.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ status: 'ok', version: RELAY_VERSION });
  });

  test('an unknown path is a 404 naming the path', async () => {
    const answer = await relay.request('GET', '/nope');
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toBe('application/cbor');
    expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND', message: 'no route for /nope' } });
  });

  test('a wrong method is a 405 with Allow', async () => {
    const response = await fetch(`${relay.url}/healthz`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('listen errors', () => {
  test.each([[-1], [65536], [1.5]])('port %s is a BAD_LISTEN_ADDRESS error', async (port) => {
    await expect(startRelayServer({ port })).rejects.toMatchObject({ code: 'BAD_LISTEN_ADDRESS' });
  });

  test('a port already in use is a LISTEN_FAILED error, not a crash', async () => {
    const first = await TestRelay.start();
    const second = await TestRelay.start();
    try {
      await second.relay.close();
      const port = Number(new URL(first.url).port);
      await expect(startRelayServer({ db: second.options.db as string, port })).rejects.toMatchObject({
        code: 'LISTEN_FAILED',
      });
      // The failed start released the database: it can start now on a free port.
      const again = await startRelayServer({ db: second.options.db as string, port: 0 });
      await again.close();
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('a relay without a home is a NOT_INITIALIZED error naming the init command', async () => {
    await expect(startRelayServer({ db: '/nonexistent/overlap/relay.db', port: 0 })).rejects.toMatchObject({
      code: 'NOT_INITIALIZED',
      message: expect.stringContaining('overlap relay init'),
    });
  });
});
