/**
 * Ctrl-C while `overlap session run` hashes the lab's own indicators (a set too large to hash
 * ahead): the lab's join was sent before the hashing began (spec/protocol.md §5: the join
 * deadline measures whether a lab takes part, not how long its set takes), and its progress was
 * recorded with it, so the state is kept and a re-run resumes: it says so, and hashes the set again
 * after the join it sent (no chunk was sealed). The run gives up waiting for the hashing (5 s after
 * Ctrl-C) and must say exactly that. The same with `--workers 0`, where the set is hashed on the
 * run's own thread: Ctrl-C must still be heard mid-set there.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlapClient } from '@overlap/client';
import { keyId as keyIdOf } from '@overlap/crypto';
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
  'Ctrl-C while hashing %s says the state is kept, after the join it sent (130); the re-run resumes and hashes again',
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
      new RegExp(`interrupted: state kept in ${state.replaceAll('.', '\\.')}; run the same command again to resume`),
    );
    expect(existsSync(join(state, 'progress.json'))).toBe(true);
    const northKey = forum.labs.north?.keys.signing.publicKey as Uint8Array;
    expect(await joined(session)).toEqual([keyIdOf(northKey)]);

    // The same command resumes, and hashes the set again: none of its chunks had been sealed.
    const again = startCli(args, { cwd: north });
    await again.waitFor(/hashing and blinding 300,000 indicators/);
    expect(again.stderr()).toMatch(/resuming session/);
    again.child.kill('SIGKILL');
    await again.exited;
  },
  300_000,
);
