/**
 * When and how long the client waits before trying a request again: exponential backoff with full
 * jitter (the delay before retry k is uniform in [0, min(max, base·2^k))), so that labs cut off by
 * the same relay restart do not all come back at the same instant. 408, 429 and 5xx answers and
 * network failures are retried; other 4xx answers are final. A `Retry-After` from the relay (429,
 * or 503 while it shuts down) is a floor on the wait.
 *
 * Retrying an upload is safe: the relay answers the same envelope bytes with the original receipt
 * (spec/relay-api.md §4), and every attempt is signed again with a fresh nonce (§2).
 */
import { ClientError } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  attempts?: number;
  /** Upper bound of the first retry's delay, in ms (default 100); it doubles with each retry. */
  baseDelayMs?: number;
  /** Cap on any one backoff delay, in ms (default 5000). */
  maxDelayMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: Readonly<RetryPolicy> = { attempts: 8, baseDelayMs: 100, maxDelayMs: 5000 };

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...options };
  if (!Number.isSafeInteger(policy.attempts) || policy.attempts < 1) {
    throw new ClientError('BAD_ARGUMENT', `retry.attempts must be a whole number ≥ 1, got ${policy.attempts}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) {
      throw new ClientError('BAD_ARGUMENT', `retry.${name} must be a number ≥ 0, got ${policy[name]}`);
    }
  }
  return policy;
}

/** Whether an HTTP status is worth another attempt: 408, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Full-jitter backoff before retry `retry` (0 for the first retry), with `random()` in [0, 1). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry, 52));
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds a `Retry-After` value asks for: delay-seconds (the relay's form), or an HTTP date
 * (IMF-fixdate, RFC 9110 §10.2.3, §5.6.7). Undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only IMF-fixdate: Date.parse alone would read almost anything as some date.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The wait before retry `retry`: the backoff delay, but never less than what `Retry-After` asked. */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  return Math.max(backoffDelay(retry, policy, random), retryAfterMs ?? 0);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
