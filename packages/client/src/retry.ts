/**
 * When and how long the client waits before trying a request again: exponential backoff with full
 * jitter (the delay before retry k is uniform in [0, min(max, base·2^k))), so that labs cut off by
 * the same relay restart do not all come back at the same instant. 408, 429 and 5xx answers and
 * network failures are retried; other 4xx answers, and TLS mistakes (network-failure.ts), are final.
 * A `Retry-After` from the relay (429, or 503 while it shuts down) is a floor on the wait, taken
 * as at most 5 minutes (`MAX_RETRY_AFTER_MS`): the relay asks for seconds, and a larger value (a
 * misconfigured proxy, a hostile relay, 999999999 s) must neither hold a lab for days nor overflow
 * the timer (Node runs a setTimeout of more than 2^31 - 1 ms at once, and the retries would hammer).
 *
 * The budget is a number of attempts, a span of time, or both (whichever runs out first): by
 * default 8 attempts, about 10 s of waiting at most; with `maxElapsedMs` a lab waits out an outage
 * of the relay (a restart, an upgrade) for as long as it was told to, and `onRetry` says so.
 *
 * Retrying an upload is safe: the relay answers the same envelope bytes with the original receipt
 * (spec/relay-api.md §4), and every attempt is signed again with a fresh nonce (§2).
 */
import { ClientError } from './errors.js';

/** What `onRetry` hears before each wait: no secret, no request body, only what failed and why. */
export interface RetryInfo {
  /** The request, e.g. `POST /v1/sessions/…/envelopes`. */
  what: string;
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** How long the client waits now before the next attempt. */
  delayMs: number;
  /** Why the attempt failed: `connection refused (ECONNREFUSED)`, `HTTP 503 UNAVAILABLE`. */
  reason: string;
}

/** Every field may be left out, or given as `undefined`, to keep its default. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included: a whole number ≥ 1, or `Infinity` with `maxElapsedMs`.
   * Default 8; with `maxElapsedMs` and no `attempts`, only the time counts.
   */
  attempts?: number | undefined;
  /** Upper bound of the first retry's delay, in ms (default 100); it doubles with each retry. */
  baseDelayMs?: number | undefined;
  /** Cap on any one backoff delay, in ms (default 5000). */
  maxDelayMs?: number | undefined;
  /**
   * Keep retrying until this many ms have passed since the first attempt began (default: no time
   * limit, `attempts` alone counts). No attempt starts later than that; one in flight then (a
   * long-poll, an upload) is not cut short. A `Retry-After` reaching past it ends the retries.
   */
  maxElapsedMs?: number | undefined;
  /** Called before each wait between attempts (for a log line: "relay unreachable, retrying in 2 s"). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** `Infinity` when only `attempts` counts. */
  maxElapsedMs: number;
  onRetry?: (info: RetryInfo) => void;
}

/** The longest wait a `Retry-After` is taken to ask for: 5 minutes. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Node's timers hold at most 2^31 - 1 ms; `sleep` waits longer in steps of this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  attempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  maxElapsedMs: Number.POSITIVE_INFINITY,
};

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const timed = options.maxElapsedMs !== undefined;
  const policy = {
    ...DEFAULT_RETRY,
    ...(timed && { attempts: Number.POSITIVE_INFINITY }),
    ...definedFields(options),
  } as RetryPolicy;
  const { attempts, maxElapsedMs } = policy;
  if (!(Number.isSafeInteger(attempts) && attempts >= 1) && !(attempts === Number.POSITIVE_INFINITY && timed)) {
    throw new ClientError(
      'BAD_ARGUMENT',
      `retry.attempts must be a whole number ≥ 1 (or Infinity with retry.maxElapsedMs), got ${attempts}`,
    );
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) {
      throw new ClientError('BAD_ARGUMENT', `retry.${name} must be a number ≥ 0, got ${policy[name]}`);
    }
  }
  if (timed && !(Number.isFinite(maxElapsedMs) && maxElapsedMs >= 0)) {
    throw new ClientError('BAD_ARGUMENT', `retry.maxElapsedMs must be a number of ms ≥ 0, got ${maxElapsedMs}`);
  }
  if (policy.onRetry !== undefined && typeof policy.onRetry !== 'function') {
    throw new ClientError('BAD_ARGUMENT', 'retry.onRetry must be a function');
  }
  return policy;
}

/** The options that were given, without the ones set to `undefined` (which must not erase a default). */
function definedFields(options: RetryOptions): Partial<RetryPolicy> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<RetryPolicy>;
}

/**
 * The wait before the next attempt, after `attempts` failed ones and `elapsedMs` since the first
 * began; undefined when the budget is spent (no attempt left, no time left, or a `Retry-After`
 * reaching past the time left). The wait is shortened to end when the time does.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempts: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempts >= policy.attempts) return undefined;
  const left = policy.maxElapsedMs - elapsedMs;
  if (left <= 0 || (retryAfterMs ?? 0) > left) return undefined;
  return Math.min(retryDelay(attempts - 1, policy, retryAfterMs, random), Math.ceil(left));
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
 * (IMF-fixdate, RFC 9110 §10.2.3, §5.6.7), at most `MAX_RETRY_AFTER_MS`. Undefined when absent or
 * malformed.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  // Only IMF-fixdate: Date.parse alone would read almost anything as some date.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - nowMs), MAX_RETRY_AFTER_MS);
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

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts. A wait longer than a timer
 * holds (a `maxDelayMs` of weeks) is waited in steps, never cut to nothing.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const until = performance.now() + ms;
    let timer: ReturnType<typeof setTimeout>;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const wait = () => {
      const left = until - performance.now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(wait, Math.min(ms, MAX_TIMER_MS));
  });
}
