/**
 * A `Retry-After` too large to take at its word, from a real HTTP server on loopback answering 503:
 * the client waits at most MAX_RETRY_AFTER_MS (5 min) — not 31 years, and not at once, as a timer
 * overflowing would — and within a time budget (`maxElapsedMs`) one asking past it ends the retries
 * at once. And `sleep` waits longer than a Node timer holds (2^31 - 1 ms) without firing early.
 */
import { createServer, type Server } from 'node:http';
import { encodeDeterministic } from '@overlap/protocol';
import { afterAll, expect, test } from 'vitest';
import { ClientError, RelayClient } from '../src/index.js';
import { MAX_RETRY_AFTER_MS, type RetryInfo, sleep } from '../src/retry.js';

const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A relay shutting down: 503 UNAVAILABLE to every request, with this Retry-After; counts them. */
async function unavailable(retryAfter: string) {
  let requests = 0;
  const server = createServer((_, res) => {
    requests++;
    res.writeHead(503, { 'content-type': 'application/cbor', 'retry-after': retryAfter });
    res.end(encodeDeterministic({ error: { code: 'UNAVAILABLE', message: 'shutting down' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

/** Runs `relayInfo` against `url` until the first retry is announced, then aborts; returns what it heard. */
async function firstRetry(url: string, retry: object = {}) {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  const controller = new AbortController();
  const heard: RetryInfo[] = [];
  const client = new RelayClient({
    url,
    signal: controller.signal,
    retry: {
      ...retry,
      onRetry: (info) => {
        heard.push(info);
        controller.abort(new Error('stopped by the test'));
      },
    },
  });
  const outcome = await client.relayInfo().then(
    () => undefined,
    (error: unknown) => error,
  );
  process.off('warning', onWarning);
  return { heard, outcome, warnings };
}

test.each([
  ['999999999', 'delay-seconds of 9 digits'],
  ['Fri, 31 Dec 9999 23:59:59 GMT', 'a date in the year 9999'],
])('Retry-After %j (%s) is waited as 5 minutes at most, without a timer overflowing', async (value) => {
  const relay = await unavailable(value);
  const { heard, outcome, warnings } = await firstRetry(relay.url);
  expect(heard).toHaveLength(1);
  expect(heard[0]).toMatchObject({ attempt: 1, delayMs: MAX_RETRY_AFTER_MS, reason: 'HTTP 503 UNAVAILABLE' });
  expect(outcome).toMatchObject({ message: 'stopped by the test' });
  expect(relay.requests()).toBe(1);
  expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
});

test('within a budget of an hour, a 9-digit Retry-After is waited as 5 minutes', async () => {
  const relay = await unavailable('999999999');
  const { heard } = await firstRetry(relay.url, { maxElapsedMs: 3_600_000 });
  expect(heard.map((info) => info.delayMs)).toEqual([MAX_RETRY_AFTER_MS]);
});

test('within a budget shorter than the wait asked, the retries end at once, saying what the relay answered', async () => {
  const relay = await unavailable('999999999');
  const started = performance.now();
  const heard: RetryInfo[] = [];
  const error = await new RelayClient({
    url: relay.url,
    retry: { maxElapsedMs: 60_000, onRetry: (info) => heard.push(info) },
  })
    .relayInfo()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).message).toMatch(/HTTP 503 UNAVAILABLE/);
  expect(heard).toEqual([]);
  expect(relay.requests()).toBe(1);
  expect(performance.now() - started).toBeLessThan(30_000);
});

test('sleep waits past what one timer holds: a 2^32 ms wait is still waiting after a 50 ms one ended', async () => {
  const controller = new AbortController();
  let ended = false;
  const long = sleep(2 ** 32, controller.signal).then(
    () => {
      ended = true;
    },
    () => {},
  );
  await sleep(50);
  expect(ended).toBe(false);
  controller.abort();
  await long;
  expect(ended).toBe(false);
});
