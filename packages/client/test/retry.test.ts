import { encodeDeterministic } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import { parseRelayError } from '../src/cbor-body.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isRetryableStatus,
  nextRetryDelay,
  parseRetryAfter,
  retryDelay,
  retryPolicy,
  sleep,
} from '../src/retry.js';

describe('which answers are retried', () => {
  test.each([408, 429, 500, 502, 503, 504, 599])('HTTP %i is retried', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });

  test.each([200, 400, 401, 403, 404, 405, 409, 413, 415, 422])('HTTP %i is final', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('full-jitter exponential backoff', () => {
  const policy = retryPolicy();

  test('defaults: 8 attempts, 100 ms base, 5 s cap, no time limit', () => {
    expect(policy).toEqual({ attempts: 8, baseDelayMs: 100, maxDelayMs: 5000, maxElapsedMs: Number.POSITIVE_INFINITY });
    expect(DEFAULT_RETRY).toEqual(policy);
  });

  test('the ceiling doubles with each retry up to the cap, and the delay is uniform below it', () => {
    const justBelowOne = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 60, 2000].map((k) => backoffDelay(k, policy, justBelowOne))).toEqual([
      99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999, 4999,
    ]);
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
  });

  test('Retry-After is a floor on the wait, never shortened by jitter', () => {
    expect(retryDelay(0, policy, 3000, () => 0.5)).toBe(3000);
    expect(retryDelay(6, policy, 1000, () => 0.999_999)).toBe(4999);
    expect(retryDelay(0, policy, undefined, () => 0.5)).toBe(50);
  });

  test('nonsense options are BAD_ARGUMENT', () => {
    for (const retry of [
      { attempts: 0 },
      { attempts: 1.5 },
      { attempts: Number.POSITIVE_INFINITY },
      { baseDelayMs: -1 },
      { maxDelayMs: Number.NaN },
      { maxElapsedMs: -1 },
      { maxElapsedMs: Number.POSITIVE_INFINITY },
      { maxElapsedMs: Number.NaN },
      { onRetry: 'log' as unknown as () => void },
    ]) {
      expect(() => retryPolicy(retry)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    }
  });
});

describe('the retry budget: attempts, time, or both', () => {
  const never = () => 0.999_999;

  test('attempts alone (the default): a wait after each of the first 7 failures, none after the 8th', () => {
    const policy = retryPolicy();
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map((failed) => nextRetryDelay(policy, failed, 1e12, undefined, never));
    expect(waits).toEqual([99, 199, 399, 799, 1599, 3199, 4999, undefined]);
  });

  test('maxElapsedMs alone: no limit on attempts, the wait shortened to end with the time', () => {
    const policy = retryPolicy({ maxElapsedMs: 60_000 });
    expect(policy.attempts).toBe(Number.POSITIVE_INFINITY);
    expect(nextRetryDelay(policy, 500, 10_000, undefined, never)).toBe(4999);
    expect(nextRetryDelay(policy, 500, 58_000, undefined, never)).toBe(2000);
    expect(nextRetryDelay(policy, 500, 59_999.5, undefined, never)).toBe(1);
    expect(nextRetryDelay(policy, 500, 60_000, undefined, never)).toBeUndefined();
    expect(nextRetryDelay(policy, 1, 70_000, undefined, never)).toBeUndefined();
  });

  test('both: whichever runs out first', () => {
    const policy = retryPolicy({ attempts: 3, maxElapsedMs: 60_000 });
    expect(nextRetryDelay(policy, 2, 100, undefined, never)).toBe(199);
    expect(nextRetryDelay(policy, 3, 100, undefined, never)).toBeUndefined();
    expect(nextRetryDelay(policy, 1, 60_001, undefined, never)).toBeUndefined();
  });

  test('a Retry-After beyond the time left ends the retries; within it, it is the floor', () => {
    const policy = retryPolicy({ maxElapsedMs: 10_000 });
    expect(nextRetryDelay(policy, 1, 0, 30_000, never)).toBeUndefined();
    expect(nextRetryDelay(policy, 1, 0, 3_000, never)).toBe(3_000);
  });

  test('an option given as undefined keeps its default', () => {
    expect(retryPolicy({ attempts: undefined, maxDelayMs: undefined })).toEqual(DEFAULT_RETRY);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  test('delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
  });

  test('absent or malformed: no floor', () => {
    for (const value of [null, '', '-1', '1.5', 'soon', '99999999999'])
      expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('sleep', () => {
  test('an abort ends the wait at once with the signal reason', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('error bodies', () => {
  test('the CBOR { error: { code, message } } of the relay', () => {
    const body = encodeDeterministic({ error: { code: 'CHAIN_BROKEN', message: 'seq 3 after 1' } });
    expect(parseRelayError(body, 'application/cbor')).toEqual({ code: 'CHAIN_BROKEN', message: 'seq 3 after 1' });
  });

  test('the JSON form of the JSON endpoints', () => {
    const body = new TextEncoder().encode('{"error":{"code":"NOT_FOUND","message":"no"}}');
    expect(parseRelayError(body, 'application/json; charset=utf-8')).toEqual({ code: 'NOT_FOUND', message: 'no' });
  });

  test.each([
    ['an HTML page', new TextEncoder().encode('<html>bad gateway</html>')],
    ['an empty body', new Uint8Array(0)],
    ['CBOR without error', encodeDeterministic({ code: 'X' })],
    ['a code that is not a code', encodeDeterministic({ error: { code: 'not a code\n', message: '' } })],
    ['a code that is not text', encodeDeterministic({ error: { code: 7, message: '' } })],
    ['non-deterministic CBOR', Uint8Array.of(0xbf, 0xff)],
  ])('%s is not a relay error', (_, body) => {
    expect(parseRelayError(body, 'application/cbor')).toBeUndefined();
  });
});
