/**
 * What a lab is told while its relay does not answer: one line when the client starts retrying
 * ("relay unreachable (connection refused); retrying for up to 10 min"), one when the relay is back
 * ("relay is back after 47 s"), nothing for each attempt in between. The client's retry budget
 * (`--retry-for`) does the waiting; this only watches its `onRetry` reports and, while one is
 * under way, asks the relay's /healthz now and then to say when it answers again.
 *
 * Before the first answer of the relay (connecting), the old short budget holds: a relay that
 * never answered (a wrong URL, a relay not started) fails after `startupAttempts` attempts instead
 * of being waited on for minutes.
 */
import { checkRelayHealth, type RetryOptions } from '@overlap/client';
import { formatDuration } from '../progress.js';

/** What the client reports before each wait between attempts. */
type RetryInfo = Parameters<NonNullable<RetryOptions['onRetry']>>[0];

export interface OutageOptions {
  relayUrl: string;
  /** How long the client waits out an outage, ms (its `retry.maxElapsedMs`). */
  retryForMs: number;
  /** Where the two lines go. */
  note: (text: string) => void;
  /** Called when the relay never answered yet and `startupAttempts` attempts failed. */
  onStartupFailure: (info: RetryInfo) => void;
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
        this.#options.note(
          `the relay at ${this.#options.relayUrl} does not answer (${info.reason}); ${attempts} attempts before giving up`,
        );
      }
      if (info.attempt >= attempts) this.#options.onStartupFailure(info);
      return;
    }
    if (this.#since !== undefined || this.#stopped) return;
    this.#since = performance.now();
    const what = /^HTTP /.test(info.reason) ? 'relay unavailable' : 'relay unreachable';
    this.#options.note(
      `${what} (${info.reason}); retrying for up to ${formatDuration(this.#options.retryForMs / 1000)}`,
    );
    this.#schedule();
  };

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
