/**
 * The agent's clock: the time, and sleeping until a time. Schedules, backoff, retries and quota
 * days read it, never `Date.now()` or `setTimeout` directly, so a test drives days of schedules
 * in seconds with `ManualClock`.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` (at once for ms ≤ 0), or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node's timers take at most 2^31 - 1 ms: a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock; a sleep longer than a timer can hold is slept in pieces until its time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    const until = Date.now() + ms;
    do {
      await sleepOnce(Math.min(MAX_TIMER_MS, until - Date.now()), signal);
    } while (Date.now() < until);
  },
};

function sleepOnce(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * A clock that moves only when told (`advance`, `set`): every sleeper whose time has come wakes,
 * in time order. `sleepers` says how many are waiting, so a test waits for the agent to be asleep
 * before moving time on.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #sleepers = new Set<{ at: number; wake: () => void }>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  get sleepers(): number {
    return this.#sleepers.size;
  }

  /** When the next sleeper wakes, if any sleeps. */
  get nextWake(): number | undefined {
    let next: number | undefined;
    for (const s of this.#sleepers) if (next === undefined || s.at < next) next = s.at;
    return next;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper = {
        at: this.#now + ms,
        wake: () => {
          signal?.removeEventListener('abort', aborted);
          resolve();
        },
      };
      const aborted = () => {
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', aborted, { once: true });
      this.#sleepers.add(sleeper);
    });
  }

  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  set(time: number): void {
    if (time < this.#now) throw new Error(`a ManualClock does not go back (from ${this.#now} to ${time})`);
    this.#now = time;
    const due = [...this.#sleepers].filter((s) => s.at <= time).sort((a, b) => a.at - b.at);
    for (const s of due) {
      this.#sleepers.delete(s);
      s.wake();
    }
  }
}
