/**
 * The long poll of a lab's session list (spec/relay-api.md §3, `GET /v1/sessions?wait=MS`), over
 * HTTP on loopback: an empty page is held until a proposal naming the lab commits, and then
 * answers that proposal at once; a proposal that does not name the lab does not end it; a page
 * with a session answers at once; `wait` is checked like the inbox's and capped by the relay's
 * `maxWaitMs`; the route still needs a lab's signature; shutdown answers a held page; each listed
 * session's `proposal` is its proposal's log index, so `from` = that + 1 lists only what came
 * after. Whether a request is held is read from the operator's `overlap_relay_long_polls` gauge:
 * the tests wait for conditions, never for a fixed time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, type Answer, codeOf, hex, messageOf, TestRelay } from './support/harness.js';

interface Page {
  sessions: { session: Uint8Array; proposal: number; labs: string[] }[];
  next?: number;
}

/** Requests held by a long poll of this kind now, from the operator's metrics. */
async function parked(t: TestRelay, read: 'inbox' | 'sessions'): Promise<number> {
  const line = (await t.metrics()).match(new RegExp(`^overlap_relay_long_polls\\{read="${read}"\\} (\\d+)$`, 'm'));
  if (!line) throw new Error(`no overlap_relay_long_polls{read="${read}"} in the metrics`);
  return Number(line[1]);
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A signed `GET /v1/sessions` by `who`, and how long its answer took (ms). */
async function list(t: TestRelay, who: Actor, query: string): Promise<{ answer: Answer; took: number }> {
  const started = performance.now();
  const answer = await t.request('GET', `/v1/sessions?${query}`, undefined, { signer: who });
  return { answer, took: performance.now() - started };
}

const ids = (answer: Answer) => (answer.body as Page).sessions.map((s) => hex(s.session));

describe('GET /v1/sessions?wait=MS', () => {
  let t: TestRelay;
  let n = 0;
  /** Fresh labs for each test: nothing names them yet. */
  const labs = async (count: number): Promise<Actor[]> => {
    const out: Actor[] = [];
    for (let i = 0; i < count; i++) out.push(await t.enroll(`lab${n++}`));
    return out;
  };
  const logSize = () => t.relay.core.latest.size;

  beforeAll(async () => {
    t = await TestRelay.start();
  });
  afterAll(async () => t.close());

  test('a held page answers, well before its wait, the proposal another lab makes naming the waiter', async () => {
    const [a, b] = (await labs(2)) as [Actor, Actor];
    const from = logSize();
    const waiting = list(t, b, `from=${from}&wait=20000`);
    await until(async () => (await parked(t, 'sessions')) === 1, "b's request held");
    const session = await t.propose([a, b]);
    const { answer, took } = await waiting;
    expect(answer.status).toBe(200);
    expect(ids(answer)).toEqual([hex(session)]);
    expect((answer.body as Page).next).toBeUndefined();
    expect(took, 'it was answered when the proposal committed, not when its wait ran out').toBeLessThan(20_000);
    expect(await parked(t, 'sessions')).toBe(0);

    // `proposal` is the log index of the session's proposal: the entry there is a's session_proposal.
    const [listed] = (answer.body as Page).sessions as [Page['sessions'][number]];
    expect(listed.proposal).toBeGreaterThanOrEqual(from);
    const entry = await t.request(
      'GET',
      `/v1/log/entries?start=${listed.proposal}&end=${listed.proposal + 1}`,
      undefined,
      {
        signer: b,
      },
    );
    const entries = (entry.body as { entries: { index: number; type: string; sender: string; session: Uint8Array }[] })
      .entries;
    expect(entries.map((e) => ({ index: e.index, type: e.type, sender: e.sender, session: hex(e.session) }))).toEqual([
      { index: listed.proposal, type: 'session_proposal', sender: a.keyId, session: hex(session) },
    ]);
    // The watcher's cursor: from that index on it is listed again, from the next one on it is not.
    expect(ids((await list(t, b, `from=${listed.proposal}`)).answer)).toEqual([hex(session)]);
    expect(ids((await list(t, b, `from=${listed.proposal + 1}`)).answer)).toEqual([]);
  });

  test('a proposal that does not name the waiter does not end its wait: the page after the wait is empty', async () => {
    const [a, b, c] = (await labs(3)) as [Actor, Actor, Actor];
    const waiting = list(t, c, `from=${logSize()}&wait=300`);
    await until(async () => (await parked(t, 'sessions')) === 1, "c's request held");
    await t.propose([a, b]);
    const { answer, took } = await waiting;
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { sessions: [] } });
    // Held for its whole wait (a timer may fire a millisecond early), not ended by a's proposal.
    expect(took).toBeGreaterThanOrEqual(295);
  });

  test('only the labs a proposal names are woken, whoever proposes; the others stay held', async () => {
    const [a, b, c] = (await labs(3)) as [Actor, Actor, Actor];
    const from = logSize();
    const cWaits = list(t, c, `from=${from}&wait=20000`);
    await until(async () => (await parked(t, 'sessions')) === 1, "c's request held");
    const ab = await t.propose([a, b]);
    // The commit woke whom it names before the proposal was answered: c is still held.
    expect(await parked(t, 'sessions')).toBe(1);
    // b proposes, naming c: c is woken, and its page lists only that session.
    const bc = await t.propose([b, c]);
    const { answer, took } = await cWaits;
    expect(ids(answer)).toEqual([hex(bc)]);
    expect(took).toBeLessThan(20_000);
    // a, named in the first one, finds it without waiting.
    expect(ids((await list(t, a, `from=${from}&wait=20000`)).answer)).toEqual([hex(ab)]);
  });

  test('a page that is not empty is answered at once, wait or not', async () => {
    const [a, b] = (await labs(2)) as [Actor, Actor];
    const session = await t.propose([a, b]);
    const { answer, took } = await list(t, b, 'from=0&wait=20000');
    expect(answer.status).toBe(200);
    expect(ids(answer)).toEqual([hex(session)]);
    expect(took).toBeLessThan(20_000);
    expect(await parked(t, 'sessions')).toBe(0);
  });

  test('a malformed wait is 400 BAD_REQUEST naming it, answered at once', async () => {
    const [a] = (await labs(1)) as [Actor];
    for (const wait of ['-1', 'abc', '1.5', '1e3', '', '01', '+5', '0x10', '9999999999999999']) {
      const { answer } = await list(t, a, `from=0&wait=${encodeURIComponent(wait)}`);
      expect({ wait, status: answer.status, code: codeOf(answer) }).toEqual({ wait, status: 400, code: 'BAD_REQUEST' });
      expect(messageOf(answer)).toMatch(/\bwait\b/);
    }
    // And a malformed page is refused before any wait.
    expect(codeOf((await list(t, a, 'limit=0&wait=20000')).answer)).toBe('BAD_REQUEST');
  });

  test('an unsigned request is refused as before, wait or not (401 SIGNATURE_MISSING)', async () => {
    const answer = await t.request('GET', '/v1/sessions?from=0&wait=20000');
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 401, code: 'SIGNATURE_MISSING' });
    expect(await parked(t, 'sessions')).toBe(0);
  });
});

describe('the cap and the shutdown', () => {
  test("the wait is capped at the relay's maxWaitMs", async () => {
    const t = await TestRelay.start({ limits: { maxWaitMs: 200 } });
    try {
      const a = await t.enroll('a');
      const { answer, took } = await list(t, a, 'from=0&wait=20000');
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { sessions: [] } });
      expect(took).toBeGreaterThanOrEqual(195);
      expect(took).toBeLessThan(20_000);
    } finally {
      await t.close();
    }
  });

  test('a relay that shuts down answers the held page (read again) instead of keeping it', async () => {
    const t = await TestRelay.start();
    try {
      const a = await t.enroll('a');
      const waiting = list(t, a, 'from=0&wait=20000');
      await until(async () => (await parked(t, 'sessions')) === 1, "a's request held");
      const closed = t.relay.close();
      const { answer, took } = await waiting;
      await closed;
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { sessions: [] } });
      expect(took).toBeLessThan(20_000);
    } finally {
      await t.close();
    }
  });
});
