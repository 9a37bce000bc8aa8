/**
 * A relay outage in the middle of a lab's run, longer than the client's old budget of about 10 s:
 * the relay process is killed (SIGKILL) while `overlap session run` waits on it, kept down, then
 * started again on the same database and port. The lab says once that it waits and once that the
 * relay is back, and finishes with the plaintext truth.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

/** Longer than the client's old retry budget (8 attempts, about 10 s). */
const OUTAGE_MS = 15_000;

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south'], { relayProcess: true });
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

test('a lab waits out a relay outage of 15 s and finishes', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = forum.labs.north?.dir as string;
  const south = forum.labs.south?.dir as string;
  writeFileSync(join(north, 'suspects.txt'), 'shared@outage.example\nnorth@outage.example\n');
  writeFileSync(join(south, 'suspects.txt'), 'shared@outage.example\nsouth@outage.example\n');
  const args = (lab: string) => forum.runArgs(lab, session);

  const northRun = startCli(args('north'), { cwd: north });
  await northRun.waitFor(/waiting for the other labs/);
  await forum.killRelay();
  await northRun.waitFor(/relay unreachable \(.+\); retrying for up to 10 min/);
  const downSince = Date.now();
  // The outage itself is what is tested: it lasts OUTAGE_MS whatever the lab does meanwhile.
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  expect(northRun.child.exitCode, northRun.stderr()).toBeNull();
  await forum.restartRelay();
  await northRun.waitFor(/relay is back after/);
  expect(Date.now() - downSince).toBeGreaterThanOrEqual(OUTAGE_MS);

  const southRun = await runCli(args('south'), { cwd: south });
  const northDone = await northRun.exited;
  expect(northDone.code, northDone.stderr).toBe(0);
  expect(southRun.code, southRun.stderr).toBe(0);
  // One line when the wait starts, one when the relay is back: not one per attempt.
  expect(northDone.stderr.match(/relay unreachable/g)).toHaveLength(1);
  expect(northDone.stdout).toMatch(/1 of this lab's indicators are shared/);
}, 300_000);
