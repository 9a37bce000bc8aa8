/**
 * The relay's expensive checks (a hop proof's verification, a challenge's in-G checks of every
 * chosen input: @overlap/crypto's group checks) run on worker threads, never on the thread that
 * answers requests and `/healthz`. Checks wait in one queue per key and are taken round-robin, one
 * check from each key with work waiting in turn, so a key that sends many proofs at once (honestly,
 * after a challenge, or to starve the others) delays its own checks, not another key's: at most
 * `workers` checks are on the threads at once, everything else waits in its key's queue.
 *
 * Each check's time on its thread is charged to the keys it is done for (KeyBudgets.chargeCpu).
 */
import type { GroupCheck, GroupCheckAnswer } from '@overlap/crypto';

/** Where the checks run: a BatchPool (@overlap/crypto/node). */
export interface GroupCheckRunner {
  readonly workers: number;
  check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }>;
}

interface Waiting {
  check: GroupCheck;
  chargeTo: readonly string[];
  resolve: (answer: GroupCheckAnswer) => void;
  reject: (error: unknown) => void;
}

export class GroupCheckScheduler {
  readonly #runner: GroupCheckRunner;
  readonly #charge: (key: string, ms: number) => void;
  readonly #slots: number;
  /** Waiting checks by key, in the order keys take turns (a key leaves when its queue empties). */
  readonly #queues = new Map<string, Waiting[]>();
  #running = 0;
  /** Checks run and their total time on the threads (ms), for /metrics. */
  done = 0;
  busyMs = 0;

  constructor(runner: GroupCheckRunner, charge: (key: string, ms: number) => void) {
    this.#runner = runner;
    this.#charge = charge;
    this.#slots = Math.max(1, runner.workers);
  }

  /** Checks waiting for a thread. */
  get waiting(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.length;
    return n;
  }

  /**
   * Runs `checks` in `key`'s queue; answers them in order. The time of each is charged to
   * `chargeTo` in equal shares (the key itself by default). Rejects with the first failure.
   */
  run(key: string, checks: readonly GroupCheck[], chargeTo: readonly string[] = [key]): Promise<GroupCheckAnswer[]> {
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.#queues.set(key, queue);
    }
    const answers = checks.map(
      (check) =>
        new Promise<GroupCheckAnswer>((resolve, reject) => {
          (queue as Waiting[]).push({ check, chargeTo, resolve, reject });
        }),
    );
    this.#pump();
    return Promise.all(answers);
  }

  #pump(): void {
    while (this.#running < this.#slots) {
      const next = this.#next();
      if (next === undefined) return;
      this.#running++;
      this.#runner
        .check(next.check)
        .then(({ answer, ms }) => {
          this.done++;
          this.busyMs += ms;
          for (const key of next.chargeTo) this.#charge(key, ms / next.chargeTo.length);
          next.resolve(answer);
        }, next.reject)
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }

  /** The first key's first check; the key moves to the back of the turn order (or leaves). */
  #next(): Waiting | undefined {
    for (const [key, queue] of this.#queues) {
      this.#queues.delete(key);
      const waiting = queue.shift();
      if (queue.length > 0) this.#queues.set(key, queue);
      if (waiting !== undefined) return waiting;
    }
    return undefined;
  }
}
