import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RELAY_VERSION, type RelayServer, startRelayServer } from '../src/index.js';

describe('relay HTTP server on loopback', () => {
  let relay: RelayServer;
  beforeAll(async () => {
    relay = await startRelayServer({ port: 0 });
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
    const response = await fetch(`${relay.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: 'no route for /nope' } });
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
    const first = await startRelayServer({ port: 0 });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startRelayServer({ port })).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
    } finally {
      await first.close();
    }
  });
});
