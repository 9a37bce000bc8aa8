/**
 * Misbehaviour the engines can detect is detected, and the session aborts naming who did it.
 */
import { BlindingKey, generateSigningKeyPair, hashToGroup, keyCommitment } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import {
  type CborValue,
  encodeDeterministic,
  LabSession,
  ProtocolError,
  packTags,
  RelaySession,
  type SessionMessage,
  StreamedResultRows,
  sealEnvelope,
} from '../src/index.js';
import { labIds } from './session.helpers.js';

const [a, b, c] = labIds(3) as [string, string, string];
/** The relay engine forwards the envelope bytes it is given; the shell has verified them. */
const ENV = { bytes: new Uint8Array([0xa0]), digest: new Uint8Array(32) };
const SESSION = { sessionId: new Uint8Array(16).fill(7) };
const proposal = { labs: [a, b, c], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 4 };
const tag = (i: number) => hashToGroup('email', `t${i}@example.com`);
/** A real key commitment per lab (the relay refuses a K outside G), and any coin commitment. */
const commitments = new Map(
  [a, b, c].map((id) => [id, { key: keyCommitment(BlindingKey.generate()), coin: new Uint8Array(32).fill(1) }]),
);
const commitment = (id: string) => commitments.get(id) as { key: Uint8Array; coin: Uint8Array };
const joinBody = (id: string, sizes: Record<string, number>) => ({ sizes, ...commitment(id) });
const join = (n: number, id: string): SessionMessage => ({ type: 'join', body: joinBody(id, { email: n }) });
const chunk = (owner: string, hop: number, first: number, tags: Uint8Array[]) => ({
  kind: 'email',
  owner,
  hop,
  first,
  tags: packTags(tags),
});

function joined(): RelaySession {
  const relay = new RelaySession(proposal, SESSION);
  for (const lab of [a, b, c]) relay.receive(lab, join(2, lab));
  return relay;
}

function expectAbort(out: ReturnType<RelaySession['receive']>, culprit: string, reason: RegExp) {
  expect(out).toHaveLength(3);
  for (const o of out)
    expect(o.message).toMatchObject({ type: 'abort', body: { culprit, reason: expect.stringMatching(reason) } });
}

describe('the relay engine', () => {
  test('a chunk beyond the committed size aborts, naming the lab', () => {
    const relay = joined();
    expectAbort(
      relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2), tag(3)]) }, ENV),
      a,
      /beyond the committed size/,
    );
    expect(relay.state).toBe('aborted');
  });

  test('a low-order tag aborts', () => {
    expectAbort(
      joined().receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [new Uint8Array(32)]) }, ENV),
      a,
      /low-order/,
    );
  });

  test('uploading for someone else, or at a hop other than 0, aborts', () => {
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(b, 0, 0, [tag(1)]) }, ENV), a, /hop 0/);
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(a, 1, 0, [tag(1)]) }, ENV), a, /hop 1/);
  });

  test('a hop result of the wrong length, from the wrong lab, or for no task aborts', () => {
    let relay = joined();
    const [task] = relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2)]) }, ENV);
    expect(task).toMatchObject({ to: b, message: { type: 'blind_task', body: { owner: a, hop: 1, first: 0 } } });
    expectAbort(
      relay.receive(b, { type: 'blind_result', body: chunk(a, 1, 0, [tag(5)]) }, ENV),
      b,
      /returned 1 tags for a task of 2/,
    );

    relay = joined();
    relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2)]) }, ENV);
    expectAbort(
      relay.receive(c, { type: 'blind_result', body: chunk(a, 1, 0, [tag(5), tag(6)]) }, ENV),
      c,
      /not the lab for hop 1/,
    );

    relay = joined();
    expectAbort(
      relay.receive(c, { type: 'blind_result', body: chunk(a, 2, 0, [tag(5), tag(6)]) }, ENV),
      c,
      /not given/,
    );
  });

  test('a join over the cap or for other kinds aborts; a stranger or a second join is refused', () => {
    let relay = new RelaySession(proposal, SESSION);
    expectAbort(relay.receive(a, join(5, a)), a, /over the cap/);
    relay = new RelaySession(proposal, SESSION);
    expectAbort(relay.receive(a, { type: 'join', body: joinBody(a, { phone: 1 }) }), a, /kinds/);
    relay = new RelaySession(proposal, SESSION);
    expect(() => relay.receive('f'.repeat(32), join(1, a))).toThrow(ProtocolError);
    relay.receive(a, join(1, a));
    expect(() => relay.receive(a, join(1, a))).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });

  test("a key commitment outside G, equal to ±B, or another lab's is a violation (the shell answers 422)", () => {
    const relay = new RelaySession(proposal, SESSION);
    relay.receive(a, join(1, a));
    const base = Uint8Array.from(Buffer.from(`58${'66'.repeat(31)}`, 'hex'));
    const negated = Uint8Array.from(base);
    negated[31] = (negated[31] as number) | 0x80;
    const cases: [Uint8Array, RegExp][] = [
      [base, /base point/],
      [negated, /negated base point/],
      [new Uint8Array(32).fill(0xff), /not in group/],
      [commitment(a).key, new RegExp(`same key as ${a}`)],
    ];
    for (const [key, reason] of cases) {
      const message: SessionMessage = { type: 'join', body: { ...joinBody(b, { email: 1 }), key } };
      expect(relay.violation(b, message)).toMatch(reason);
    }
    expect(relay.state).toBe('joining');
    expect(relay.violation(b, join(1, b))).toBeUndefined();
  });

  test('a hop-0 chunk cut other than the proposal fixes (§5.1) is a violation', () => {
    const relay = new RelaySession({ ...proposal, chunkSize: 1024, maxItemsPerKind: 3000 }, SESSION);
    for (const lab of [a, b, c]) relay.receive(lab, join(lab === a ? 2000 : 1, lab));
    const tags = (n: number) => Array.from({ length: n }, (_, i) => tag(i));
    expect(relay.violation(a, { type: 'tag_chunk', body: chunk(a, 0, 0, tags(512)) })).toMatch(
      /512 tags at 0; the chunk there has 1024/,
    );
    expect(relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, tags(1024)) }, ENV)).toHaveLength(1);
    expect(relay.violation(a, { type: 'tag_chunk', body: chunk(a, 0, 1024, tags(975)) })).toMatch(
      /975 tags at 1024; the chunk there has 976/,
    );
    expect(relay.violation(a, { type: 'tag_chunk', body: chunk(a, 0, 1024, tags(976)) })).toBeUndefined();
  });

  test('reveals and hop proofs out of place are violations', () => {
    const relay = joined();
    const reveal: SessionMessage = { type: 'reveal', body: { coin: new Uint8Array(32) } };
    expect(relay.violation(a, reveal)).toMatch(/before the proof request/);
    const proof: SessionMessage = {
      type: 'hop_proof',
      body: { kind: 'email', owner: a, hop: 1, first: 0, signs: new Uint8Array(1), proof: new Uint8Array(64) },
    };
    expect(relay.violation(b, proof)).toMatch(/before the proof request/);
    expectAbort(relay.receive(a, reveal), a, /before the proof request/);
  });

  test('nothing is forwarded before every lab has committed its sizes', () => {
    const relay = new RelaySession(proposal, SESSION);
    relay.receive(a, join(1, a));
    expect(relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1)]) }, ENV)).toEqual([]);
    relay.receive(b, join(1, b));
    const out = relay.receive(c, join(1, c));
    expect(out).toMatchObject([{ to: b, message: { type: 'blind_task' } }]);
  });
});

describe('the relay engine, second review', () => {
  test('an abort from a lab is validated; the sender is the source, a named culprit only its claim', () => {
    const relay = joined();
    expect(() =>
      relay.receive(a, { type: 'abort', body: { reason: 'x', culprit: 'not-a-key', extra: 1 } as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    const out = relay.receive(a, { type: 'abort', body: { reason: 'timeout', culprit: b } });
    for (const o of out) {
      expect(o.message).toMatchObject({
        type: 'abort',
        body: { reason: expect.stringContaining(`${a} aborted: timeout (it names ${b})`) },
      });
      expect((o.message.body as { culprit?: string }).culprit).toBeUndefined();
    }
  });

  test('a tag that is not canonically encoded (bit 255 set, or not below p) aborts', () => {
    const high = Uint8Array.from(tag(1));
    high[31] = (high[31] as number) | 0x80;
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [high]) }, ENV), a, /canonically/);
    const p = Uint8Array.from(Buffer.from(`ed${'ff'.repeat(30)}7f`, 'hex'));
    p[0] = 0xf0; // p + 3, a non-reduced encoding of 3
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [p]) }, ENV), a, /canonically/);
  });

  test('tags of a kind outside the session abort, naming the sender', () => {
    expectAbort(
      joined().receive(a, { type: 'tag_chunk', body: { ...chunk(a, 0, 0, [tag(1)]), kind: 'phone' } }, ENV),
      a,
      /not in the session/,
    );
  });

  test('a join claiming a huge set allocates nothing until tags arrive', () => {
    const big = new RelaySession({ ...proposal, maxItemsPerKind: 100_000_000 }, SESSION);
    const before = process.memoryUsage().heapUsed;
    big.receive(a, { type: 'join', body: joinBody(a, { email: 100_000_000 }) });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });
});

describe('the lab engine', () => {
  // Real signing keys for the three labs, so blind tasks can carry real source envelopes.
  const keys = new Map([a, b, c].map((id) => [id, generateSigningKeyPair()]));
  const publicKeyOf = (id: string) => keys.get(id)?.publicKey;
  const sessionId = new Uint8Array(16).fill(9);
  const newLab = (me: string, sets: Record<string, string[]> = { email: ['x@example.com'] }, p: object = proposal) =>
    new LabSession({ me, sessionId, publicKeyOf, proposal: p, sets });
  /** The envelope in which `from` sent `body` as `type`, as the relay would forward it. */
  const envelopeOf = (from: string, type: 'tag_chunk' | 'blind_result', body: object, session = sessionId) =>
    sealEnvelope(
      { type, session, seq: 0, created: 0, payload: body as never },
      { keyId: from, secretKey: (keys.get(from) as { secretKey: Uint8Array }).secretKey },
    ).bytes;
  const task = (owner: string, hop: number, tags: Uint8Array[], source: Uint8Array, first = 0): SessionMessage => ({
    type: 'blind_task',
    body: { kind: 'email', owner, hop, first, tags: packTags(tags), source },
  });

  test('an honest blind task is blinded, once', async () => {
    const lab = newLab(b);
    const body = chunk(a, 0, 0, [tag(1)]);
    const out = await lab.receive(task(a, 1, [tag(1)], envelopeOf(a, 'tag_chunk', body)));
    expect(out).toMatchObject([{ type: 'blind_result', body: { owner: a, hop: 1, first: 0 } }]);
    expect(out[0]?.body).not.toHaveProperty('source');
    const again = await lab.receive(task(a, 1, [tag(1)], envelopeOf(a, 'tag_chunk', body)));
    expect(again).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/already answered/) } }]);
  });

  test('the relay cannot use a lab to blind guesses: tags without a matching signed source are refused', async () => {
    const guesses = [tag(100)];
    const honest = envelopeOf(a, 'tag_chunk', chunk(a, 0, 0, [tag(1)]));
    const cases: [string, SessionMessage, RegExp][] = [
      ['guesses under a real envelope', task(a, 1, guesses, honest), /not the tags its source carries/],
      [
        'a source signed by the wrong lab',
        task(a, 1, guesses, envelopeOf(c, 'tag_chunk', chunk(a, 0, 0, guesses))),
        /not by the previous hop/,
      ],
      [
        'a source of another session',
        task(a, 1, guesses, envelopeOf(a, 'tag_chunk', chunk(a, 0, 0, guesses), new Uint8Array(16))),
        /another session/,
      ],
      [
        'a source of another place',
        task(a, 1, guesses, envelopeOf(a, 'tag_chunk', chunk(a, 0, 5, guesses))),
        /another part/,
      ],
      [
        'a source of the wrong type',
        task(a, 1, guesses, envelopeOf(a, 'blind_result', chunk(a, 0, 0, guesses))),
        /not a tag_chunk/,
      ],
      ['garbage as the source', task(a, 1, guesses, new Uint8Array([1, 2, 3])), /does not open/],
    ];
    for (const [label, message, reason] of cases) {
      const out = await newLab(b).receive(message);
      expect(out, label).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(reason) } }]);
    }
  });

  test('a result row for a position the lab does not own aborts, telling why', async () => {
    const lab = newLab(a);
    await lab.start();
    const out = await lab.receive({
      type: 'result_rows',
      body: { kind: 'email', lab: a, rows: [{ position: 5, labs: [b] }] },
    });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/does not own/) } }]);
    expect(lab.abortReason).toMatch(/does not own/);
  });

  test("another lab's result rows abort: the relay names the recipient under its signature", async () => {
    const lab = newLab(a);
    await lab.start();
    const out = await lab.receive({ type: 'result_rows', body: { kind: 'email', lab: b, rows: [] } });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/not for this lab/) } }]);
  });

  test('result rows read one at a time from the signed bytes give the same results, and the same aborts', async () => {
    const sets = { email: ['p@example.com', 'q@example.com', 'r@example.com'] };
    const rows = [
      { position: 2, labs: [b] },
      { position: 0, labs: [b, c].sort() },
    ];
    // Each lab shuffles its own way: results are compared as what each lab's positions stand for.
    const expected = (lab: LabSession) => {
      const state = lab.state();
      state.key?.fill(0);
      const order = state.order.email as string[];
      return new Map([['email', rows.map((r) => ({ value: order[r.position], labs: r.labs }))]]);
    };
    const decoded = newLab(a, sets);
    await decoded.start();
    const decodedWants = expected(decoded);
    await decoded.receive({ type: 'result_rows', body: { kind: 'email', lab: a, rows } });
    expect(decoded.results).toEqual(decodedWants);
    const streamed = newLab(a, sets);
    await streamed.start();
    const streamedWants = expected(streamed);
    const payload = encodeDeterministic({ kind: 'email', lab: a, rows } as CborValue);
    expect(await streamed.receive({ type: 'result_rows', body: new StreamedResultRows(payload) })).toEqual([]);
    expect(streamed.done).toBe(true);
    expect(streamed.results).toEqual(streamedWants);

    const bad = newLab(a, sets);
    await bad.start();
    const badPayload = encodeDeterministic({ kind: 'email', lab: a, rows: [rows[0], { position: 'x' }] } as CborValue);
    const out = await bad.receive({ type: 'result_rows', body: new StreamedResultRows(badPayload) });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/result row 1 of email/) } }]);
    expect(() => new StreamedResultRows(badPayload.subarray(0, badPayload.length - 2))).toThrow(ProtocolError);
  });

  test('result rows that do not parse abort, naming the field', async () => {
    const lab = newLab(a);
    await lab.start();
    const out = await lab.receive({
      type: 'result_rows',
      body: { kind: 'email', lab: a, rows: [{ position: -1, labs: [b] }] } as never,
    });
    expect(out).toMatchObject([
      { type: 'abort', body: { reason: expect.stringMatching(/rows\.0\.position|position/) } },
    ]);
    expect(lab.abortReason).toBeDefined();
  });

  test("a blind task for a hop that is not this lab's, or of another kind, aborts", async () => {
    const source = envelopeOf(b, 'tag_chunk', chunk(b, 0, 0, [tag(1)]));
    expect(await newLab(a).receive(task(b, 1, [tag(1)], source))).toMatchObject([
      { type: 'abort', body: { reason: expect.stringMatching(/not this lab's/) } },
    ]);
    const other: SessionMessage = {
      type: 'blind_task',
      body: { kind: 'phone', owner: a, hop: 1, first: 0, tags: packTags([tag(1)]), source },
    };
    expect(await newLab(b).receive(other)).toMatchObject([
      { type: 'abort', body: { reason: expect.stringMatching(/not in the session/) } },
    ]);
  });

  test('a low-order point in a blind task aborts instead of being blinded', async () => {
    const zero = [new Uint8Array(32)];
    const out = await newLab(b).receive(task(a, 1, zero, envelopeOf(a, 'tag_chunk', chunk(a, 0, 0, zero))));
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/low-order/) } }]);
  });

  test('after its results, a lab refuses everything; rows that do not fit the policy abort', async () => {
    const lab = newLab(a);
    await lab.start();
    await lab.receive({ type: 'result_rows', body: { kind: 'email', lab: a, rows: [{ position: 0, labs: [b] }] } });
    expect(lab.done).toBe(true);
    await expect(lab.receive({ type: 'result_rows', body: { kind: 'email', lab: a, rows: [] } })).rejects.toMatchObject(
      {
        code: 'INVALID_MESSAGE',
      },
    );
    for (const row of [
      { position: 0, labs: [a] }, // itself
      { position: 0, labs: ['f'.repeat(32)] }, // not in the session
      { position: 0, labs: [c, b] }, // not sorted
      { position: 0, labs: [b], count: 1 }, // a field the policy does not give
      { position: 0 }, // no labs
    ]) {
      const fresh = newLab(a);
      await fresh.start();
      const out = await fresh.receive({ type: 'result_rows', body: { kind: 'email', lab: a, rows: [row] } });
      expect(out, JSON.stringify(row)).toMatchObject([
        { type: 'abort', body: { reason: expect.stringMatching(/does not fit/) } },
      ]);
    }
  });

  test('a kind named like an Object property is just an empty set', async () => {
    const lab = newLab(a, {}, { ...proposal, kinds: ['constructor'] });
    const out = await lab.start();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ type: 'join', body: { sizes: { constructor: 0 } } });
  });

  test('more values than the cap are refused before anything is sent', () => {
    expect(() => newLab(a, { email: ['1', '2', '3', '4', '5'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});

describe('RelaySession.violation', () => {
  test('reports what receive() would abort for, without changing anything; an approved chunk is not checked twice', () => {
    const relay = new RelaySession(proposal, SESSION);
    for (const lab of [a, b, c]) relay.receive(lab, join(2, lab));
    const beyond: SessionMessage = { type: 'tag_chunk', body: chunk(a, 0, 1, [tag(1), tag(2)]) };
    expect(relay.violation(a, beyond)).toMatch(/beyond the committed size/);
    expect(relay.state).toBe('exchanging');
    const good: SessionMessage = { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2)]) };
    expect(relay.violation(a, good)).toBeUndefined();
    expect(relay.receive(a, good, ENV).map((o) => o.message.type)).toEqual(['blind_task']);
    // The same chunk again is now out of place: violation() says so, and receive() aborts.
    expect(relay.violation(a, good)).toMatch(/expected 2/);
    expect(relay.receive(a, good, ENV)[0]?.message.type).toBe('abort');
  });
});
