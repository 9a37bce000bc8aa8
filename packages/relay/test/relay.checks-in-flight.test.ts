/**
 * What happens while a lab's hop proof is being checked on a worker thread, with a runner the test
 * holds (the checks themselves are the real ones, @overlap/crypto's runGroupCheck):
 * - the session's deadline passes meanwhile: the proof came in time, so it is judged first; the
 *   abort, if one is still due, names a lab that still owes its part, never the one being checked;
 * - the worker dies: 503 UNAVAILABLE, and the same envelope sent again is taken; a check that fails
 *   for another reason is 500 INTERNAL;
 * - the lab piles envelopes up behind it: past MAX_TURN_QUEUE, 503 BUSY.
 * The relay's clock is the test's (it jumps past the deadline), and requests are signed by it.
 */
import { CryptoError, type GroupCheck, type GroupCheckAnswer, runGroupCheck } from '@overlap/crypto';
import type { GroupCheckRunner } from '@overlap/relay';
import { afterEach, describe, expect, test } from 'vitest';
import { MAX_TURN_QUEUE } from '../src/hosted-session.js';
import { codeOf, hex, revealBody, seal } from './support/harness.js';
import {
  closeRelays,
  hopProof,
  joined,
  relayItem,
  type Session,
  type Task,
  throughEveryHop,
} from './support/proof-round.js';

afterEach(closeRelays);

/** Runs the real checks, on this thread; while `held`, each waits for `release()` (or `fail()`). */
class HeldRunner implements GroupCheckRunner {
  readonly workers = 1;
  held = false;
  readonly #waiting: {
    check: GroupCheck;
    resolve: (r: { answer: GroupCheckAnswer; ms: number }) => void;
    reject: (e: Error) => void;
  }[] = [];

  check(check: GroupCheck): Promise<{ answer: GroupCheckAnswer; ms: number }> {
    if (!this.held) return Promise.resolve({ answer: runGroupCheck(check), ms: 1 });
    return new Promise((resolve, reject) => this.#waiting.push({ check, resolve, reject }));
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  release(): void {
    this.held = false;
    for (const { check, resolve } of this.#waiting.splice(0)) resolve({ answer: runGroupCheck(check), ms: 1 });
  }

  fail(error: Error): void {
    this.held = false;
    for (const { reject } of this.#waiting.splice(0)) reject(error);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 20_000) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Two labs through every hop and both reveals, on a relay whose clock is `clock.now` and whose checks `runner` runs. */
async function proving(runner: HeldRunner) {
  const clock = { offset: 0, now: () => Date.now() + clock.offset };
  // A deadline an hour ahead: the labs' keys (valid for a day) are still valid once the clock passes it.
  const s = await joined(5, 3, { checkRunner: runner, now: clock.now }, { deadline: Date.now() + 3_600_000 });
  const answered = await throughEveryHop(s);
  for (const who of [s.a, s.b]) expect((await s.post(who, 'reveal', revealBody(who, s.session))).status).toBe(200);
  const { coins } = (await relayItem(s, s.a, 'challenge')).body as { coins: Uint8Array[] };
  const proofOf = (who: Session['a']) => hopProof(s, who, coins, answered.get(who) as Task);
  const hosted = () => s.t.relay.core.sessions.get(hex(s.session));
  /** Moves the relay's clock past the session's deadline and arms its timer again (it was armed for real time). */
  const passDeadline = () => {
    const session = hosted();
    if (session === undefined) throw new Error('no session');
    clock.offset = session.deadline - Date.now() + 1000;
    s.t.relay.core.scheduleDeadline(session);
  };
  return { s, clock, proofOf, hosted, passDeadline };
}

describe('while a hop proof is being checked', () => {
  test('the deadline passes: the proof came in time, is taken, and the session finishes; no lab is named', async () => {
    const runner = new HeldRunner();
    const { s, proofOf, hosted, passDeadline } = await proving(runner);
    expect((await s.post(s.a, 'hop_proof', proofOf(s.a))).status).toBe(200);
    runner.held = true;
    const b = s.post(s.b, 'hop_proof', proofOf(s.b));
    await until(() => runner.waiting === 1, "b's proof is being checked");
    passDeadline();
    await until(
      () => hosted()?.deadlineDeferred === true || hosted()?.state === 'aborted',
      'the deadline has been judged',
    );
    expect(hosted()?.state).toBe('proving'); // not aborted naming b, whose proof is in the relay's hands
    runner.release();
    expect((await b).status).toBe(200);
    expect(await s.status()).toMatchObject({ state: 'done' });
    expect((await s.status()).abort).toBeUndefined();
    expect((await relayItem(s, s.b, 'result_rows')).body).toMatchObject({ kind: 'email', lab: s.b.keyId });
  });

  test("the deadline passes while a's proof is checked and b owes its own: a's is taken, then the abort names b", async () => {
    const runner = new HeldRunner();
    const { s, proofOf, hosted, passDeadline } = await proving(runner);
    runner.held = true;
    const a = s.post(s.a, 'hop_proof', proofOf(s.a));
    await until(() => runner.waiting === 1, "a's proof is being checked");
    passDeadline();
    await until(
      () => hosted()?.deadlineDeferred === true || hosted()?.state === 'aborted',
      'the deadline has been judged',
    );
    runner.release();
    expect((await a).status).toBe(200);
    await until(() => hosted()?.state === 'aborted', 'the session is aborted');
    expect(await s.status()).toMatchObject({ state: 'aborted', abort: { culprit: s.b.keyId } });
    expect((await s.status()).abort?.reason).toMatch(/deadline/);
  });

  test('the worker dies: 503 UNAVAILABLE, and the same envelope sent again is taken; a failure of the check itself is 500', async () => {
    const runner = new HeldRunner();
    const { s, proofOf } = await proving(runner);
    const sealed = seal(s.a, 'hop_proof', s.session, proofOf(s.a)).bytes;
    const send = () => s.t.request('POST', `${s.path}/envelopes`, sealed, { signer: s.a });
    runner.held = true;
    const died = send();
    await until(() => runner.waiting === 1, 'the proof is being checked');
    runner.fail(new CryptoError('WORKER_FAILED', 'a batch worker exited with code 134'));
    const answer = await died;
    expect({ status: answer.status, code: codeOf(answer), retry: answer.headers.get('retry-after') }).toEqual({
      status: 503,
      code: 'UNAVAILABLE',
      retry: '1',
    });
    expect((await s.status()).state).toBe('proving'); // nothing changed: no abort
    runner.held = true;
    const broken = send();
    await until(() => runner.waiting === 1, 'the proof is being checked again');
    runner.fail(new CryptoError('BAD_INPUT', 'not a point'));
    expect(codeOf(await broken)).toBe('INTERNAL');
    expect((await send()).status).toBe(200);
    expect(await s.status()).toMatchObject({ state: 'proving', waiting_on: [s.b.keyId] });
  });

  test(`a lab's envelopes past ${MAX_TURN_QUEUE} waiting their turn are 503 BUSY; the others are answered`, async () => {
    const runner = new HeldRunner();
    const { s, proofOf } = await proving(runner);
    const sealed = seal(s.a, 'hop_proof', s.session, proofOf(s.a)).bytes;
    runner.held = true;
    const first = s.t.request('POST', `${s.path}/envelopes`, sealed, { signer: s.a });
    await until(() => runner.waiting === 1, 'the proof is being checked');
    // The same envelope again, as a client that gave up waiting would send it: each waits its turn.
    const more = Array.from({ length: MAX_TURN_QUEUE }, () =>
      s.t.request('POST', `${s.path}/envelopes`, sealed, { signer: s.a }),
    );
    const refused = await Promise.race(more);
    expect({ status: refused.status, code: codeOf(refused) }).toEqual({ status: 503, code: 'BUSY' });
    // b is not held back by a's queue.
    expect((await s.status()).state).toBe('proving');
    runner.release();
    const answers = await Promise.all([first, ...more]);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(MAX_TURN_QUEUE);
    expect(answers.filter((answer) => answer.status === 503)).toHaveLength(1);
    expect(await s.status()).toMatchObject({ state: 'proving', waiting_on: [s.b.keyId] });
  });
});
