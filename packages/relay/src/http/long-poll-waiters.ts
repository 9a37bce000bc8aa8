/**
 * Long polls (spec/relay-api.md §3, `wait`): a read whose answer would be empty parks here under a
 * key until the log writer commits what would fill it, the time passes, or the client goes away.
 * Two reads wait: a lab's inbox in one session (`inboxKey`), woken by a committed inbox item for
 * it, and a lab's session list (`sessionListKey`), woken by a committed session_proposal naming
 * it. The woken read is answered from the relay's state as it is then, looked up again.
 *
 * Threat: a parked request costs the relay a timer and a closure, nothing more. The wait is capped
 * by the relay's `maxWaitMs` (route-context.ts), and a client that hangs up is dropped at once, so
 * idle polls cannot pile up. A key is the verified signer's (and a session id the relay hosts), so
 * a lab cannot park on, or wake, another lab's polls; the two kinds of key cannot meet (a session
 * id is 32 hex digits, never `sessions`).
 */

/** The key of `lab`'s long poll of its inbox in `session` (hex). */
export function inboxKey(session: string, lab: string): string {
  return `${session}|${lab}`;
}

const SESSION_LIST = 'sessions|';

/** The key of `lab`'s long poll of its session list. */
export function sessionListKey(lab: string): string {
  return `${SESSION_LIST}${lab}`;
}

export class LongPollWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves (never rejects) when `key` is notified, `ms` pass, `signal` aborts, or everyone is woken. */
  wait(key: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      // A client that hung up before its read parked: an abort listener added now would never fire.
      if (signal.aborted) return resolve();
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

  /** Wakes the waiters of these keys (`inboxKey`, `sessionListKey`). */
  notify(keys: Iterable<string>): void {
    for (const key of new Set(keys)) for (const wake of [...(this.#waiting.get(key) ?? [])]) wake();
  }

  /** Requests parked now, by what they wait for (the metrics' gauge). */
  parked(): { inbox: number; sessions: number } {
    const parked = { inbox: 0, sessions: 0 };
    for (const [key, set] of this.#waiting) {
      if (key.startsWith(SESSION_LIST)) parked.sessions += set.size;
      else parked.inbox += set.size;
    }
    return parked;
  }

  /** Wakes everyone (shutdown). */
  wakeAll(): void {
    for (const set of [...this.#waiting.values()]) for (const wake of [...set]) wake();
  }
}
