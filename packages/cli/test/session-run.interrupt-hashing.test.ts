/**
 * Ctrl-C while `overlap session run` hashes the lab's own indicators: nothing has been sent, and no
 * progress is recorded until every chunk is sealed, so a re-run starts over. The run gives up
 * waiting for the hashing (5 s after Ctrl-C) and must say exactly that, not "run again to resume";
 * and the same command, run again, indeed starts over: it hashes again, with no "resuming" line.
 * The same with `--workers 0`, where the set is hashed on the run's own thread: Ctrl-C must still be
 * heard mid-set there.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlapClient } from '@overlap/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

/**
 * Enough that hashing them on one worker outlasts by far the 5 s the run waits after Ctrl-C (about
 * 10 s per 100,000 on this project's machine).
 */
const INDICATORS = 300_000;

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south']);
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

async function south(): Promise<OverlapClient> {
  return OverlapClient.connect({ relayUrl: forum.url, keys: forum.labs.south?.keys as never, logKey: forum.vkey });
}

async function joined(session: string): Promise<string[]> {
  return (await (await south()).terms(session)).status.joined;
}

test.each([
  ['on a worker', []],
  ['on the main thread (--workers 0)', ['--workers', '0']],
])(
  'Ctrl-C while hashing %s says nothing was sent and a re-run starts over (130); the re-run does',
  async (_label, workers) => {
    // The forum helper's sessions take 100,000 items per kind: this one takes the lab's 300,000.
    const session = await (await south()).createSession({
      labs: ['north', 'south'],
      kinds: ['email'],
      policy: 'labs',
      maxItemsPerKind: 1_000_000,
    });
    const north = forum.labs.north?.dir as string;
    const lines = Array.from({ length: INDICATORS }, (_, i) => `suspect${i}@hashing.example`);
    writeFileSync(join(north, 'many.txt'), `${lines.join('\n')}\n`);
    const args = forum.runArgs('north', session, 'many.txt', ...workers);
    const state = join(north, '.overlap', 'lab', `${session}.state`);

    const first = startCli(args, { cwd: north });
    await first.waitFor(/hashing and blinding 300,000 indicators/);
    const hashingAt = performance.now();
    first.child.kill('SIGINT');
    const stopped = await first.exited;
    const took = performance.now() - hashingAt;
    expect(stopped.code, stopped.stderr).toBe(130);
    // The run gave up on the hashing: had it finished meanwhile, the lab would have uploaded.
    expect(stopped.stderr, `stopped ${Math.round(took)} ms after Ctrl-C`).not.toMatch(/uploading chunks/);
    expect(stopped.stderr).toMatch(
      new RegExp(
        `interrupted while this lab's indicators were being hashed, before it sent anything: nothing can be resumed from ${state.replaceAll('.', '\\.')}; run the same command again to start over`,
      ),
    );
    expect(stopped.stderr).not.toMatch(/to resume/);
    expect(existsSync(join(state, 'progress.json'))).toBe(false);
    expect(await joined(session)).toEqual([]);

    // The same command starts over: it hashes again (a resumed run does not), and says no "resuming".
    const again = startCli(args, { cwd: north });
    await again.waitFor(/hashing and blinding 300,000 indicators/);
    expect(again.stderr()).not.toMatch(/resuming/);
    again.child.kill('SIGKILL');
    await again.exited;
  },
  300_000,
);
