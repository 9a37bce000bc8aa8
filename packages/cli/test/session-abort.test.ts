/**
 * `overlap session abort` and `session list` as labs use them (real processes, each lab in its own
 * folder): a lab that has not joined aborts the session, the lab that runs it stops with the reason
 * (exit 1, no results written, no state left), running it again is refused naming the reason, a
 * second abort is refused; and a lab interrupted mid-run (state kept) aborts from that state,
 * which is erased; and a lab whose envelope the relay refuses as a violation (a cheater posting
 * from this test's process) ends the session at once: the running lab stops with the relay's
 * reason naming the cheater, instead of waiting for the deadline.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RelayClient } from '@overlap/client';
import { BlindingKey, coinCommitment, fromHex, keyCommitment } from '@overlap/crypto';
import { EnvelopeChain } from '@overlap/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { type Forum, startForum } from './support/lab-forum.js';

let forum: Forum;
beforeAll(async () => {
  forum = await startForum(['north', 'south']);
  writeFileSync(join(forum.labs.north?.dir as string, 'suspects.txt'), 'a@abort.example\nb@abort.example\n');
}, 120_000);
afterAll(async () => {
  await forum?.close();
});

const dirOf = (lab: string) => forum.labs[lab]?.dir as string;
const stateOf = (lab: string, session: string) => join(dirOf(lab), '.overlap', 'lab', `${session}.state`);
const runArgs = (lab: string, session: string) => forum.runArgs(lab, session);

test('a lab aborts; the running lab stops with the reason; running or aborting again is refused', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = startCli(runArgs('north', session), { cwd: dirOf('north') });
  await north.waitFor(/waiting for the other labs/);

  const aborted = await runCli(
    ['session', 'abort', ...forum.labArgs('south'), '--session', session, '--reason', 'wrong suspect list', '--json'],
    { cwd: dirOf('south') },
  );
  expect(aborted.code, aborted.stderr).toBe(0);
  expect(JSON.parse(aborted.stdout)).toMatchObject({ session, state: 'aborted', reason: 'wrong suspect list' });

  const stopped = await north.exited;
  expect(stopped.code, stopped.stderr).toBe(1);
  expect(stopped.stderr).toMatch(/was aborted: .*wrong suspect list.*no results were written/);
  expect(existsSync(join(dirOf('north'), '.overlap', 'lab', `${session}.json`))).toBe(false);
  expect(existsSync(stateOf('north', session))).toBe(false);

  const again = await runCli(runArgs('north', session), { cwd: dirOf('north') });
  expect(again.code, again.stderr).toBe(1);
  expect(again.stderr).toMatch(new RegExp(`session ${session} was aborted: .*wrong suspect list`));
  expect(existsSync(stateOf('north', session))).toBe(false);

  const twice = await runCli(
    ['session', 'abort', ...forum.labArgs('north'), '--session', session, '--reason', 'again'],
    {
      cwd: dirOf('north'),
    },
  );
  expect(twice.code, twice.stderr).toBe(1);

  const listed = await runCli(['session', 'list', ...forum.labArgs('north'), '--json'], { cwd: dirOf('north') });
  expect(listed.code, listed.stderr).toBe(0);
  const entry = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { session: string; state: string; abort?: string })
    .find((s) => s.session === session);
  expect(entry).toMatchObject({ state: 'aborted', abort: expect.stringContaining('wrong suspect list') });
}, 300_000);

test('SIGINT in a log keeps the state (130); aborting from that state erases it', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = startCli(runArgs('north', session), { cwd: dirOf('north') });
  await north.waitFor(/waiting for the other labs/);
  north.child.kill('SIGINT');
  const interrupted = await north.exited;
  expect(interrupted.code, interrupted.stderr).toBe(130);
  expect(interrupted.stderr).toContain(`interrupted: state kept in ${stateOf('north', session)}`);
  expect(existsSync(stateOf('north', session))).toBe(true);

  const empty = await runCli(['session', 'abort', ...forum.labArgs('north'), '--session', session, '--reason', ' '], {
    cwd: dirOf('north'),
  });
  expect(empty.code).toBe(64);
  const aborted = await runCli(
    ['session', 'abort', ...forum.labArgs('north'), '--session', session, '--reason', 'stopping here', '--json'],
    { cwd: dirOf('north') },
  );
  expect(aborted.code, aborted.stderr).toBe(0);
  expect(JSON.parse(aborted.stdout)).toMatchObject({ state: 'aborted', state_erased: true });
  expect(existsSync(stateOf('north', session))).toBe(false);
  const status = await runCli(['session', 'status', ...forum.labArgs('south'), '--session', session, '--json'], {
    cwd: dirOf('south'),
  });
  expect(JSON.parse(status.stdout)).toMatchObject({
    state: 'aborted',
    abort: expect.stringContaining('stopping here'),
  });
}, 300_000);

test('a lab whose join the relay refuses as a violation ends the session; the running lab stops naming it', async () => {
  const session = await forum.createSession('north', { labs: ['north', 'south'], kinds: ['email'] });
  const north = startCli(runArgs('north', session), { cwd: dirOf('north') });
  await north.waitFor(/waiting for the other labs/);

  // south cheats: it commits a set size for a kind the session does not have.
  const south = forum.labs.south?.keys as NonNullable<typeof forum.labs.south>['keys'];
  const relay = new RelayClient({ url: forum.url, signer: { keyId: south.keyId, secretKey: south.signing.secretKey } });
  const id = fromHex(session);
  const key = BlindingKey.generate();
  const join = new EnvelopeChain(id, { keyId: south.keyId, secretKey: south.signing.secretKey }).seal(
    'join',
    { sizes: { phone: 1 }, key: keyCommitment(key), coin: coinCommitment(id, south.keyId, new Uint8Array(32).fill(1)) },
    Date.now(),
  );
  key.dispose();
  await expect(relay.postEnvelope(session, join.bytes)).rejects.toThrow(/the relay aborted the session naming/);

  const stopped = await north.exited;
  expect(stopped.code, stopped.stderr).toBe(1);
  expect(stopped.stderr).toMatch(
    new RegExp(`was aborted: the relay refused ${south.keyId}'s join \\(seq 0\\), PROTOCOL_VIOLATION: .*kinds phone`),
  );
  expect(existsSync(stateOf('north', session))).toBe(false);
}, 300_000);
