/**
 * A lab's quota of open sessions and the paginated session list (spec/relay-api.md §3, §5), on a
 * real relay on loopback: a lab that has proposed as many open sessions as the relay allows is
 * refused another (403 QUOTA_EXCEEDED, nothing logged), and the SDK gives up at once with the
 * relay's reason instead of retrying; naming a lab in sessions does not use its quota; a session
 * that ends frees its place, also across a restart; `GET /v1/relay` announces the quota.
 * `GET /v1/sessions` answers pages in log order of the proposals, `next` where the next one
 * starts, and the SDK's `listSessions()` follows them.
 */
import { ClientError, OverlapClient, RelayClient } from '@overlap/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, codeOf, hex, messageOf, seal, TestRelay } from '../packages/relay/test/support/harness.js';

const QUOTA = 3;
let t: TestRelay;
let a: Actor;
let b: Actor;
let c: Actor;

beforeAll(async () => {
  t = await TestRelay.start({ limits: { maxOpenSessionsPerLab: QUOTA } });
  a = await t.enroll('a');
  b = await t.enroll('b');
  c = await t.enroll('c');
});
afterAll(async () => t.close());

const logSize = () => t.relay.core.latest.size;

describe('open sessions per proposing lab', () => {
  const opened: Uint8Array[] = [];

  test('GET /v1/relay announces the quota', async () => {
    const info = await t.request('GET', '/v1/relay');
    expect((info.body as { limits: Record<string, number> }).limits.max_open_sessions_per_lab).toBe(QUOTA);
  });

  test('one proposal over the quota is 403 QUOTA_EXCEEDED, nothing logged', async () => {
    for (let i = 0; i < QUOTA; i++) opened.push(await t.propose([a, b]));
    const before = logSize();
    const { answer } = await t.postProposal([a, b]);
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 403, code: 'QUOTA_EXCEEDED' });
    expect(messageOf(answer)).toMatch(
      new RegExp(`${a.keyId} has ${QUOTA} open sessions it proposed, .*max_open_sessions_per_lab`),
    );
    expect(logSize()).toBe(before);
  });

  test('sessions that name a lab do not use its quota: it may still propose', async () => {
    // b is named in a's three sessions.
    opened.push(await t.propose([b, a]));
  });

  test('the SDK gives up at once with the reason: a quota is not a transient', async () => {
    let retries = 0;
    const client = await OverlapClient.connect({
      relayUrl: t.url,
      keys: a.keys,
      retry: { attempts: 8, onRetry: () => retries++ },
    });
    const refused = await client
      .createSession({ labs: [a.keyId, c.keyId], kinds: ['email'], policy: 'labs', maxItemsPerKind: 10 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).message).toMatch(/QUOTA_EXCEEDED|open sessions it proposed/);
    expect(retries).toBe(0);
  });

  test('a session that ends frees its place, also after a restart', async () => {
    const [first] = opened as [Uint8Array];
    const abort = seal(b, 'abort', first, { reason: 'not today' });
    const answer = await t.request('POST', `/v1/sessions/${hex(first)}/envelopes`, abort.bytes, { signer: b });
    expect(answer.status).toBe(200);
    await t.restart();
    await t.propose([a, c]);
    const { answer: again } = await t.postProposal([a, c]);
    expect(codeOf(again)).toBe('QUOTA_EXCEEDED');
  });
});

describe('GET /v1/sessions, a page at a time', () => {
  test('pages in log order of the proposals; next says where the next one starts; absent on the last', async () => {
    const all = (await t.request('GET', '/v1/sessions?limit=1000', undefined, { signer: b })).body as {
      sessions: { session: Uint8Array; proposal: number }[];
      next?: number;
    };
    expect(all.next).toBeUndefined();
    expect(all.sessions.length).toBeGreaterThanOrEqual(4);
    const indexes = all.sessions.map((s) => s.proposal);
    expect(indexes).toEqual([...indexes].sort((x, y) => x - y));

    const seen: number[] = [];
    let from: number | undefined = 0;
    let pages = 0;
    while (from !== undefined) {
      const page = (await t.request('GET', `/v1/sessions?from=${from}&limit=2`, undefined, { signer: b })).body as {
        sessions: { proposal: number }[];
        next?: number;
      };
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((s) => s.proposal));
      if (page.next !== undefined) expect(page.next).toBeGreaterThan(page.sessions.at(-1)?.proposal as number);
      from = page.next;
      pages++;
    }
    expect(seen).toEqual(indexes);
    expect(pages).toBe(Math.ceil(indexes.length / 2));
    const beyond = await t.request('GET', `/v1/sessions?from=${logSize()}`, undefined, { signer: b });
    expect(beyond.body).toEqual({ sessions: [] });
  });

  test('a malformed page is 400 BAD_REQUEST', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'from=-1', 'from=1e3']) {
      const answer = await t.request('GET', `/v1/sessions?${query}`, undefined, { signer: b });
      expect({ query, status: answer.status, code: codeOf(answer) }).toEqual({
        query,
        status: 400,
        code: 'BAD_REQUEST',
      });
    }
  });

  test("the SDK's listSessions follows every page (more than one page of 100)", async () => {
    const many = await TestRelay.start();
    try {
      const x = await many.enroll('x');
      const y = await many.enroll('y');
      const ids = [];
      for (let i = 0; i < 60; i++) ids.push(hex(await many.propose([x, y])));
      for (let i = 0; i < 60; i++) ids.push(hex(await many.propose([y, x])));
      const page = (await many.request('GET', '/v1/sessions', undefined, { signer: x })).body as {
        sessions: unknown[];
        next?: number;
      };
      expect(page.sessions).toHaveLength(100);
      expect(page.next).toBeDefined();
      const relay = new RelayClient({ url: many.url, signer: { keyId: x.keyId, secretKey: x.keys.signing.secretKey } });
      const { sessions } = await relay.listSessions();
      expect(sessions.map((s) => hex(s.session))).toEqual(ids);
    } finally {
      await many.close();
    }
  });
});
