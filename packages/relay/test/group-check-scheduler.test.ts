/**
 * The group-check scheduler with a runner the test controls: checks wait in one queue per key and
 * are taken in turn, one from each key with work waiting (the key served longest ago first, a
 * newcomer before all); at most `workers` run at once; each check's time is charged to the keys it
 * was run for, failed or not; a failure rejects its batch only, and drops that batch's waiting checks.
 */
import type { GroupCheck, GroupCheckAnswer } from '@overlap/crypto';
import { expect, test } from 'vitest';
import { type GroupCheckRunner, GroupCheckScheduler } from '../src/group-check-scheduler.js';

/** A runner whose checks finish when the test says; each check is named by its only tag's first byte. */
class ControlledRunner implements GroupCheckRunner {
  readonly started: number[] = [];
  readonly #pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  constructor(readonly workers: number) {}

  check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }> {
    const name = check.check === 'in-group' ? (check.tags[0]?.[0] as number) : -1;
    this.started.push(name);
    return new Promise((resolve, reject) => {
      this.#pending.push({
        resolve: () => resolve({ answer: { check: 'in-group', firstOutside: -1 }, ms: 10 }),
        reject,
      });
    });
  }

  get running(): number {
    return this.#pending.length;
  }

  /** Finishes the oldest running check (or fails it). */
  finish(error?: Error): void {
    const next = this.#pending.shift();
    if (next === undefined) throw new Error('nothing is running');
    if (error) next.reject(error);
    else next.resolve();
  }
}

const check = (name: number): GroupCheck => ({ check: 'in-group', tags: [Uint8Array.of(name)] });
const checks = (...names: number[]) => names.map(check);
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function drain(runner: ControlledRunner): Promise<void> {
  while (runner.running > 0) {
    runner.finish();
    await settle();
  }
}

test('keys take turns: a key with many checks waiting does not hold back one that sends one', async () => {
  const runner = new ControlledRunner(1);
  const charged = new Map<string, number>();
  const scheduler = new GroupCheckScheduler(runner, (key, ms) => charged.set(key, (charged.get(key) ?? 0) + ms));
  const flood = scheduler.run('flooder', checks(1, 2, 3, 4, 5));
  await settle();
  const one = scheduler.run('honest', checks(100));
  const two = scheduler.run('other', checks(200, 201));
  expect(scheduler.waiting).toBe(7); // 1 of the flooder's is running
  await drain(runner);
  await Promise.all([flood, one, two]);
  // The flooder's first was running; then the newcomers, then one from each key in turn.
  expect(runner.started).toEqual([1, 100, 200, 2, 201, 3, 4, 5]);
  expect(scheduler.done).toBe(8);
  expect(scheduler.busyMs).toBe(80);
  expect(Object.fromEntries(charged)).toEqual({ flooder: 50, honest: 10, other: 20 });
  expect(scheduler.waiting).toBe(0);
});

test('at most `workers` checks run at once, and each batch answers in its own order', async () => {
  const runner = new ControlledRunner(2);
  const scheduler = new GroupCheckScheduler(runner, () => {});
  const answers = scheduler.run('a', checks(1, 2, 3, 4));
  await settle();
  expect(runner.running).toBe(2);
  runner.finish();
  await settle();
  expect(runner.running).toBe(2);
  await drain(runner);
  expect(await answers).toHaveLength(4);
  expect(runner.started).toEqual([1, 2, 3, 4]);
});

test('time is shared among the keys a check is charged to (a challenge: every lab of the session)', async () => {
  const runner = new ControlledRunner(1);
  const charged = new Map<string, number>();
  const scheduler = new GroupCheckScheduler(runner, (key, ms) => charged.set(key, (charged.get(key) ?? 0) + ms));
  const run = scheduler.run('a', checks(1, 2), ['a', 'b', 'c', 'd']);
  await drain(runner);
  await run;
  expect(Object.fromEntries(charged)).toEqual({ a: 5, b: 5, c: 5, d: 5 });
});

test("a failed check rejects its batch at once and drops the batch's waiting checks; its time is still charged", async () => {
  const runner = new ControlledRunner(1);
  const charged = new Map<string, number>();
  const scheduler = new GroupCheckScheduler(runner, (key, ms) => charged.set(key, (charged.get(key) ?? 0) + ms));
  const failing = scheduler.run('a', checks(1, 2, 3, 4));
  const other = scheduler.run('b', checks(9));
  await settle();
  runner.finish(new Error('the worker died'));
  await expect(failing).rejects.toThrow('the worker died');
  expect(scheduler.waiting).toBe(0); // 2, 3 and 4 are gone; 9 is running
  await drain(runner);
  expect(await other).toHaveLength(1);
  expect(runner.started).toEqual([1, 9]);
  expect(charged.has('a')).toBe(true); // the failed check's time on the thread, measured by the scheduler
  // A later batch of the same key runs as usual.
  const again = scheduler.run('a', checks(5));
  await drain(runner);
  expect(await again).toHaveLength(1);
});

test('a failed check rejects its batch; the scheduler goes on with the others', async () => {
  const runner = new ControlledRunner(1);
  const scheduler = new GroupCheckScheduler(runner, () => {});
  const failing = scheduler.run('a', checks(1));
  const fine = scheduler.run('b', checks(2));
  await settle();
  runner.finish(new Error('the worker died'));
  await expect(failing).rejects.toThrow('the worker died');
  await drain(runner);
  expect(await fine).toEqual([{ check: 'in-group', firstOutside: -1 }]);
  expect(scheduler.done).toBe(1);
});
