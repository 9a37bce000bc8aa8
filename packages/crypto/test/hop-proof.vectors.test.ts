/**
 * spec/vectors/hop-proofs.json checked against the implementation on both backends: every key
 * commitment and refusal, tag in G and lift, coin commitment, σ, positions, proof (reproduced
 * from its key and fixed nonce randomness, and verified), failing verification with its fault,
 * and tag equivalence. (test/spec-vectors.test.ts checks that the file regenerates byte for byte.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { distinctnessScalar } from '../src/hop-proof/distinct.js';
import { liftMany } from '../src/hop-proof/points.js';
import {
  BlindingKey,
  blind,
  challengeSeed,
  coinCommitment,
  equivalentTags,
  type HopProofVerdict,
  keyCommitment,
  keyCommitmentProblem,
  type ProofMode,
  proveHop,
  provenPositions,
  tagInGroup,
  verifyHop,
} from '../src/index.js';
import { BACKENDS, hex, unhex } from './backends.js';

interface ProofVector {
  key: string;
  K: string;
  session: string;
  sigma: string;
  digest: string;
  mode: ProofMode;
  length: number;
  positions: number[];
  inputs: string[];
  outputs: string[];
  signs: string;
  proof: string;
  lifts: { P: string; Q: string; d: string }[];
}
interface FailureVector {
  why: string;
  K: string;
  session: string;
  digest: string;
  positions: number[];
  inputs: string[];
  outputs: string[];
  signs: string;
  proof: string;
  verdict: HopProofVerdict;
}

const v = JSON.parse(readFileSync(new URL('../../../spec/vectors/hop-proofs.json', import.meta.url), 'utf8')) as {
  key_commitments: { key: string; K: string; problem: string | null }[];
  key_commitments_refused: { why: string; K: string; problem: string }[];
  tags: { why: string; u: string; lift: string | null; in_group: boolean }[];
  coin_commitments: { session: string; key_id: string; coin: string; commitment: string }[];
  challenge_seed: { session: string; coins: string[]; sigma: string };
  positions: { sigma: string; digest: string; length: number; mode: ProofMode; positions: number[] }[];
  nonce_randomness: string;
  proofs: ProofVector[];
  verification_failures: FailureVector[];
  identity_hop_under_negated_base_point: ProofVector & { verdict: HopProofVerdict };
  equivalence: { c0: string; pairs: { why: string; a: string; b: string; equivalent: boolean }[] };
};
const list = (hexes: string[]) => hexes.map(unhex);

test('coin commitments, σ and positions', () => {
  for (const c of v.coin_commitments) {
    expect(hex(coinCommitment(unhex(c.session), c.key_id, unhex(c.coin)))).toBe(c.commitment);
  }
  const { session, coins, sigma } = v.challenge_seed;
  expect(hex(challengeSeed(unhex(session), list(coins)))).toBe(sigma);
  for (const p of v.positions) {
    expect(provenPositions(unhex(p.sigma), unhex(p.digest), p.length, p.mode)).toEqual(p.positions);
  }
  expect(hex(distinctnessScalar())).toBe(v.equivalence.c0);
});

describe.each(BACKENDS)('spec/vectors/hop-proofs.json on the %s backend', (name) => {
  const options = { backend: name };

  test('key commitments, and the ones a relay refuses', () => {
    for (const k of v.key_commitments) {
      const K = keyCommitment(BlindingKey.fromBytes(unhex(k.key)), options);
      expect(hex(K)).toBe(k.K);
      expect(keyCommitmentProblem(K, options) ?? null).toBe(k.problem);
    }
    for (const r of v.key_commitments_refused) expect(keyCommitmentProblem(unhex(r.K), options), r.why).toBe(r.problem);
  });

  test('tags in G and their lifts', () => {
    for (const t of v.tags) {
      expect(tagInGroup(unhex(t.u), options), t.why).toBe(t.in_group);
      const lifted = liftMany([unhex(t.u)])[0];
      expect(lifted === undefined ? null : hex(lifted), t.why).toBe(t.lift);
    }
  });

  test.each(v.proofs.map((p) => [`${p.mode}, ${p.length} tags`, p] as const))(
    'the proof of a chunk (%s) is reproduced and verifies',
    (_label, p) => {
      const key = BlindingKey.fromBytes(unhex(p.key));
      const context = { sessionId: unhex(p.session), digest: unhex(p.digest) };
      const inputs = list(p.inputs);
      expect(provenPositions(unhex(p.sigma), context.digest, p.length, p.mode)).toEqual(p.positions);
      expect(hex(keyCommitment(key, options))).toBe(p.K);
      expect(inputs.map((u) => hex(blind(key, u, options)))).toEqual(p.outputs);
      const proof = proveHop(key, context, p.positions, inputs, {
        ...options,
        nonceRandomness: unhex(v.nonce_randomness),
      });
      expect({ signs: hex(proof.signs), proof: hex(proof.proof) }).toEqual({ signs: p.signs, proof: p.proof });
      const signs = unhex(p.signs);
      const lifts = p.positions.map((_, i) => ({
        P: hex(liftMany([inputs[i] as Uint8Array])[0] as Uint8Array),
        Q: hex(
          liftMany([unhex(p.outputs[i] as string)], () => ((signs[i >> 3] as number) >> (i & 7)) & 1)[0] as Uint8Array,
        ),
      }));
      expect(lifts).toEqual(p.lifts.map(({ P, Q }) => ({ P, Q })));
      expect(verifyHop(unhex(p.K), context, p.positions, inputs, list(p.outputs), proof, options)).toEqual({
        ok: true,
      });
    },
  );

  test.each(v.verification_failures.map((f) => [f.why, f] as const))('fails: %s', (_why, f) => {
    const verdict = verifyHop(
      unhex(f.K),
      { sessionId: unhex(f.session), digest: unhex(f.digest) },
      f.positions,
      list(f.inputs),
      list(f.outputs),
      { signs: unhex(f.signs), proof: unhex(f.proof) },
      options,
    );
    expect(verdict).toEqual(f.verdict);
    expect(verdict.ok).toBe(false);
  });

  test('the identity hop of the key 5L − 1 verifies against K = −B, which is why that K is refused', () => {
    const h = v.identity_hop_under_negated_base_point;
    expect(h.outputs).toEqual(h.inputs);
    const context = { sessionId: unhex(h.session), digest: unhex(h.digest) };
    const proof = { signs: unhex(h.signs), proof: unhex(h.proof) };
    expect(verifyHop(unhex(h.K), context, h.positions, list(h.inputs), list(h.outputs), proof, options)).toEqual({
      ok: true,
    });
    expect(h.verdict).toEqual({ ok: true });
    expect(keyCommitmentProblem(unhex(h.K), options)).toBe('negated_base_point');
  });

  test('tag equivalence', () => {
    for (const pair of v.equivalence.pairs) {
      expect(equivalentTags(unhex(pair.a), unhex(pair.b), options), pair.why).toBe(pair.equivalent);
    }
  });
});
