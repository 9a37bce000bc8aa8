/**
 * Misbehaviour the engines can detect is detected, and the session aborts naming who did it.
 */
import { hashToGroup } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { LabSession, ProtocolError, RelaySession, type SessionMessage } from '../src/index.js';
import { labIds } from './session.helpers.js';

const [a, b, c] = labIds(3) as [string, string, string];
const proposal = { labs: [a, b, c], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 4 };
const tag = (i: number) => hashToGroup('email', `t${i}@example.com`);
const join = (n: number): SessionMessage => ({ type: 'join', body: { sizes: { email: n } } });
const chunk = (owner: string, hop: number, first: number, tags: Uint8Array[]) => ({
  kind: 'email',
  owner,
  hop,
  first,
  tags,
});

function joined(): RelaySession {
  const relay = new RelaySession(proposal);
  relay.receive(a, join(2));
  relay.receive(b, join(2));
  relay.receive(c, join(2));
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
      relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2), tag(3)]) }),
      a,
      /beyond the committed size/,
    );
    expect(relay.state).toBe('aborted');
  });

  test('a low-order tag aborts', () => {
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [new Uint8Array(32)]) }), a, /low-order/);
  });

  test('uploading for someone else, or at a hop other than 0, aborts', () => {
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(b, 0, 0, [tag(1)]) }), a, /hop 0/);
    expectAbort(joined().receive(a, { type: 'tag_chunk', body: chunk(a, 1, 0, [tag(1)]) }), a, /hop 1/);
  });

  test('a hop result of the wrong length, from the wrong lab, or for no task aborts', () => {
    let relay = joined();
    const [task] = relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2)]) });
    expect(task).toMatchObject({ to: b, message: { type: 'blind_task', body: { owner: a, hop: 1, first: 0 } } });
    expectAbort(
      relay.receive(b, { type: 'blind_result', body: chunk(a, 1, 0, [tag(5)]) }),
      b,
      /returned 1 tags for a task of 2/,
    );

    relay = joined();
    relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1), tag(2)]) });
    expectAbort(
      relay.receive(c, { type: 'blind_result', body: chunk(a, 1, 0, [tag(5), tag(6)]) }),
      c,
      /not the lab for hop 1/,
    );

    relay = joined();
    expectAbort(relay.receive(c, { type: 'blind_result', body: chunk(a, 2, 0, [tag(5), tag(6)]) }), c, /not given/);
  });

  test('a join over the cap or for other kinds aborts; a stranger or a second join is refused', () => {
    let relay = new RelaySession(proposal);
    expectAbort(relay.receive(a, join(5)), a, /over the cap/);
    relay = new RelaySession(proposal);
    expectAbort(relay.receive(a, { type: 'join', body: { sizes: { phone: 1 } } }), a, /kinds/);
    relay = new RelaySession(proposal);
    expect(() => relay.receive('f'.repeat(32), join(1))).toThrow(ProtocolError);
    relay.receive(a, join(1));
    expect(() => relay.receive(a, join(1))).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });

  test('nothing is forwarded before every lab has committed its sizes', () => {
    const relay = new RelaySession(proposal);
    relay.receive(a, join(1));
    expect(relay.receive(a, { type: 'tag_chunk', body: chunk(a, 0, 0, [tag(1)]) })).toEqual([]);
    relay.receive(b, join(1));
    const out = relay.receive(c, join(1));
    expect(out).toMatchObject([{ to: b, message: { type: 'blind_task' } }]);
  });
});

describe('the lab engine', () => {
  test('a result row for a position the lab does not own aborts, naming no one but telling why', async () => {
    const lab = new LabSession({ me: a, proposal, sets: { email: ['x@example.com'] } });
    await lab.start();
    const out = await lab.receive({ type: 'result_rows', body: { kind: 'email', rows: [{ position: 5, labs: [b] }] } });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/does not own/) } }]);
    expect(lab.abortReason).toMatch(/does not own/);
  });

  test("a blind task for a hop that is not this lab's aborts", async () => {
    const lab = new LabSession({ me: a, proposal, sets: { email: ['x@example.com'] } });
    const out = await lab.receive({ type: 'blind_task', body: chunk(b, 1, 0, [tag(1)]) });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/not this lab's/) } }]);
  });

  test('a low-order point in a blind task aborts instead of blinding it', async () => {
    const lab = new LabSession({ me: b, proposal, sets: { email: ['x@example.com'] } });
    const out = await lab.receive({ type: 'blind_task', body: chunk(a, 1, 0, [new Uint8Array(32)]) });
    expect(out).toMatchObject([{ type: 'abort', body: { reason: expect.stringMatching(/low-order/) } }]);
  });

  test('more values than the cap are refused before anything is sent', () => {
    expect(() => new LabSession({ me: a, proposal, sets: { email: ['1', '2', '3', '4', '5'] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});
