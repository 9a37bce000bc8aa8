/**
 * The attacks of a dishonest lab on verifiable hops (spec/protocol.md §5.1–5.3, ciphersuite.md §10),
 * each carried out by a LabSession subclass in an otherwise honest in-memory session: every one
 * aborts the session naming the cheating lab, and no lab gets any result. Sets are small (one chunk
 * of at most 135 tags), so `spot` proves every position and each case is deterministic; some run in
 * `full` mode too. The probabilistic cases (1%, 5% of a large chunk) are scripts/detection-rate.ts.
 *
 * Schedule of [a, b, c]: a's set goes a → b → c, b's set b → c → a, c's set c → a → b. So b is hop 1
 * of a's set and the last hop (2) of c's set.
 */
import {
  BlindingKey,
  blind,
  type HopProof,
  type HopProofContext,
  hashToGroup,
  keyCommitment,
  provenPositions,
} from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import {
  type BlindTask,
  LabSession,
  type LabSessionOptions,
  type RevealPolicy,
  runSessionInMemory,
  type SessionMessage,
  type TagChunk,
  tagAt,
  tagCount,
} from '../src/index.js';
import { cheatAs, freshTag, fromInt, inverseTag, L, mapTags, randomTag, twistTag } from './session.cheating-lab.js';
import { labIds } from './session.helpers.js';

const [a, b, c] = labIds(3) as [string, string, string];
const policy: RevealPolicy = { kind: 'count' };
const shared = ['shared-1@example.com', 'shared-2@example.com', 'shared-3@example.com'];
const labs = [a, b, c].map((keyId, i) => ({
  keyId,
  sets: { email: [...shared, ...Array.from({ length: 20 + i }, (_, j) => `own-${i}-${j}@example.com`)] },
}));
const proposalFor = (proofs: 'spot' | 'full' = 'spot') => ({
  labs: [a, b, c],
  kinds: ['email'],
  policy,
  maxItemsPerKind: 1000,
  proofs,
});

type Make = (options: LabSessionOptions) => LabSession;

async function run(cheater: string, make: Make, proofs: 'spot' | 'full' = 'spot', sets = labs) {
  return runSessionInMemory(proposalFor(proofs), sets, { createLab: cheatAs(cheater, make) });
}

/** The session aborted naming `culprit` for `reason`, and no lab has a result. */
async function expectCaught(cheater: string, make: Make, culprit: string, reason: RegExp, proofs?: 'spot' | 'full') {
  const { relay, labs: engines } = await run(cheater, make, proofs);
  expect(relay.state).toBe('aborted');
  expect(relay.abortReason).toEqual({ culprit, reason: expect.stringMatching(reason) });
  for (const lab of engines) {
    expect(lab.results.size, `${lab.me} got results`).toBe(0);
    expect(lab.abortReason, `${lab.me} was not told`).toBeDefined();
  }
}

/** b, changing the output tags of the blind tasks `when` selects. */
const outputsOf = (when: (task: BlindTask) => boolean, change: (outputs: Uint8Array, task: BlindTask) => Uint8Array) =>
  class extends LabSession {
    protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
      const outputs = await super.blindChunk(task);
      return when(task) ? change(outputs, task) : outputs;
    }
  };
const hop1OfA = (task: BlindTask) => task.owner === a && task.hop === 1;
const lastHop = (task: BlindTask) => task.hop === 2;
/** The owner a, changing its own upload. */
const ownUpload = (change: (tags: Uint8Array) => Uint8Array) =>
  class extends LabSession {
    protected override ownChunk(chunk: TagChunk): TagChunk {
      return { ...chunk, tags: change(chunk.tags) };
    }
  };

test('an honest session through the harness gives results (the harness itself changes nothing)', async () => {
  const { relay } = await run(b, (options) => new LabSession(options));
  expect(relay.state).toBe('done');
});

describe.each(['spot', 'full'] as const)('in %s mode, a hop that does not apply its key is caught by name', (mode) => {
  test('identity: the inputs returned as they came', async () => {
    const Identity = outputsOf(hop1OfA, (_outputs, task) => Uint8Array.from(task.tags));
    await expectCaught(b, (o) => new Identity(o), b, /hop proof for .* does not verify/, mode);
  });

  test('nullify the last hop: fresh points of G instead of the final tags', async () => {
    const Nullify = outputsOf(lastHop, (outputs) => mapTags(outputs, () => freshTag()));
    await expectCaught(b, (o) => new Nullify(o), b, /does not verify/, mode);
  });

  test('u → 1/u at the last hop (what a cofactored check would accept)', async () => {
    const Invert = outputsOf(lastHop, (outputs) => mapTags(outputs, inverseTag));
    await expectCaught(b, (o) => new Invert(o), b, new RegExp(`${b} output a tag outside G`), mode);
  });

  test('substitute 50% of a chunk with fresh points', async () => {
    const Half = outputsOf(hop1OfA, (outputs) => mapTags(outputs, (tag, i) => (i % 2 === 0 ? freshTag() : tag)));
    await expectCaught(b, (o) => new Half(o), b, /does not verify/, mode);
  });
});

describe('a hop that corrupts its outputs is caught by name', () => {
  test('copy one tag everywhere: a duplicate at its hop, blamed on it', async () => {
    const Copy = outputsOf(hop1OfA, (outputs) => mapTags(outputs, () => tagAt(outputs, 0)));
    await expectCaught(b, (o) => new Copy(o), b, /same tag at hop 1, equivalent since hop 1, by/);
  });

  test('duplicate some tags', async () => {
    const Duplicate = outputsOf(hop1OfA, (outputs) =>
      mapTags(outputs, (tag, i) => (i === 3 || i === 7 ? tagAt(outputs, i - 1) : tag)),
    );
    await expectCaught(b, (o) => new Duplicate(o), b, /positions 2 and 3 .* same tag at hop 1/);
  });

  test('random strings: not in G, named as the producer of the next hop’s inputs', async () => {
    const Random = outputsOf(hop1OfA, (outputs) => mapTags(outputs, () => randomTag()));
    await expectCaught(b, (o) => new Random(o), b, new RegExp(`${b} produced a tag outside G \\(hop 1 of ${a}`));
  });

  test('random strings at the last hop: an output outside G', async () => {
    const Random = outputsOf(lastHop, (outputs) => mapTags(outputs, () => randomTag()));
    await expectCaught(b, (o) => new Random(o), b, new RegExp(`${b} output a tag outside G`));
  });

  test('u → 1/u at a middle hop: outside G, named as the producer, not blamed on the honest next hop', async () => {
    const Invert = outputsOf(hop1OfA, (outputs) => mapTags(outputs, inverseTag));
    await expectCaught(b, (o) => new Invert(o), b, new RegExp(`${b} produced a tag outside G \\(hop 1 of ${a}`));
  });

  test('twist points', async () => {
    const Twist = outputsOf(hop1OfA, (outputs) => mapTags(outputs, () => twistTag()));
    await expectCaught(b, (o) => new Twist(o), b, /produced a tag outside G/);
  });

  test('reorder within a chunk', async () => {
    const Reorder = outputsOf(hop1OfA, (outputs) => {
      const n = tagCount(outputs);
      return mapTags(outputs, (_tag, i) => tagAt(outputs, n - 1 - i));
    });
    await expectCaught(b, (o) => new Reorder(o), b, /does not verify/);
  });
});

describe('an owner cannot frame the next hop', () => {
  test('u and 1/u in its own upload: the duplicate at hop 1 is blamed on the owner', async () => {
    const Frame = ownUpload((tags) => mapTags(tags, (tag, i) => (i === 1 ? inverseTag(tagAt(tags, 0)) : tag)));
    await expectCaught(
      a,
      (o) => new Frame(o),
      a,
      new RegExp(`positions 0 and 1 .* equivalent since ${a}'s own upload`),
    );
  });

  test('a chosen input outside G (a twist point in its upload) names the owner at the challenge', async () => {
    const Twist = ownUpload((tags) => mapTags(tags, (tag, i) => (i === 4 ? twistTag() : tag)));
    await expectCaught(a, (o) => new Twist(o), a, new RegExp(`${a} produced a tag outside G \\(hop 0 of ${a}`));
  });
});

describe('commitments, coins and proofs', () => {
  test('K = −B: the clamped key 5L − 1 is the identity on G, and its join is refused', async () => {
    const identityKey = fromInt(5n * L - 1n);
    const u = hashToGroup('email', 'x@example.com');
    expect(blind(BlindingKey.fromBytes(identityKey), u)).toEqual(u);
    const make: Make = (options) => {
      // The order the lab would have chosen, kept; only the key is the identity one.
      const honest = new LabSession(options);
      const state = honest.state();
      honest.dispose();
      state.key?.fill(0);
      return new LabSession({ ...options, resume: { ...state, key: identityKey } });
    };
    const { relay, labs: engines } = await run(b, make);
    expect(relay.abortReason).toEqual({ culprit: b, reason: expect.stringMatching(/negated base point/) });
    for (const lab of engines) expect(lab.results.size).toBe(0);
  });

  test('K of another key: its proofs do not verify', async () => {
    const other = BlindingKey.generate();
    class OtherKey extends LabSession {
      protected override commitments() {
        return { ...super.commitments(), key: keyCommitment(other) };
      }
    }
    await expectCaught(b, (o) => new OtherKey(o), b, /does not verify/);
  });

  test('a proof for other positions than σ chose', async () => {
    // 400 tags: spot mode proves 135 of them, and the cheater proves another 135.
    const big = labs.map((lab, i) => ({
      ...lab,
      sets: { email: [...lab.sets.email, ...Array.from({ length: 400 }, (_, j) => `more-${i}-${j}@x.org`)] },
    }));
    class OtherPositions extends LabSession {
      readonly #tasks: Uint8Array[] = [];
      protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
        this.#tasks.push(task.tags);
        return super.blindChunk(task);
      }
      protected override proveChunk(context: HopProofContext, positions: number[], inputs: Uint8Array[]): HopProof {
        const tags = this.#tasks.find((t) => Buffer.from(t).includes(Buffer.from(inputs[0] as Uint8Array)));
        const all = tags as Uint8Array;
        const other = provenPositions(new Uint8Array(64), context.digest, tagCount(all), 'spot');
        expect(other).not.toEqual(positions);
        return super.proveChunk(
          context,
          other,
          other.map((j) => tagAt(all, j)),
        );
      }
    }
    const { relay } = await run(b, (o) => new OtherPositions(o), 'spot', big);
    expect(relay.abortReason).toEqual({ culprit: b, reason: expect.stringMatching(/does not verify/) });
  });

  test('a proof from another session', async () => {
    class OtherSession extends LabSession {
      protected override proveChunk(context: HopProofContext, positions: number[], inputs: Uint8Array[]): HopProof {
        return super.proveChunk({ ...context, sessionId: new Uint8Array(16).fill(0xee) }, positions, inputs);
      }
    }
    await expectCaught(b, (o) => new OtherSession(o), b, /does not verify/);
  });

  test('a wrong coin: the relay aborts naming the lab', async () => {
    class WrongCoin extends LabSession {
      protected override revealCoin(): Uint8Array {
        return globalThis.crypto.getRandomValues(new Uint8Array(32));
      }
    }
    await expectCaught(c, (o) => new WrongCoin(o), c, /coin that does not match its commitment/);
  });

  test('a missing coin: the session waits on that lab, and the deadline names it', async () => {
    class Silent extends LabSession {
      protected override revealCoin(): undefined {
        return undefined;
      }
    }
    const { relay, labs: engines } = await run(c, (o) => new Silent(o));
    expect(relay.state).toBe('proving');
    expect(relay.waitingOn()).toEqual([c]);
    const out = relay.abort('the deadline passed', relay.waitingOn()[0]);
    expect(out.map((o) => o.message.body)).toEqual(
      [a, b, c].map(() => ({ reason: 'the deadline passed', culprit: c })),
    );
    for (const lab of engines) expect(lab.results.size).toBe(0);
  });
});

test('the relay refuses a proof twice or for a chunk the sender did not answer, and waits for the last one', async () => {
  let withheld: SessionMessage | undefined;
  class Late extends LabSession {
    override async receive(message: Parameters<LabSession['receive']>[0]): Promise<SessionMessage[]> {
      const out = await super.receive(message);
      if (message.type !== 'challenge') return out;
      withheld = out.pop();
      return out;
    }
  }
  const { relay } = await run(b, (o) => new Late(o));
  expect(relay.state).toBe('proving');
  expect(relay.waitingOn()).toEqual([b]);
  const last = withheld as SessionMessage & { type: 'hop_proof' };
  expect(last.type).toBe('hop_proof');
  expect(relay.violation(c, last)).toMatch(/a chunk it did not answer/);
  const other = { ...last, body: { ...last.body, owner: last.body.owner === a ? c : a, hop: 3 - last.body.hop } };
  expect(relay.violation(b, other)).toMatch(/twice/);
  expect(relay.violation(b, last)).toBeUndefined();
  const out = relay.receive(b, last);
  expect(relay.state).toBe('done');
  expect(out.map((o) => o.message.type)).toEqual(['result_rows', 'result_rows', 'result_rows']);
});
