/**
 * What a lab is told while its relay does not serve it: one line when the client starts retrying
 * ("relay unreachable (connection refused); retrying for up to 10 min", or "relay unavailable
 * (HTTP 503 UNAVAILABLE)" when it answers with an error status), one when the relay is back
 * ("relay is back after 47 s"), nothing for each attempt in between. The client's retry budget
 * (`--retry-for`) does the waiting; this only watches its `onRetry` reports and, while one is
 * under way, asks the relay's /healthz now and then to say when it answers again.
 *
 * Before the first answer of the relay (connecting), the old short budget holds: a relay that
 * never served this lab (a wrong URL, a relay not started, a proxy answering 503) fails after
 * `startupAttempts` attempts instead of being waited on for minutes, and the failure says what
 * those attempts met: no answer (and why), an HTTP status, or some of each, counted.
 */
import { attemptsMet, checkRelayHealth, type RetryOptions } from '@overlap/client';
import { formatDuration } from '../progress.js';

/** What the client reports before each wait between attempts. */
type RetryInfo = Parameters<NonNullable<RetryOptions['onRetry']>>[0];

/** Whether the client's reason is an HTTP answer (`HTTP 503 UNAVAILABLE`), not a network failure. */
function answered(reason: string): boolean {
  return /^HTTP /.test(reason);
}

export interface OutageOptions {
  relayUrl: string;
  /** How long the client waits out an outage, ms (its `retry.maxElapsedMs`). */
  retryForMs: number;
  /** Where the two lines go. */
  note: (text: string) => void;
  /**
   * Called when the relay never served this lab yet and `startupAttempts` attempts failed, with
   * what to tell the lab: what those attempts met.
   */
  onStartupFailure: (message: string) => void;
  startupAttempts?: number;
  /** Between two health checks while waiting, ms (default 1000). */
  probeMs?: number;
}

export class OutageReporter {
  readonly #options: OutageOptions;
  #connected = false;
  #since: number | undefined;
  #probe: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Before the first answer: how many attempts met each reason, in the order first met. */
  readonly #startup = new Map<string, number>();

  constructor(options: OutageOptions) {
    this.#options = options;
  }

  /** The relay answered once: from now on an outage is waited out. */
  connected(): void {
    this.#connected = true;
  }

  /** The client's `retry.onRetry`. */
  readonly onRetry = (info: RetryInfo): void => {
    if (!this.#connected) {
      const attempts = this.#options.startupAttempts ?? 8;
      if (info.attempt === 1) {
        this.#startup.clear();
        const met = answered(info.reason) ? `answered ${info.reason}` : `does not answer (${info.reason})`;
        this.#options.note(`the relay at ${this.#options.relayUrl} ${met}; ${attempts} attempts before giving up`);
      }
      this.#startup.set(info.reason, (this.#startup.get(info.reason) ?? 0) + 1);
      if (info.attempt >= attempts) this.#options.onStartupFailure(this.#startupFailure(info));
      return;
    }
    if (this.#since !== undefined || this.#stopped) return;
    this.#since = performance.now();
    const what = answered(info.reason) ? 'relay unavailable' : 'relay unreachable';
    this.#options.note(
      `${what} (${info.reason}); retrying for up to ${formatDuration(this.#options.retryForMs / 1000)}`,
    );
    this.#schedule();
  };

  /**
   * What the attempts before the first answer met: `cannot reach the relay at URL: connection
   * refused (ECONNREFUSED) on all 8 attempts (GET /v1/relay)`, `the relay at URL answered HTTP 503
   * UNAVAILABLE on all 8 attempts (…)`, or each reason counted when they differ.
   */
  #startupFailure(info: RetryInfo): string {
    const url = this.#options.relayUrl;
    const reasons = [...this.#startup];
    const [only] = reasons;
    if (reasons.length === 1 && only !== undefined) {
      const [reason, n] = only;
      return answered(reason)
        ? `the relay at ${url} answered ${reason} on all ${n} attempts (${info.what})`
        : `cannot reach the relay at ${url}: ${reason} on all ${n} attempts (${info.what})`;
    }
    const total = reasons.reduce((sum, [, n]) => sum + n, 0);
    const counted = attemptsMet(reasons.map(([reason, n]) => ({ reason, n, answered: answered(reason) })));
    return `the relay at ${url} did not serve ${info.what} in ${total} attempts: ${counted}`;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#probe !== undefined) clearTimeout(this.#probe);
  }

  #schedule(): void {
    this.#probe = setTimeout(() => void this.#check(), this.#options.probeMs ?? 1000);
    this.#probe.unref();
  }

  async #check(): Promise<void> {
    if (this.#stopped || this.#since === undefined) return;
    try {
      await checkRelayHealth(this.#options.relayUrl, { signal: AbortSignal.timeout(5000) });
    } catch {
      this.#schedule();
      return;
    }
    if (this.#stopped) return;
    const seconds = (performance.now() - this.#since) / 1000;
    this.#since = undefined;
    this.#options.note(`relay is back after ${formatDuration(seconds)}`);
  }
}
