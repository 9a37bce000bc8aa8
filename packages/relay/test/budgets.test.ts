/**
 * The per-key budgets (spec/relay-api.md §5) on an explicit clock: requests, bytes and CPU time are
 * token buckets that refill at their rate up to their burst; a refusal is 429 RATE_LIMITED naming
 * the budget, with the seconds until it could pass; keys do not share buckets.
 */
import { describe, expect, test } from 'vitest';
import { KeyBudgets, TokenBuckets } from '../src/budgets.js';
import { DEFAULT_LIMITS, type RelayLimits } from '../src/limits.js';

describe('TokenBuckets', () => {
  test('a full burst, then refills at the rate, never above the burst', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 30 });
    expect(buckets.take('k', 30, 0)).toBe(0);
    expect(buckets.take('k', 1, 0)).toBe(1); // empty: 1 token comes in 0.1 s, answered in whole seconds
    expect(buckets.take('k', 25, 0)).toBe(3); // 25 tokens at 10/s
    expect(buckets.take('k', 5, 500)).toBe(0); // 0.5 s gave 5
    expect(buckets.take('k', 1, 500)).toBe(1);
    expect(buckets.take('k', 30, 1_000_000)).toBe(0); // a long idle fills it to the burst only
    expect(buckets.take('k', 1, 1_000_000)).toBe(1);
  });

  test('keys have their own buckets', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2 });
    expect(buckets.take('a', 2, 0)).toBe(0);
    expect(buckets.take('a', 1, 0)).toBe(1);
    expect(buckets.take('b', 2, 0)).toBe(0);
  });

  test('more than a burst waits for a full bucket and leaves a debt; charge spends after the fact', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 20 });
    expect(buckets.take('k', 50, 0)).toBe(0); // a full bucket: taken, 30 in debt
    expect(buckets.wait('k', 0)).toBe(3);
    expect(buckets.wait('k', 3_000)).toBe(0); // 3 s paid the debt... and no more
    expect(buckets.take('k', 1, 3_000)).toBe(1);
    buckets.charge('j', 25, 0);
    expect(buckets.wait('j', 0)).toBe(1); // 20 − 25 = −5: 0.5 s
    expect(buckets.wait('j', 600)).toBe(0);
  });

  test('a clock that goes back refills nothing', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 10 });
    expect(buckets.take('k', 10, 5_000)).toBe(0);
    expect(buckets.take('k', 1, 1_000)).toBe(1);
  });
});

describe('KeyBudgets', () => {
  const limits: RelayLimits = {
    ...DEFAULT_LIMITS,
    rate: { perSecond: 100, burst: 100 },
    bytesPerKey: { perSecond: 1000, burst: 4000 },
    cpuMsPerKey: { perSecond: 100, burst: 500 },
  };

  test('bytes: the declared length is charged, and the refusal names the budget and when to come back', () => {
    const budgets = new KeyBudgets(limits);
    budgets.admit('lab', 4000, 0);
    expect(() => budgets.admit('lab', 1500, 0)).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED', retryAfter: 2, message: expect.stringMatching(/request bytes/) }),
    );
    budgets.admit('lab', 0, 0); // a request without a body costs no bytes
    budgets.admit('other', 4000, 0);
    budgets.admit('lab', 1500, 1500);
    expect(budgets.refused).toEqual({ requests: 0, bytes: 1, cpu: 0 });
  });

  test('bytes refunded for a body the relay did not read come back, never above the burst', () => {
    const budgets = new KeyBudgets(limits);
    budgets.admit('lab', 4000, 0);
    expect(() => budgets.admit('lab', 1000, 0)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    budgets.refundBytes('lab', 4000, 0);
    budgets.admit('lab', 4000, 0);
    budgets.refundBytes('lab', 1_000_000, 0);
    budgets.admit('lab', 4000, 0);
    expect(() => budgets.admit('lab', 1, 0)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });

  test('CPU: a key in debt is refused until it is back in credit; others are not', () => {
    const budgets = new KeyBudgets(limits);
    budgets.admit('lab', 10, 0);
    budgets.chargeCpu('lab', 800, 0); // 500 − 800 = −300: 3 s at 100 ms/s
    expect(() => budgets.admit('lab', 10, 0)).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED', retryAfter: 3, message: expect.stringMatching(/relay's time/) }),
    );
    budgets.admit('other', 10, 0);
    expect(() => budgets.admit('lab', 10, 2_900)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    budgets.admit('lab', 10, 3_100);
    expect(budgets.refused.cpu).toBe(2);
  });

  test('the admin key (unmetered) has the request rate only: in debt, over its bytes, it is admitted', () => {
    const budgets = new KeyBudgets({ ...limits, rate: { perSecond: 1, burst: 1 } });
    budgets.chargeCpu('admin', 10_000, 0);
    budgets.admit('admin', 1_000_000, 0, false);
    expect(() => budgets.admit('admin', 0, 0, false)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    expect(budgets.refused).toEqual({ requests: 1, bytes: 0, cpu: 0 });
  });

  test('requests: the rate comes first, and its refusal names it', () => {
    const budgets = new KeyBudgets({ ...limits, rate: { perSecond: 1, burst: 2 } });
    budgets.admit('lab', 0, 0);
    budgets.admit('lab', 0, 0);
    expect(() => budgets.admit('lab', 0, 0)).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        retryAfter: 1,
        message: expect.stringMatching(/too many requests/),
      }),
    );
    expect(budgets.refused).toEqual({ requests: 1, bytes: 0, cpu: 0 });
  });

  test('the defaults leave an honest 3 × 1,000,000 lab room: ~100 MB per kind, ~10 s of relay time', () => {
    const budgets = new KeyBudgets(DEFAULT_LIMITS);
    // 100 MB in 8 MiB bodies over 20 s, and 10 s of CPU over the same 20 s.
    for (let t = 0; t < 20_000; t += 1_680) {
      budgets.admit('lab', 8 * 1024 * 1024, t);
      budgets.chargeCpu('lab', 840, t);
    }
    expect(budgets.refused).toEqual({ requests: 0, bytes: 0, cpu: 0 });
  });
});
