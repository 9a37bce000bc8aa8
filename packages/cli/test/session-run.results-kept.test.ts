/**
 * A run whose session ends but whose results cannot be written (here `--out` under a path where a
 * plain file is in the way; in life a full disk, or a crash) keeps the lab's state, without its
 * session key, so that the next run resumes from it and writes the results: the relay is done by
 * then, and without that state the results would be lost for good. The state goes once the
 * results are written. Every step is the real CLI in a child process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south']);
  writeFileSync(join(dirOf('north'), 'suspects.txt'), 'shared@kept.example\nnorth@kept.example\n');
  writeFileSync(join(dirOf('south'), 'suspects.txt'), 'shared@kept.example\nsouth@kept.example\n');
  writeFileSync(join(dirOf('north'), 'blocker'), 'a file where the results folder should be\n');
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

function dirOf(lab: string): string {
  return forum.labs[lab]?.dir as string;
}
const stateOf = (lab: string, session: string) => join(dirOf(lab), '.overlap', 'lab', `${session}.state`);
const runArgs = (lab: string, session: string, ...extra: string[]) =>
  forum.runArgs(lab, session, 'suspects.txt', ...extra);

test('results that could not be written are written by the next run, from the state kept for them', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const south = startCli(runArgs('south', session), { cwd: dirOf('south') });
  const failed = await runCli(runArgs('north', session, '--out', 'blocker/results.jsonl'), { cwd: dirOf('north') });
  expect((await south.exited).code).toBe(0);
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/blocker/);
  // The session is over at the relay; north's state is still here, and its session key is not.
  expect(existsSync(stateOf('north', session))).toBe(true);
  expect(existsSync(join(stateOf('north', session), 'key'))).toBe(false);

  const again = await runCli(runArgs('north', session, '--out', 'results.jsonl'), { cwd: dirOf('north') });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toMatch(/1 of this lab's indicators are shared/);
  expect(readFileSync(join(dirOf('north'), 'results.jsonl'), 'utf8')).toBe(
    '{"kind":"email","value":"shared@kept.example","labs":["south"],"line":1}\n',
  );
  expect(existsSync(stateOf('north', session))).toBe(false);
}, 300_000);
