/**
 * What one key may cost the relay (spec/relay-api.md §5): requests, request body bytes, and time of
 * the relay's threads, each a token bucket per key. A request over its key's budget is answered
 * 429 RATE_LIMITED with a Retry-After (the client waits and sends it again); it is refused before
 * its body is read, so an over-budget key costs the relay its headers only.
 */
import { RelayError } from './errors.js';
import type { RelayLimits } from './limits.js';

export type BudgetName = 'requests' | 'bytes' | 'cpu';

/** Token buckets by key: `take` spends now or answers the wait; `charge` spends after the fact. */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: { perSecond: number; burst: number };

  constructor(rate: { perSecond: number; burst: number }) {
    this.#rate = rate;
  }

  /** Spends `amount` and answers 0, or answers how many seconds until it could be spent (≥ 1). */
  take(key: string, amount: number, now: number): number {
    const bucket = this.#filled(key, now);
    // More than a full bucket could never be spent: it waits for a full one and goes into debt.
    const needed = Math.min(amount, this.#rate.burst);
    if (bucket.tokens >= needed) {
      bucket.tokens -= amount;
      return 0;
    }
    return Math.max(1, Math.ceil((needed - bucket.tokens) / this.#rate.perSecond));
  }

  /** Seconds until the key is out of debt (0: it is not in debt). */
  wait(key: string, now: number): number {
    const bucket = this.#filled(key, now);
    return bucket.tokens >= 0 ? 0 : Math.max(1, Math.ceil(-bucket.tokens / this.#rate.perSecond));
  }

  /** Gives back `amount` taken for work that was not done (never above the burst). */
  refund(key: string, amount: number, now: number): void {
    const bucket = this.#filled(key, now);
    bucket.tokens = Math.min(this.#rate.burst, bucket.tokens + amount);
  }

  /** Spends `amount` already used (the bucket may go below zero). */
  charge(key: string, amount: number, now: number): void {
    this.#filled(key, now).tokens -= amount;
  }

  #filled(key: string, now: number): { tokens: number; at: number } {
    const { perSecond, burst } = this.#rate;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }
}

/** Every key's three budgets; refusals are counted by budget for /metrics. */
export class KeyBudgets {
  readonly #requests: TokenBuckets;
  readonly #bytes: TokenBuckets;
  readonly #cpu: TokenBuckets;
  readonly #limits: RelayLimits;
  readonly refused: Record<BudgetName, number> = { requests: 0, bytes: 0, cpu: 0 };

  constructor(limits: RelayLimits) {
    this.#limits = limits;
    this.#requests = new TokenBuckets(limits.rate);
    this.#bytes = new TokenBuckets(limits.bytesPerKey);
    this.#cpu = new TokenBuckets(limits.cpuMsPerKey);
  }

  /**
   * Admits one request of `key` with a body of `bytes` (its Content-Length, 0 without one), or
   * throws 429 RATE_LIMITED naming the budget it is over, with a Retry-After. Spends nothing when
   * it refuses, except the request itself. With `metered` false (the admin key) only the request
   * rate counts: the forum's enrollments and revocations are few, and a revocation must not wait.
   */
  admit(key: string, bytes: number, now: number, metered = true): void {
    const { rate, bytesPerKey, cpuMsPerKey } = this.#limits;
    const waitRequests = this.#requests.take(key, 1, now);
    if (waitRequests > 0) {
      throw this.#refuse(
        'requests',
        `too many requests from ${key} (${rate.perSecond}/s, bursts of ${rate.burst})`,
        waitRequests,
      );
    }
    if (!metered) return;
    const waitCpu = this.#cpu.wait(key, now);
    if (waitCpu > 0) {
      throw this.#refuse(
        'cpu',
        `${key}'s requests have used their share of the relay's time (${cpuMsPerKey.perSecond} ms/s, bursts of ${cpuMsPerKey.burst / 1000} s)`,
        waitCpu,
      );
    }
    const waitBytes = bytes > 0 ? this.#bytes.take(key, bytes, now) : 0;
    if (waitBytes > 0) {
      throw this.#refuse(
        'bytes',
        `${key} has sent its share of request bytes (${mib(bytesPerKey.perSecond)} MiB/s, bursts of ${mib(bytesPerKey.burst)} MiB)`,
        waitBytes,
      );
    }
  }

  /**
   * Gives back the bytes `admit` charged for a body the relay then did not read (503 BUSY: other
   * requests' bodies filled its budget), so that one key's retries do not pay for the others' load.
   */
  refundBytes(key: string, bytes: number, now: number): void {
    if (bytes > 0) this.#bytes.refund(key, bytes, now);
  }

  /** Charges `ms` of the relay's threads to `key`. */
  chargeCpu(key: string, ms: number, now: number): void {
    if (ms > 0) this.#cpu.charge(key, ms, now);
  }

  #refuse(budget: BudgetName, message: string, retryAfter: number): RelayError {
    this.refused[budget]++;
    return new RelayError('RATE_LIMITED', message, { retryAfter });
  }
}

function mib(bytes: number): string {
  return String(Math.round((bytes / (1024 * 1024)) * 10) / 10);
}
