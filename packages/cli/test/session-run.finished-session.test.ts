/**
 * A session the relay reports finished, and the state a lab left for it:
 *
 *   - done at the relay while this lab has not read its results: the relay is done once every
 *     lab's proofs are in, and a lab whose run stops right after its own proofs (Ctrl-C, a crash)
 *     still has its results to read. `session abort` is refused and keeps that state (naming it),
 *     and `session run` goes on from it and delivers the results, instead of erasing it;
 *   - aborted: `session abort` is refused, and the state left here (its session key) is erased.
 *
 * North's first run is the SDK's, in this process, so that it stops at the exact point: its
 * signal (what Ctrl-C aborts in `session run`) is aborted as soon as its proofs are sent, before
 * the relay can be done; every other step is the real CLI in a child process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlapClient } from '@overlap/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south']);
  writeFileSync(join(dirOf('north'), 'suspects.txt'), 'shared@finished.example\nnorth@finished.example\n');
  writeFileSync(join(dirOf('south'), 'suspects.txt'), 'shared@finished.example\nsouth@finished.example\n');
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

function dirOf(lab: string): string {
  return forum.labs[lab]?.dir as string;
}
const stateDirOf = (lab: string) => join(dirOf(lab), '.overlap', 'lab');
const stateOf = (lab: string, session: string) => join(stateDirOf(lab), `${session}.state`);
const runArgs = (lab: string, session: string) => forum.runArgs(lab, session);

function client(lab: string, extra: Partial<Parameters<typeof OverlapClient.connect>[0]> = {}) {
  return OverlapClient.connect({
    relayUrl: forum.url,
    keys: forum.labs[lab]?.keys as never,
    logKey: forum.vkey,
    ...extra,
  });
}

async function relayState(session: string): Promise<string> {
  return (await (await client('south')).terms(session)).status.state;
}

test('done at the relay before this lab read its results: abort keeps the state, and the run delivers them', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const stop = new AbortController();
  const north = await client('north', {
    stateDir: stateDirOf('north'),
    signal: stop.signal,
    onProgress: (event) => {
      // The challenge answered: north's proofs are sent and acknowledged. Stop there, as Ctrl-C would.
      if (event.phase === 'proving' && event.proofs > 0) stop.abort(new Error('north stopped after its proofs'));
    },
  });
  const northRun = north.run(session, { email: ['shared@finished.example', 'north@finished.example'] }).then(
    () => 'finished',
    (error: Error) => error.message,
  );
  const south = await runCli(runArgs('south', session), { cwd: dirOf('south') });
  expect(south.code, south.stderr).toBe(0);
  expect(await northRun).toBe('north stopped after its proofs');
  // South has its results: the relay is done, whether north read its own or not.
  expect(await relayState(session)).toBe('done');
  // What north's run left: its progress, no results yet, and no session key (it goes with the proofs).
  expect(existsSync(join(stateOf('north', session), 'progress.json'))).toBe(true);
  expect(existsSync(join(stateOf('north', session), 'key'))).toBe(false);
  expect(existsSync(join(stateDirOf('north'), `${session}.json`))).toBe(false);

  const abort = await runCli(
    ['session', 'abort', ...forum.labArgs('north'), '--session', session, '--reason', 'too late'],
    { cwd: dirOf('north') },
  );
  expect(abort.code, abort.stderr).toBe(1);
  expect(abort.stderr).toContain(`session ${session} is already done`);
  expect(abort.stderr).toContain(
    `this lab's results are still to be fetched from its state in ${stateOf('north', session)}`,
  );
  expect(existsSync(join(stateOf('north', session), 'progress.json'))).toBe(true);

  const again = await runCli(runArgs('north', session), { cwd: dirOf('north') });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toContain(
    `session ${session} is done at the relay: this lab's results are fetched from its state in ${stateOf('north', session)}`,
  );
  expect(again.stderr).toMatch(/resuming session .* \(0 envelopes not yet acknowledged\)/);
  expect(again.stdout).toMatch(/1 of this lab's indicators are shared/);
  expect(readFileSync(join(stateDirOf('north'), `${session}.results.jsonl`), 'utf8')).toBe(
    '{"kind":"email","value":"shared@finished.example","labs":["south"],"line":1}\n',
  );
  expect(existsSync(stateOf('north', session))).toBe(false);
}, 300_000);

test('aborted: an abort from this lab is refused, and the state it left is erased (it holds the session key)', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = startCli(runArgs('north', session), { cwd: dirOf('north') });
  await north.waitFor(/waiting for the other labs/);
  north.child.kill('SIGINT');
  expect((await north.exited).code).toBe(130);
  expect(existsSync(join(stateOf('north', session), 'key'))).toBe(true);

  const bySouth = await runCli(
    ['session', 'abort', ...forum.labArgs('south'), '--session', session, '--reason', 'wrong list'],
    { cwd: dirOf('south') },
  );
  expect(bySouth.code, bySouth.stderr).toBe(0);

  const byNorth = await runCli(
    ['session', 'abort', ...forum.labArgs('north'), '--session', session, '--reason', 'me too'],
    { cwd: dirOf('north') },
  );
  expect(byNorth.code, byNorth.stderr).toBe(1);
  expect(byNorth.stderr).toMatch(new RegExp(`session ${session} was aborted: .*wrong list`));
  expect(byNorth.stderr).toContain(`the state left for it in ${stateOf('north', session)} was erased`);
  expect(existsSync(stateOf('north', session))).toBe(false);
}, 300_000);
