/**
 * The proof round through the relay's shell (spec/protocol.md §5.2, spec/relay-api.md §3–4), over
 * real HTTP with two hand-driven labs: the relay's proof request and challenge are one relay-signed
 * envelope in every lab's inbox; reveals and hop proofs are accepted, refused (422, the session
 * aborted naming the lab, the refused envelope its evidence) or fatal (accepted, logged, the session
 * aborted naming the lab); the proofs are verified against
 * the chunks the relay reads back from its own store (a blob file for a large chunk, SQLite for a
 * small one) — also after a restart in the middle of the round; no result is sent before the last
 * proof verified. The checks run on the relay's worker threads (`checkWorkers` 0: on its own).
 */
import { BlindingKey, challengeSeed, proveHop, provenPositions } from '@overlap/crypto';
import { tagAt, tagCount } from '@overlap/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { codeOf, revealBody, sealAside, type TestRelay } from './support/harness.js';
import {
  type Answered,
  closeRelays,
  hopProof,
  joined,
  relayItem,
  type Session,
  type Task,
  throughEveryHop,
} from './support/proof-round.js';

afterEach(closeRelays);

/** The relay's count of group checks made (on its worker threads, or on its own with checkWorkers 0). */
async function groupChecks(t: TestRelay): Promise<number> {
  const text = await t.metrics();
  return Number(/^overlap_relay_group_checks_total (\d+)$/m.exec(text)?.[1]);
}

describe('the proof round through the relay', () => {
  test.each([
    ['on a worker thread', 1],
    ['with checkWorkers 0, on the thread that answers requests', 0],
  ])(
    'proof request and challenge are one relay-signed envelope for every lab; proofs verified from the store, %s; results after the last',
    async (_where, checkWorkers) => {
      // a's chunk is over 64 KiB (a blob file), b's is small (in SQLite).
      const s = await joined(2100, 3, { checkWorkers });
      const answered = await throughEveryHop(s);
      expect((await s.status()).state).toBe('proving');
      expect((await s.status()).waiting_on.sort()).toEqual([s.a.keyId, s.b.keyId].sort());

      const requests = [await relayItem(s, s.a, 'proof_request'), await relayItem(s, s.b, 'proof_request')];
      expect(requests[0]?.index).toBe(requests[1]?.index);
      expect(requests[0]?.body).toEqual({ chunks: 2 });

      for (const who of [s.a, s.b]) expect((await s.post(who, 'reveal', revealBody(who, s.session))).status).toBe(200);

      const challenges = [await relayItem(s, s.a, 'challenge'), await relayItem(s, s.b, 'challenge')];
      expect(challenges[0]?.index).toBe(challenges[1]?.index);
      const { coins } = (challenges[0] as { body: unknown }).body as { coins: Uint8Array[] };
      expect(coins).toEqual(
        [revealBody(s.a, s.session).coin, revealBody(s.b, s.session).coin].map((c) => new Uint8Array(c)),
      );

      const proofA = hopProof(s, s.a, coins, answered.get(s.a) as Task);
      expect((await s.post(s.a, 'hop_proof', proofA)).status).toBe(200);
      expect((await s.inbox(s.a)).some((item) => item.type === 'result_rows')).toBe(false);
      expect((await s.status()).waiting_on).toEqual([s.b.keyId]);

      expect((await s.post(s.b, 'hop_proof', hopProof(s, s.b, coins, answered.get(s.b) as never))).status).toBe(200);
      expect((await s.status()).state).toBe('done');
      expect((await relayItem(s, s.a, 'result_rows')).body).toMatchObject({ kind: 'email', lab: s.a.keyId, rows: [] });
      // The challenge's in-G check of the 138 chosen inputs (one part) and the two proofs.
      expect(await groupChecks(s.t)).toBe(3);
    },
  );

  test('a reveal or a proof out of turn is refused (422) and aborts the session naming its lab; no results', async () => {
    /** Posts `type` from a in a new session brought to `stage`; expects 422 and the session aborted naming a. */
    const outOfTurn = async (
      stage: 'exchanging' | 'revealed' | 'proved',
      envelope: (
        s: Session,
        coins: Uint8Array[],
        answered: Answered,
      ) => { type: 'reveal' | 'hop_proof'; body: unknown },
      reason: RegExp,
    ) => {
      const s = await joined(5, 3);
      let coins: Uint8Array[] = [];
      let answered: Answered = new Map();
      if (stage !== 'exchanging') {
        answered = await throughEveryHop(s);
        for (const who of [s.a, s.b])
          expect((await s.post(who, 'reveal', revealBody(who, s.session))).status).toBe(200);
        coins = ((await relayItem(s, s.a, 'challenge')).body as { coins: Uint8Array[] }).coins;
      }
      if (stage === 'proved') {
        expect((await s.post(s.a, 'hop_proof', hopProof(s, s.a, coins, answered.get(s.a) as Task))).status).toBe(200);
      }
      const { type, body } = envelope(s, coins, answered);
      const before = s.t.relay.core.latest.size;
      const bytes = sealAside(s.a, type, s.session, body).bytes;
      const answer = await s.t.request('POST', `${s.path}/envelopes`, bytes, { signer: s.a });
      expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 422, code: 'PROTOCOL_VIOLATION' });
      expect(s.t.relay.core.latest.size).toBe(before + 1);
      expect(await s.status()).toMatchObject({ state: 'aborted', abort: { culprit: s.a.keyId } });
      expect((await s.status()).abort?.reason).toMatch(reason);
      const abort = (await relayItem(s, s.b, 'abort')).body as { culprit: string; evidence: Uint8Array };
      expect(abort.culprit).toBe(s.a.keyId);
      expect(Buffer.from(abort.evidence).equals(Buffer.from(bytes))).toBe(true);
      expect((await s.inbox(s.b)).some((item) => item.type === 'result_rows')).toBe(false);
    };
    await outOfTurn('exchanging', (s) => ({ type: 'reveal', body: revealBody(s.a, s.session) }), /reveal/);
    await outOfTurn('revealed', (s) => ({ type: 'reveal', body: revealBody(s.a, s.session) }), /reveal/);
    // A proof for a chunk a did not answer (its own set's hop 1 is b's).
    await outOfTurn(
      'revealed',
      (s, coins, answered) => ({
        type: 'hop_proof',
        body: { ...hopProof(s, s.a, coins, answered.get(s.a) as Task), owner: s.a.keyId },
      }),
      /./,
    );
    await outOfTurn(
      'proved',
      (s, coins, answered) => ({ type: 'hop_proof', body: hopProof(s, s.a, coins, answered.get(s.a) as Task) }),
      /./,
    );
  });

  test('a restart in the middle of the round: the relay replays the reveals and verifies the later proofs from its store', async () => {
    const s = await joined(2100, 2100);
    const answered = await throughEveryHop(s);
    for (const who of [s.a, s.b]) expect((await s.post(who, 'reveal', revealBody(who, s.session))).status).toBe(200);
    const { coins } = (await relayItem(s, s.a, 'challenge')).body as { coins: Uint8Array[] };
    expect((await s.post(s.a, 'hop_proof', hopProof(s, s.a, coins, answered.get(s.a) as Task))).status).toBe(200);
    const size = s.t.relay.core.latest.size;
    await s.t.restart();
    expect(s.t.relay.core.latest.size).toBe(size);
    expect(await s.status()).toMatchObject({ state: 'proving', waiting_on: [s.b.keyId] });
    expect((await s.post(s.b, 'hop_proof', hopProof(s, s.b, coins, answered.get(s.b) as never))).status).toBe(200);
    expect((await s.status()).state).toBe('done');
    // Nothing was sealed twice: one proof request and one challenge in the log.
    const types = (await s.inbox(s.b)).map((item) => item.type);
    expect(types.filter((type) => type === 'proof_request')).toHaveLength(1);
    expect(types.filter((type) => type === 'challenge')).toHaveLength(1);
  });

  test('a proof that does not verify is logged and aborts the session naming its prover; no results', async () => {
    const s = await joined(5, 5);
    const answered = await throughEveryHop(s);
    for (const who of [s.a, s.b]) expect((await s.post(who, 'reveal', revealBody(who, s.session))).status).toBe(200);
    const { coins } = (await relayItem(s, s.a, 'challenge')).body as { coins: Uint8Array[] };
    // b proves with another key than the one it committed to.
    const task = answered.get(s.b) as { inputs: Uint8Array; digest: Uint8Array; owner: string };
    const wrong = BlindingKey.generate();
    const sigma = challengeSeed(s.session, coins);
    const positions = provenPositions(sigma, task.digest, tagCount(task.inputs), 'spot');
    const proof = proveHop(
      wrong,
      { sessionId: s.session, digest: task.digest },
      positions,
      positions.map((j) => tagAt(task.inputs, j)),
    );
    const answer = await s.post(s.b, 'hop_proof', { kind: 'email', owner: s.a.keyId, hop: 1, first: 0, ...proof });
    expect(answer.status).toBe(200);
    const status = await s.status();
    expect(status.state).toBe('aborted');
    expect(status.abort?.culprit).toBe(s.b.keyId);
    const abort = await relayItem(s, s.a, 'abort');
    expect((abort.body as { culprit: string }).culprit).toBe(s.b.keyId);
    expect((await s.inbox(s.a)).some((item) => item.type === 'result_rows')).toBe(false);
  });
});
