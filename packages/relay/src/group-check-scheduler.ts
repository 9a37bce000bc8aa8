/**
 * The relay's expensive checks (a hop proof's verification, a challenge's in-G checks of every
 * chosen input: @overlap/crypto's group checks) run on worker threads, never on the thread that
 * answers requests and `/healthz`. Checks wait in one queue per key and are taken round-robin, one
 * check from each key with work waiting in turn (the key served longest ago first, a newcomer before
 * all, and a key with none on a thread before one with a check running), so a key that
 * sends many proofs at once (honestly, after a challenge, or to starve the others) delays its own
 * checks, not another key's: at most `workers` checks are on the threads at once, everything else
 * waits in its key's queue.
 *
 * Each check's time on its thread is charged to the keys it is done for (KeyBudgets.chargeCpu),
 * whether it succeeds or fails (a worker that dies after 20 s cost 20 s). A batch whose check fails
 * is answered at once, and its checks still waiting are dropped, not run for nothing.
 */
import type { GroupCheck, GroupCheckAnswer } from '@overlap/crypto';

/** Where the checks run: a BatchPool (@overlap/crypto/node). */
export interface GroupCheckRunner {
  readonly workers: number;
  check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }>;
}

interface Batch {
  /** Set at the batch's first failure: its checks still waiting are not run. */
  failed: boolean;
}

interface Waiting {
  key: string;
  batch: Batch;
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
  /** Checks on the threads, by key (a key with none goes first). */
  readonly #runningBy = new Map<string, number>();
  /** When each key with work waiting or running was last served (a count of checks taken). */
  readonly #servedAt = new Map<string, number>();
  #taken = 0;
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
    if (checks.length === 0) return Promise.resolve([]);
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.#queues.set(key, queue);
    }
    const batch: Batch = { failed: false };
    const answers = checks.map(
      (check) =>
        new Promise<GroupCheckAnswer>((resolve, reject) => {
          (queue as Waiting[]).push({ key, batch, check, chargeTo, resolve, reject });
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
      this.#runningBy.set(next.key, (this.#runningBy.get(next.key) ?? 0) + 1);
      const started = performance.now();
      const charge = (ms: number) => {
        for (const key of next.chargeTo) this.#charge(key, ms / next.chargeTo.length);
      };
      this.#runner
        .check(next.check)
        .then(
          ({ answer, ms }) => {
            this.done++;
            this.busyMs += ms;
            charge(ms);
            next.resolve(answer);
          },
          (error: unknown) => {
            const ms = performance.now() - started;
            this.busyMs += ms;
            charge(ms);
            // Before anything else is taken: the batch's other checks are not run for nothing.
            next.batch.failed = true;
            this.#dropFailed(next.key);
            next.reject(error);
          },
        )
        .finally(() => {
          this.#running--;
          const left = (this.#runningBy.get(next.key) ?? 1) - 1;
          if (left > 0) this.#runningBy.set(next.key, left);
          else this.#runningBy.delete(next.key);
          this.#forgetIdle(next.key);
          this.#pump();
        });
    }
  }

  /** Drops the waiting checks of `key`'s failed batches (their answers were given by the failure). */
  #dropFailed(key: string): void {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    const kept = queue.filter((waiting) => !waiting.batch.failed);
    if (kept.length > 0) this.#queues.set(key, kept);
    else this.#queues.delete(key);
    this.#forgetIdle(key);
  }

  /**
   * The next check: of the key with none on a thread that was served longest ago (a newcomer first),
   * else of the key served longest ago; ties go to the key that queued first.
   */
  #next(): Waiting | undefined {
    let chosen: string | undefined;
    let best: [number, number] | undefined;
    for (const [key, queue] of this.#queues) {
      if (queue.length === 0) continue;
      const rank: [number, number] = [this.#runningBy.has(key) ? 1 : 0, this.#servedAt.get(key) ?? -1];
      if (best === undefined || rank[0] < best[0] || (rank[0] === best[0] && rank[1] < best[1])) {
        chosen = key;
        best = rank;
      }
    }
    if (chosen === undefined) return undefined;
    const queue = this.#queues.get(chosen) as Waiting[];
    const waiting = queue.shift() as Waiting;
    if (queue.length === 0) this.#queues.delete(chosen);
    this.#servedAt.set(chosen, this.#taken++);
    return waiting;
  }

  /** Forgets when a key was served once it has nothing waiting or running (the maps stay bounded). */
  #forgetIdle(key: string): void {
    if (!this.#queues.has(key) && !this.#runningBy.has(key)) this.#servedAt.delete(key);
  }
}
