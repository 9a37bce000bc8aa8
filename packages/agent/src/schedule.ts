/**
 * When a schedule's sessions are proposed: a cron expression (five fields, or six with seconds
 * first) in a time zone, read by croner (a maintained, dependency-free parser with time-zone and
 * DST handling; the agent writes no cron parsing of its own). `runSchedule` sleeps on the agent's
 * clock until each slot and fires it once; the slot last fired is the caller's to remember
 * (agent-state.ts), so a restarted agent never fires a slot twice. One slot missed while the agent
 * was down is made up at start, if it passed less than `catchUpMs` ago (an agent restarted at
 * 06:10 still proposes the 06:00 exchange); older ones are not (no burst of stale proposals).
 */
import { Cron } from 'croner';
import type { Clock } from './clock.js';

const MODE = '5-or-6-parts' as const;

/** Why `expression` cannot be a schedule, or undefined when it can. */
export function checkCron(expression: string, timezone = 'UTC'): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)} (an IANA name such as UTC or Europe/Paris)`;
  }
  try {
    const cron = new Cron(expression, { timezone, paused: true, mode: MODE });
    if (cron.nextRun() === null) return 'never fires';
    return undefined;
  } catch (error) {
    return `not a cron expression (${(error as Error).message})`;
  }
}

/** The last slot of `expression` strictly before `before`, or undefined if none. */
export function previousSlot(expression: string, timezone: string, before: number): number | undefined {
  const cron = new Cron(expression, { timezone, paused: true, mode: MODE });
  const [previous] = cron.previousRuns(1, new Date(before));
  return previous?.getTime();
}

/** The first slot of `expression` strictly after `after` (ms since the epoch), or undefined if none. */
export function nextSlot(expression: string, timezone: string, after: number): number | undefined {
  const cron = new Cron(expression, { timezone, paused: true, mode: MODE });
  const next = cron.nextRun(new Date(after));
  return next === null ? undefined : next.getTime();
}

export interface ScheduleRun {
  expression: string;
  timezone: string;
  clock: Clock;
  signal: AbortSignal;
  /** The last slot fired (a restarted agent's memory), if any. */
  lastFired?: number;
  /** How late a missed slot may still be fired at start (default 0: never). */
  catchUpMs?: number;
  /** Proposes the slot's session; a failure is the callee's to report (the schedule goes on). */
  fire: (slot: number) => Promise<void>;
}

/** Fires every slot from now on until `signal` aborts (then it resolves). */
export async function runSchedule(run: ScheduleRun): Promise<void> {
  const now = run.clock.now();
  let after = Math.max(now, run.lastFired ?? Number.NEGATIVE_INFINITY);
  const missed = previousSlot(run.expression, run.timezone, now + 1);
  if (
    missed !== undefined &&
    missed > (run.lastFired ?? Number.NEGATIVE_INFINITY) &&
    now - missed <= (run.catchUpMs ?? 0) &&
    !run.signal.aborted
  ) {
    await run.fire(missed);
  }
  while (!run.signal.aborted) {
    const slot = nextSlot(run.expression, run.timezone, after);
    if (slot === undefined) return;
    try {
      // Slept until the slot has come, whatever a clock's sleep does with a long wait.
      while (run.clock.now() < slot) await run.clock.sleep(slot - run.clock.now(), run.signal);
    } catch {
      return; // aborted
    }
    await run.fire(slot);
    after = slot;
  }
}
