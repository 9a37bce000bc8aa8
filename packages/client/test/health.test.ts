import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { checkRelayHealth } from '../src/index.js';

/** A loopback port that nothing listens on: bind one, note it, release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

describe('checkRelayHealth failures', () => {
  test('a relay that is not listening is RELAY_UNREACHABLE', async () => {
    const port = await closedPort();
    await expect(checkRelayHealth(`http://127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
  });

  test('a bad URL is BAD_RELAY_URL before any request', async () => {
    await expect(checkRelayHealth('gopher://x')).rejects.toMatchObject({ code: 'BAD_RELAY_URL' });
  });

  test('an aborted request rejects with the abort, not a relay error', async () => {
    const port = await closedPort();
    const signal = AbortSignal.abort();
    await expect(checkRelayHealth(`http://127.0.0.1:${port}`, { signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('checkRelayHealth says why', () => {
  test('the OS reason of a refused connection is in the message', async () => {
    const port = await closedPort();
    await expect(checkRelayHealth(`http://127.0.0.1:${port}`)).rejects.toMatchObject({
      code: 'RELAY_UNREACHABLE',
      message: `cannot reach the relay at 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    });
  });

  test('https:// against a plain-HTTP server is TLS_FAILED, naming http://', async () => {
    const server = createHttpServer((_, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(checkRelayHealth(`https://127.0.0.1:${port}`)).rejects.toMatchObject({
        code: 'TLS_FAILED',
        message: expect.stringContaining(
          `does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER): use http://127.0.0.1:${port}`,
        ),
      });
    } finally {
      server.close();
    }
  });
});
