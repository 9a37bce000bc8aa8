/**
 * A group check gives the same answer on a worker thread (BatchPool.check with workers), on the
 * calling thread (workers: 0) and called directly (verifyHop, tagInGroup one tag at a time): an
 * honest proof, a proof with one changed byte, an output that is not the hop of its input, and
 * tags outside G (a twist point, a torsion component) at a known index.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { tagInGroup } from '../src/hop-proof/points.js';
import {
  challengeSeed,
  type GroupCheck,
  type HopProofContext,
  keyCommitment,
  proveHop,
  provenPositions,
  runGroupCheck,
  verifyHop,
} from '../src/index.js';
import { BatchPool } from '../src/node/batch-pool.js';
import { fixedKey, honestChunk, torsionTag, twistTag } from './hop-proof-fixtures.js';

const context: HopProofContext = { sessionId: new Uint8Array(16).fill(0x5e), digest: new Uint8Array(32).fill(0xd1) };
const key = fixedKey(0x42);
const chunk = honestChunk(key, 40);
const positions = provenPositions(
  challengeSeed(context.sessionId, [new Uint8Array(32).fill(7)]),
  context.digest,
  40,
  'spot',
);
const inputs = positions.map((j) => chunk.inputs[j] as Uint8Array);
const outputs = positions.map((j) => chunk.outputs[j] as Uint8Array);
const proof = proveHop(key, context, positions, inputs);
const hop = (change: Partial<Extract<GroupCheck, { check: 'hop' }>> = {}): GroupCheck => ({
  check: 'hop',
  key: keyCommitment(key),
  context,
  positions,
  inputs,
  outputs,
  proof,
  ...change,
});
const flipped = Uint8Array.from(proof.proof);
flipped[40] = (flipped[40] as number) ^ 1;
const swapped = [...outputs];
[swapped[0], swapped[1]] = [outputs[1] as Uint8Array, outputs[0] as Uint8Array];

const CHECKS: [string, GroupCheck][] = [
  ['an honest hop proof', hop()],
  ['a proof with one byte changed', hop({ proof: { ...proof, proof: flipped } })],
  ['two outputs swapped', hop({ outputs: swapped })],
  ['an input on the twist', hop({ inputs: inputs.map((u, i) => (i === 3 ? twistTag() : u)) })],
  ['tags all in G', { check: 'in-group', tags: chunk.inputs }],
  [
    'a torsion tag at index 17 and a twist tag at 30',
    { check: 'in-group', tags: chunk.inputs.map((u, i) => (i === 17 ? torsionTag(4) : i === 30 ? twistTag() : u)) },
  ],
  ['no tags', { check: 'in-group', tags: [] }],
];

/** The answer computed without runGroupCheck: verifyHop, or tagInGroup tag by tag. */
function direct(check: GroupCheck): unknown {
  if (check.check === 'in-group')
    return { check: 'in-group', firstOutside: check.tags.findIndex((t) => !tagInGroup(t)) };
  const { key: K, positions: p, inputs: i, outputs: o, proof: pr } = check;
  return { check: 'hop', verdict: verifyHop(K, check.context, p, i, o, pr) };
}

describe.each([
  ['on the calling thread', 0],
  ['on a worker', 1],
])('BatchPool.check %s', (_label, workers) => {
  const pool = new BatchPool({ workers });
  afterAll(() => pool.close());

  test.each(CHECKS)('%s: the answer of the direct computation, and the time it took', async (_name, check) => {
    const { answer, ms } = await pool.check(check);
    expect(answer).toEqual(direct(check));
    expect(answer).toEqual(runGroupCheck(check));
    // A hop proof's verification takes measurable time; the time is the worker's (or this thread's).
    if (check.check === 'hop') expect(ms).toBeGreaterThan(0);
    else expect(ms).toBeGreaterThanOrEqual(0);
  });

  test('the verdicts are the expected ones (so that agreement means something)', async () => {
    const answers = await Promise.all(CHECKS.map(([, check]) => pool.check(check)));
    expect(answers.map((a) => a.answer)).toEqual([
      { check: 'hop', verdict: { ok: true } },
      { check: 'hop', verdict: { ok: false, fault: 'invalid' } },
      { check: 'hop', verdict: { ok: false, fault: 'invalid' } },
      { check: 'hop', verdict: { ok: false, fault: 'input_not_in_group', index: 3 } },
      { check: 'in-group', firstOutside: -1 },
      { check: 'in-group', firstOutside: 17 },
      { check: 'in-group', firstOutside: -1 },
    ]);
  });

  test('an unknown check is a typed error, and a closed pool refuses', async () => {
    const bad = { check: 'sum', tags: [] } as unknown as GroupCheck;
    await expect(pool.check(bad)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('sum') });
    const closed = new BatchPool({ workers });
    await closed.close();
    await expect(closed.check(CHECKS[0]?.[1] as GroupCheck)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
  });
});

describe('a worker that dies on a check', () => {
  // A hop check over 65,536 positions holds every position's points at once: more than a 16 MB heap.
  const big: GroupCheck = (() => {
    const n = 65_536;
    const tags = Array.from({ length: n }, (_, i) => chunk.inputs[i % chunk.inputs.length] as Uint8Array);
    return {
      check: 'hop',
      key: keyCommitment(key),
      context,
      positions: Array.from({ length: n }, (_, i) => i),
      inputs: tags,
      outputs: tags,
      proof: { signs: new Uint8Array(n / 8), proof: proof.proof }, // well formed: it is lifted, then fails
    };
  })();

  test('fails its check with WORKER_FAILED; with respawn the next check gets a new worker, without it fails too', async () => {
    const respawning = new BatchPool({ workers: 1, respawn: true, workerHeapMb: 16 });
    const plain = new BatchPool({ workers: 1, workerHeapMb: 16 });
    try {
      for (const pool of [respawning, plain]) {
        await expect(pool.check(big)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
      }
      expect((await respawning.check(CHECKS[0]?.[1] as GroupCheck)).answer).toEqual({
        check: 'hop',
        verdict: { ok: true },
      });
      await expect(plain.check(CHECKS[0]?.[1] as GroupCheck)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    } finally {
      await respawning.close(true);
      await plain.close(true);
    }
  });

  test('a heap below 16 MB is refused', () => {
    expect(() => new BatchPool({ workers: 1, workerHeapMb: 8 })).toThrow(
      /workerHeapMb must be an integer of at least 16/,
    );
  });
});
