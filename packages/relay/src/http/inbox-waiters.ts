/**
 * Long polls of the inbox (spec/relay-api.md §3, `wait`): a request with `wait` parks here until
 * the log writer commits an item for that lab, the time passes, or the client goes away.
 *
 * Threat: a parked request costs the relay a timer and a closure, nothing more. The wait is capped
 * by the relay's `maxWaitMs` (route-context.ts), and a client that hangs up is dropped at once, so
 * idle polls cannot pile up.
 */
export class InboxWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  wait(key: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.#waiting.get(key) ?? new Set<() => void>();
      this.#waiting.set(key, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Wakes the waiters of these keys (`session|lab`). */
  notify(keys: Iterable<string>): void {
    for (const key of new Set(keys)) for (const wake of [...(this.#waiting.get(key) ?? [])]) wake();
  }

  /** Wakes everyone (shutdown). */
  wakeAll(): void {
    for (const set of [...this.#waiting.values()]) for (const wake of [...set]) wake();
  }
}
