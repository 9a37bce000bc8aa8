/**
 * Refusal aborts (spec/protocol.md §5, spec/errors.md §1): when the relay refuses a lab's session
 * envelope that proves the lab broke the rules, it answers the refusal and aborts the session at
 * once, with an abort it signs naming the lab and carrying the refused envelope as evidence; the
 * other labs find the abort in their inboxes instead of waiting for the deadline. What proves
 * nothing about the lab's own envelope (a chain gap, an envelope that does not open, one of
 * another session, a request refused before the envelope is read) aborts nothing. Real SQLite
 * file, real HTTP on loopback; the relay is restarted so the logged abort is replayed.
 */
import { fromHex, LOW_ORDER_ENCODINGS } from '@overlap/crypto';
import { type Abort, openEnvelope, parseMessage, sealEnvelope } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Actor,
  type Answer,
  blindedTags,
  codeOf,
  hex,
  joinBody,
  messageOf,
  seal,
  sealAside,
  TestRelay,
  uploadOf,
} from './support/harness.js';

let t: TestRelay;
let a: Actor;
let b: Actor;
let c: Actor;

beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('a');
  b = await t.enroll('b');
  c = await t.enroll('c');
});
afterAll(async () => t.close());

const logSize = () => t.relay.core.latest.size;
const pathOf = (session: Uint8Array) => `/v1/sessions/${hex(session)}/envelopes`;
const post = (session: Uint8Array, bytes: Uint8Array, signer: Actor) =>
  t.request('POST', pathOf(session), bytes, { signer });

async function accepted(session: Uint8Array, bytes: Uint8Array, signer: Actor): Promise<void> {
  const answer = await post(session, bytes, signer);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

/** A session of a and b, both joined with 10 e-mails (chunks of 1,024: one chunk each). */
async function joinedSession(): Promise<Uint8Array> {
  const session = await t.propose([a, b], { maxItemsPerKind: 100 });
  for (const lab of [a, b])
    await accepted(session, seal(lab, 'join', session, joinBody(lab, session, { email: 10 })).bytes, lab);
  return session;
}

/** The relay's aborts in `lab`'s inbox of `session`, opened and parsed. */
async function abortsIn(session: Uint8Array, lab: Actor): Promise<Abort[]> {
  const inbox = await t.request('GET', `/v1/sessions/${hex(session)}/inbox?after=0`, undefined, { signer: lab });
  expect(inbox.status).toBe(200);
  const items = (inbox.body as { items: { type: string; envelope: Uint8Array }[] }).items;
  const relayKey = t.relay.core.identity;
  return items
    .filter((item) => item.type === 'abort')
    .map((item) => {
      const opened = openEnvelope(item.envelope, (id) => (id === relayKey.keyId ? relayKey.publicKey : undefined));
      expect(opened.header.sender).toBe(relayKey.keyId);
      return parseMessage('abort', opened.payload);
    });
}

async function stateOf(session: Uint8Array): Promise<{ state: string; abort?: { reason: string; culprit?: string } }> {
  const answer = await t.request('GET', `/v1/sessions/${hex(session)}`, undefined, { signer: a });
  expect(answer.status).toBe(200);
  return answer.body as { state: string; abort?: { reason: string; culprit?: string } };
}

/**
 * Sends `bytes` as `culprit`, expects `status`/`code`, and that the session is aborted by one
 * relay abort (the log grew by exactly that entry) naming the culprit, carrying these very bytes,
 * in every lab's inbox.
 */
async function refusedAndAborted(
  session: Uint8Array,
  bytes: Uint8Array,
  culprit: Actor,
  expected: { status: number; code: string; reason: RegExp },
): Promise<Answer> {
  const before = logSize();
  const answer = await post(session, bytes, culprit);
  expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: expected.status, code: expected.code });
  expect(messageOf(answer)).toMatch(
    new RegExp(`the relay aborted the session naming ${culprit.keyId} \\(its abort is log entry ${before}\\)`),
  );
  expect(logSize()).toBe(before + 1);
  const status = await stateOf(session);
  expect(status.state).toBe('aborted');
  expect(status.abort?.culprit).toBe(culprit.keyId);
  expect(status.abort?.reason).toMatch(expected.reason);
  for (const lab of [a, b]) {
    const aborts = await abortsIn(session, lab);
    expect(aborts).toHaveLength(1);
    const [abort] = aborts as [Abort];
    expect(abort.culprit).toBe(culprit.keyId);
    expect(abort.reason).toMatch(
      new RegExp(`^the relay refused ${culprit.keyId}'s \\w+ \\(seq \\d+\\), ${expected.code}: `),
    );
    expect(abort.reason).toMatch(expected.reason);
    expect(Buffer.from(abort.evidence as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  }
  return answer;
}

/** Sends `bytes`, expects `status`/`code`, and that nothing was logged and the session's state and aborts did not change. */
async function refusedOnly(session: Uint8Array, bytes: Uint8Array, signer: Actor, status: number, code: string) {
  const before = logSize();
  const was = (await stateOf(session)).state;
  const abortsBefore = (await abortsIn(session, a)).length;
  const answer = await post(session, bytes, signer);
  expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status, code });
  expect(messageOf(answer)).not.toMatch(/aborted the session/);
  expect(logSize()).toBe(before);
  expect((await stateOf(session)).state).toBe(was);
  expect((await abortsIn(session, a)).length).toBe(abortsBefore);
}

describe('a refused envelope that proves its lab broke the rules aborts the session, naming the lab', () => {
  test('a join over the session cap (413 SET_TOO_LARGE)', async () => {
    const session = await t.propose([a, b], { maxItemsPerKind: 5 });
    const join = seal(b, 'join', session, joinBody(b, session, { email: 6 }));
    await refusedAndAborted(session, join.bytes, b, {
      status: 413,
      code: 'SET_TOO_LARGE',
      reason: /over the session's cap of 5/,
    });
  });

  test('a join whose payload fails its schema (422)', async () => {
    const session = await t.propose([a, b]);
    const join = seal(b, 'join', session, { ...joinBody(b, session, { email: 1 }), sizes: { email: -1 } });
    await refusedAndAborted(session, join.bytes, b, {
      status: 422,
      code: 'PROTOCOL_VIOLATION',
      reason: /sizes\.email/,
    });
  });

  test('a low-order tag (422)', async () => {
    const session = await joinedSession();
    const bad = [...blindedTags(9), fromHex(LOW_ORDER_ENCODINGS[1] as string)];
    const chunk = seal(a, 'tag_chunk', session, uploadOf(a, 0, bad));
    await refusedAndAborted(session, chunk.bytes, a, { status: 422, code: 'PROTOCOL_VIOLATION', reason: /low-order/ });
  });

  test('a chunk beyond the committed size (422)', async () => {
    const session = await joinedSession();
    const chunk = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    await refusedAndAborted(session, chunk.bytes, a, {
      status: 422,
      code: 'PROTOCOL_VIOLATION',
      reason: /committed size 10/,
    });
  });

  test('a message type a lab does not send into a session (422)', async () => {
    const session = await joinedSession();
    const rows = seal(a, 'result_rows', session, { kind: 'email', lab: a.keyId, rows: [] });
    await refusedAndAborted(session, rows.bytes, a, {
      status: 422,
      code: 'PROTOCOL_VIOLATION',
      reason: /does not send result_rows/,
    });
  });

  test("a lab's abort carrying evidence, which only the relay's carry (422)", async () => {
    const session = await joinedSession();
    const abort = seal(b, 'abort', session, { reason: 'see this', evidence: new Uint8Array([1, 2, 3]) });
    await refusedAndAborted(session, abort.bytes, b, {
      status: 422,
      code: 'PROTOCOL_VIOLATION',
      reason: /only the relay's aborts/,
    });
  });

  test('a second envelope at a seq already used: equivocation (409 CONFLICT)', async () => {
    const session = await joinedSession();
    // b's join was its seq 0; another envelope at seq 0, properly signed.
    const other = sealEnvelope(
      { type: 'reveal', session, seq: 0, created: Date.now(), payload: { coin: new Uint8Array(32).fill(1) } },
      { keyId: b.keyId, secretKey: b.keys.signing.secretKey },
    );
    await refusedAndAborted(session, other.bytes, b, {
      status: 409,
      code: 'CONFLICT',
      reason: /already sent envelope 0 with other bytes/,
    });
  });

  test('a place already filled, again with other bytes (409 CONFLICT)', async () => {
    const session = await joinedSession();
    await accepted(session, seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))).bytes, a);
    const again = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10, 'other')));
    await refusedAndAborted(session, again.bytes, a, {
      status: 409,
      code: 'CONFLICT',
      reason: /already sent with other bytes/,
    });
  });

  test("the next seq with a prev that is not the lab's previous envelope: a fork of its chain (409 CHAIN_BROKEN)", async () => {
    const session = await joinedSession();
    const forked = sealEnvelope(
      {
        type: 'reveal',
        session,
        seq: 1,
        prev: new Uint8Array(32).fill(7),
        created: Date.now(),
        payload: { coin: new Uint8Array(32).fill(1) },
      },
      { keyId: b.keyId, secretKey: b.keys.signing.secretKey },
    );
    await refusedAndAborted(session, forked.bytes, b, { status: 409, code: 'CHAIN_BROKEN', reason: /does not follow/ });
  });

  test('the abort is logged and replayed: after a restart the session is still aborted, and closed', async () => {
    const session = await joinedSession();
    const chunk = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    await refusedAndAborted(session, chunk.bytes, a, {
      status: 422,
      code: 'PROTOCOL_VIOLATION',
      reason: /committed size/,
    });
    await t.restart();
    const status = await stateOf(session);
    expect(status).toMatchObject({ state: 'aborted', abort: { culprit: a.keyId } });
    expect(await abortsIn(session, b)).toHaveLength(1);
    // Nothing more is taken, and nothing more aborts.
    await refusedOnly(
      session,
      seal(b, 'tag_chunk', session, uploadOf(b, 0, blindedTags(10))).bytes,
      b,
      409,
      'SESSION_CLOSED',
    );
  });
});

describe('a refusal that proves nothing about the lab aborts nothing', () => {
  test("a lab's own abort at a seq it used (409 CONFLICT) lost a race: it aborts nothing, and at its next seq it ends the session", async () => {
    const session = await joinedSession();
    const raced = sealEnvelope(
      { type: 'abort', session, seq: 0, created: Date.now(), payload: { reason: 'we stop' } },
      { keyId: b.keyId, secretKey: b.keys.signing.secretKey },
    );
    await refusedOnly(session, raced.bytes, b, 409, 'CONFLICT');
    await accepted(session, seal(b, 'abort', session, { reason: 'we stop' }).bytes, b);
    expect(await stateOf(session)).toMatchObject({
      state: 'aborted',
      abort: { reason: `${b.keyId} aborted: we stop` },
    });
  });

  test('a gap in the chain (409 CHAIN_BROKEN): the envelope before it may still come, and then both are taken', async () => {
    const session = await joinedSession();
    const first = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10)));
    const reveal = seal(a, 'abort', session, { reason: 'after the chunk' });
    await refusedOnly(session, reveal.bytes, a, 409, 'CHAIN_BROKEN');
    await accepted(session, first.bytes, a);
    expect((await stateOf(session)).state).toBe('exchanging');
  });

  test.each([
    [
      'a message type a lab does not send',
      (session: Uint8Array) => seal(a, 'result_rows', session, { kind: 'email', lab: a.keyId, rows: [] }),
    ],
    ['a payload its schema refuses', (session: Uint8Array) => seal(a, 'reveal', session, { coin: new Uint8Array(5) })],
  ])('after a gap, %s (422) aborts nothing: the audit judges an envelope at the next seq only', async (_, bad) => {
    const session = await joinedSession();
    const skipped = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10)));
    await refusedOnly(session, bad(session).bytes, a, 422, 'PROTOCOL_VIOLATION');
    await accepted(session, skipped.bytes, a);
    expect((await stateOf(session)).state).toBe('exchanging');
  });

  test('an envelope of another session posted here (422): it is no violation of this one', async () => {
    const session = await joinedSession();
    const other = await joinedSession();
    const envelope = sealAside(a, 'tag_chunk', other, uploadOf(a, 0, blindedTags(10)));
    await refusedOnly(session, envelope.bytes, a, 422, 'PROTOCOL_VIOLATION');
    expect((await stateOf(other)).state).toBe('exchanging');
  });

  test('an envelope whose signature does not verify (400 BAD_ENVELOPE): it proves nothing of its sender', async () => {
    const session = await joinedSession();
    const envelope = sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    const bytes = Buffer.from(envelope.bytes);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await refusedOnly(session, bytes, a, 400, 'BAD_ENVELOPE');
  });

  test("a lab not of the session (403 NOT_A_SESSION_LAB) cannot end other labs' session", async () => {
    const session = await joinedSession();
    const envelope = seal(c, 'join', session, joinBody(c, session, { email: 6000 }));
    await refusedOnly(session, envelope.bytes, c, 403, 'NOT_A_SESSION_LAB');
  });

  test("a lab's envelope sent by another lab (403 SENDER_MISMATCH): the signer did not send it", async () => {
    const session = await joinedSession();
    const envelope = sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    await refusedOnly(session, envelope.bytes, b, 403, 'SENDER_MISMATCH');
  });
});
