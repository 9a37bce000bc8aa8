/**
 * The relay's group checks made outside the engine (RelaySession.groupChecks, answered by
 * runGroupCheck as the relay's worker threads answer them, then `receive(..., answers)`) decide
 * exactly as the engine's own checks: the same results for honest sessions, the same abort (reason
 * and culprit) for each way of cheating that a group check catches. Answers that do not fit the
 * checks are refused, not trusted.
 */
import { type GroupCheck, type GroupCheckAnswer, runGroupCheck } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { type BlindTask, LabSession, type LabSessionOptions, runSessionInMemory, type TagChunk } from '../src/index.js';
import { IN_GROUP_PART } from '../src/session/proof-round.js';
import { cheatAs, freshTag, inverseTag, mapTags, twistTag } from './session.cheating-lab.js';
import { labIds } from './session.helpers.js';

const [a, b, c] = labIds(3) as [string, string, string];
const labsOf = (n: number) =>
  [a, b, c].map((keyId, i) => ({
    keyId,
    sets: {
      email: [
        ...Array.from({ length: 5 }, (_, j) => `shared-${j}@example.com`),
        ...Array.from({ length: n + i }, (_, j) => `own-${i}-${j}@example.com`),
      ],
    },
  }));
const proposalFor = (proofs: 'spot' | 'full') => ({
  labs: [a, b, c],
  kinds: ['email'],
  policy: { kind: 'labs' },
  maxItemsPerKind: 10_000,
  proofs,
});

type Make = (options: LabSessionOptions) => LabSession;
const honest: Make = (options) => new LabSession(options);

/** Runs the session twice, checks in the engine and answered outside it; answers both outcomes and what was asked. */
async function both(make: Make, proofs: 'spot' | 'full' = 'spot', n = 20) {
  const asked: GroupCheck[][] = [];
  const options = { createLab: cheatAs(b, make) };
  const inEngine = await runSessionInMemory(proposalFor(proofs), labsOf(n), options);
  const answered = await runSessionInMemory(proposalFor(proofs), labsOf(n), {
    ...options,
    answerChecks: (checks) => {
      asked.push(checks);
      return checks.map((check) => runGroupCheck(check));
    },
  });
  // The positions proven are drawn at random (each run its own session and coins): not compared.
  const outcome = (run: typeof inEngine) => ({
    state: run.relay.state,
    abort: run.relay.abortReason && {
      ...run.relay.abortReason,
      reason: run.relay.abortReason.reason.replace(/position \d+/, 'position N'),
    },
    results: [...run.results].map(([lab, byKind]) => [lab, [...byKind].map(([k, rows]) => [k, rows.length])]),
  });
  return { inEngine: outcome(inEngine), answered: outcome(answered), asked, run: answered };
}

/** b, changing the outputs of its blind tasks that `when` selects. */
const outputsOf = (when: (task: BlindTask) => boolean, change: (outputs: Uint8Array, task: BlindTask) => Uint8Array) =>
  class extends LabSession {
    protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
      const outputs = await super.blindChunk(task);
      return when(task) ? change(outputs, task) : outputs;
    }
  };

describe.each(['spot', 'full'] as const)('in %s mode', (mode) => {
  test('an honest session: the same results, and the challenge and every proof were asked of the checker', async () => {
    const { inEngine, answered, asked } = await both(honest, mode);
    expect(answered).toEqual(inEngine);
    expect(answered.state).toBe('done');
    const kinds = asked.map((checks) => checks.map((check) => check.check));
    // One challenge (in-G parts), then one hop proof per blind task: 3 sets × 2 hops, one chunk each.
    expect(kinds.filter((k) => k.every((x) => x === 'in-group'))).toHaveLength(1);
    expect(kinds.filter((k) => k.length === 1 && k[0] === 'hop')).toHaveLength(6);
  });

  const cases: [string, Make, RegExp][] = [
    [
      'the identity at hop 1',
      (o) =>
        new (outputsOf(
          (t) => t.hop === 1,
          (_x, t) => Uint8Array.from(t.tags),
        ))(o),
      /does not verify/,
    ],
    [
      'fresh points at the last hop',
      (o) =>
        new (outputsOf(
          (t) => t.hop === 2,
          (x) => mapTags(x, () => freshTag()),
        ))(o),
      /does not verify/,
    ],
    [
      'u → 1/u at the last hop: outputs outside G',
      (o) =>
        new (outputsOf(
          (t) => t.hop === 2,
          (x) => mapTags(x, inverseTag),
        ))(o),
      new RegExp(`${b} output a tag outside G`),
    ],
  ];
  test.each(cases)('%s: the same abort, naming b', async (_name, make, reason) => {
    const { inEngine, answered } = await both(make, mode);
    expect(answered).toEqual(inEngine);
    expect(answered.abort).toEqual({ culprit: b, reason: expect.stringMatching(reason) });
  });
});

test('a chosen input outside G (a twist point in b’s own upload) names b at the challenge, from the answers', async () => {
  const Twist = class extends LabSession {
    protected override ownChunk(chunk: TagChunk): TagChunk {
      return { ...chunk, tags: mapTags(chunk.tags, (tag, i) => (i === 2 ? twistTag() : tag)) };
    }
  };
  const { inEngine, answered } = await both((o) => new Twist(o), 'full');
  expect(answered).toEqual(inEngine);
  expect(answered.abort?.culprit).toBe(b);
  expect(answered.abort?.reason).toMatch(/outside G/);
});

test(`the challenge's inputs come in parts of at most ${IN_GROUP_PART}, every chosen input once`, async () => {
  const { answered, asked } = await both(honest, 'full', 400);
  expect(answered.state).toBe('done');
  const challenge = asked.find((checks) => checks.every((x) => x.check === 'in-group')) as GroupCheck[];
  const sizes = challenge.map((check) => (check.check === 'in-group' ? check.tags.length : -1));
  expect(sizes.length).toBeGreaterThan(1);
  expect(sizes.slice(0, -1).every((size) => size === IN_GROUP_PART)).toBe(true);
  // In full mode every input of every blind task is chosen: 3 sets × 2 hops, each set's size.
  const total = labsOf(400).reduce((sum, lab) => sum + lab.sets.email.length * 2, 0);
  expect(sizes.reduce((x, y) => x + y, 0)).toBe(total);
});

describe('answers that do not fit their checks', () => {
  const lying = (change: (answers: GroupCheckAnswer[], checks: GroupCheck[]) => GroupCheckAnswer[]) =>
    runSessionInMemory(proposalFor('spot'), labsOf(20), {
      answerChecks: (checks) =>
        change(
          checks.map((check) => runGroupCheck(check)),
          checks,
        ),
    });

  test('one answer short for the challenge is refused with a ProtocolError, not taken as "all in G"', async () => {
    await expect(
      lying((answers, checks) => (checks[0]?.check === 'in-group' ? answers.slice(0, -1) : answers)),
    ).rejects.toMatchObject({ name: 'ProtocolError', message: expect.stringMatching(/answers/) });
  });

  test('an answer naming a tag beyond its part is refused, not taken as "all in G"', async () => {
    await expect(
      lying((answers) =>
        answers.map((a) => (a.check === 'in-group' ? { ...a, firstOutside: a.firstOutside + 100_000 } : a)),
      ),
    ).rejects.toMatchObject({ name: 'ProtocolError', message: expect.stringMatching(/name tag 99999 of part 0/) });
  });

  test('a hop proof with no answer, or two, is refused', async () => {
    for (const change of [() => [], (answers: GroupCheckAnswer[]) => [...answers, ...answers]]) {
      await expect(
        lying((answers, checks) => (checks[0]?.check === 'hop' ? change(answers) : answers)),
      ).rejects.toMatchObject({
        name: 'ProtocolError',
        message: expect.stringMatching(/needs one hop answer/),
      });
    }
  });

  test('an answer of the other kind is refused', async () => {
    await expect(
      lying((answers, checks) => (checks[0]?.check === 'hop' ? [{ check: 'in-group', firstOutside: -1 }] : answers)),
    ).rejects.toMatchObject({ name: 'ProtocolError' });
  });
});
