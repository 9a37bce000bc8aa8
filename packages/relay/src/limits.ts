/**
 * The relay's limits (spec/relay-api.md §5): what one request, one set and one key may cost it.
 * Defaults fit a forum of a few dozen labs on one modest machine; an operator raises them with
 * `RelayOptions.limits`.
 */
export interface RelayLimits {
  /** Largest request body, bytes. A 65,536-tag chunk is about 2.2 MB. */
  maxBodyBytes: number;
  /** Largest `maxItemsPerKind` a proposal may set (and so the largest committed set). */
  maxItemsPerSet: number;
  /** Time for a whole request to arrive, milliseconds (a slow-drip body is cut off). */
  requestTimeoutMs: number;
  /** Requests per second and burst per key (token bucket). */
  rate: { perSecond: number; burst: number };
  /** Deadline given to a session whose proposal sets none, milliseconds after the proposal. */
  defaultSessionMs: number;
  /** Most bytes of envelopes in one inbox answer. */
  maxInboxBytes: number;
  /** Longest long-poll of the inbox, milliseconds. */
  maxWaitMs: number;
  /** How far (seconds) a request's `created` and `expires` may be from the relay's clock. */
  clockSkewSeconds: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxItemsPerSet: 2_000_000,
  requestTimeoutMs: 30_000,
  rate: { perSecond: 200, burst: 400 },
  defaultSessionMs: 24 * 60 * 60 * 1000,
  maxInboxBytes: 8 * 1024 * 1024,
  maxWaitMs: 25_000,
  clockSkewSeconds: 30,
};

/** Per-key token buckets: `take` answers how many seconds to wait, 0 when the request may go. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: RelayLimits['rate'];

  constructor(rate: RelayLimits['rate']) {
    this.#rate = rate;
  }

  take(key: string, now: number): number {
    const { perSecond, burst } = this.#rate;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}
