/**
 * Schedules on a ManualClock (schedule.ts): days of slots in milliseconds, each fired once, none
 * made up after a restart, time zones as croner reads them; and the clock itself.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../src/clock.js';
import { checkCron, nextSlot, runSchedule } from '../src/schedule.js';

const T0 = Date.parse('2026-12-07T05:59:00Z');

/** Waits (on promises, not time) until the schedule sleeps again. */
async function asleep(clock: ManualClock, n = 1): Promise<void> {
  for (let i = 0; i < 1000 && clock.sleepers < n; i++) await new Promise((r) => setImmediate(r));
  expect(clock.sleepers).toBe(n);
}

describe('runSchedule', () => {
  it('fires each daily slot once, in order, over three days', async () => {
    const clock = new ManualClock(T0);
    const stop = new AbortController();
    const fired: string[] = [];
    const done = runSchedule({
      expression: '0 6 * * *',
      timezone: 'UTC',
      clock,
      signal: stop.signal,
      fire: async (slot) => {
        fired.push(new Date(slot).toISOString());
      },
    });
    for (let day = 0; day < 3; day++) {
      await asleep(clock);
      clock.set(clock.nextWake as number);
    }
    await asleep(clock);
    stop.abort();
    await done;
    expect(fired).toEqual(['2026-12-07T06:00:00.000Z', '2026-12-08T06:00:00.000Z', '2026-12-09T06:00:00.000Z']);
  });

  it('after a restart, neither fires the last slot again nor makes up missed ones', async () => {
    const clock = new ManualClock(Date.parse('2026-12-09T12:00:00Z'));
    const stop = new AbortController();
    const fired: number[] = [];
    const done = runSchedule({
      expression: '0 6 * * *',
      timezone: 'UTC',
      clock,
      signal: stop.signal,
      lastFired: Date.parse('2026-12-07T06:00:00Z'),
      fire: async (slot) => {
        fired.push(slot);
      },
    });
    await asleep(clock);
    expect(clock.nextWake).toBe(Date.parse('2026-12-10T06:00:00Z'));
    stop.abort();
    await done;
    expect(fired).toEqual([]);
  });

  it('reads the expression in its time zone', () => {
    const after = Date.parse('2026-12-07T00:00:00Z');
    expect(new Date(nextSlot('0 6 * * *', 'Europe/Paris', after) as number).toISOString()).toBe(
      '2026-12-07T05:00:00.000Z',
    );
    expect(new Date(nextSlot('0 6 * * *', 'America/New_York', after) as number).toISOString()).toBe(
      '2026-12-07T11:00:00.000Z',
    );
  });
});

describe('checkCron', () => {
  it.each([
    ['0 6 * * *', undefined],
    ['*/10 * * * * *', undefined],
    ['0 6 * *', 'not a cron expression'],
    ['* * * * * * *', 'not a cron expression'],
    ['61 * * * *', 'not a cron expression'],
  ])('%s', (expression, problem) => {
    const found = checkCron(expression);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('names an unknown time zone', () => {
    expect(checkCron('0 6 * * *', 'Mars/Olympus')).toContain('unknown time zone "Mars/Olympus"');
  });
});

describe('ManualClock', () => {
  it('wakes sleepers in time order when moved, and refuses to go back', async () => {
    const clock = new ManualClock(1000);
    const woke: number[] = [];
    const a = clock.sleep(500).then(() => woke.push(500));
    const b = clock.sleep(100).then(() => woke.push(100));
    clock.advance(1000);
    await Promise.all([a, b]);
    expect(woke).toEqual([100, 500]);
    expect(() => clock.set(0)).toThrow('does not go back');
  });

  it('rejects a sleeper when its signal aborts, and forgets it', async () => {
    const clock = new ManualClock(0);
    const stop = new AbortController();
    const sleeping = clock.sleep(100, stop.signal);
    stop.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.sleepers).toBe(0);
  });
});

describe('catching up', () => {
  it('fires a slot missed within catchUpMs once at start, then the next on time', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T06:10:00Z'));
    const stop = new AbortController();
    const fired: string[] = [];
    const run = {
      expression: '0 6 * * *',
      timezone: 'UTC',
      clock,
      signal: stop.signal,
      catchUpMs: 60 * 60_000,
      fire: async (slot: number) => {
        fired.push(new Date(slot).toISOString());
      },
    };
    const done = runSchedule(run);
    await asleep(clock);
    expect(fired).toEqual(['2026-12-07T06:00:00.000Z']);
    expect(clock.nextWake).toBe(Date.parse('2026-12-08T06:00:00Z'));
    stop.abort();
    await done;
    // Started again with that slot remembered: not fired twice.
    const again = new AbortController();
    const second = runSchedule({ ...run, signal: again.signal, lastFired: Date.parse('2026-12-07T06:00:00Z') });
    await asleep(clock);
    again.abort();
    await second;
    expect(fired).toHaveLength(1);
  });

  it('does not fire a slot missed longer ago than catchUpMs', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T08:00:01Z'));
    const stop = new AbortController();
    const fired: number[] = [];
    const done = runSchedule({
      expression: '0 6 * * *',
      timezone: 'UTC',
      clock,
      signal: stop.signal,
      catchUpMs: 60 * 60_000,
      fire: async (slot) => {
        fired.push(slot);
      },
    });
    await asleep(clock);
    stop.abort();
    await done;
    expect(fired).toEqual([]);
  });
});

describe('long waits', () => {
  it("fires a slot only once its time has come, whatever the clock's sleep does with a long wait", async () => {
    // A clock whose sleep comes back early (as a timer of more than 2^31 - 1 ms would): each sleep
    // moves time on by half of what was asked.
    let now = Date.parse('2026-01-01T00:00:00Z');
    const stop = new AbortController();
    const fired: { slot: number; at: number }[] = [];
    const early = {
      now: () => now,
      sleep: async (ms: number) => {
        now += Math.max(1, Math.floor(ms / 2));
      },
    };
    await runSchedule({
      expression: '0 6 1 3 *', // once a year: a wait of two months
      timezone: 'UTC',
      clock: early,
      signal: stop.signal,
      fire: async (slot) => {
        fired.push({ slot, at: now });
        stop.abort();
      },
    });
    expect(fired).toHaveLength(1);
    expect(new Date(fired[0]?.slot as number).toISOString()).toBe('2026-03-01T06:00:00.000Z');
    expect(fired[0]?.at).toBeGreaterThanOrEqual(fired[0]?.slot as number);
  });

  it('the system clock does not wake early from a sleep longer than a timer holds', async () => {
    const stop = new AbortController();
    let woke = false;
    const sleeping = systemClock.sleep(2 ** 31 + 10_000, stop.signal).then(() => {
      woke = true;
    });
    // A timer of more than 2^31 - 1 ms fires after 1 ms: give it well over that.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(woke).toBe(false);
    stop.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
  });
});
