/**
 * The attacks on a hop proof, each carried out on both backends against verifyHop: every check of
 * spec/ciphersuite.md §10's verifier broken by exactly one change and reported with its fault, in
 * the spec's order. Then the keys that act as the identity (5L − 1, whose K is −B), and the verifier
 * the spec forbids: a cofactored one, written here, accepts a hop that sends every u to 1/u, and
 * verifyHop does not — nor does libsodium's own point check stop it on its own.
 */
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { NEGATED_BASE_POINT } from '../src/hop-proof/points.js';
import {
  BlindingKey,
  blind,
  challengeSeed,
  type HopProof,
  type HopProofContext,
  type HopProofVerdict,
  keyCommitment,
  keyCommitmentProblem,
  proveHop,
  provenPositions,
  verifyHop,
} from '../src/index.js';
import { BACKENDS, hex } from './backends.js';
import { numberToBytesLE } from './bigint-field.js';
import { fixedKey, honestChunk, randomPointOfG, torsionTag, twistTag } from './hop-proof-fixtures.js';
import {
  cofactoredVerify,
  inverseTag,
  L,
  Point,
  refLift,
  refOutputs,
  refProve,
  refScalar,
  T2,
  uOf,
} from './hop-proof-reference.js';

const context: HopProofContext = { sessionId: new Uint8Array(16).fill(0x5e), digest: new Uint8Array(32).fill(0xd1) };
const sigma = challengeSeed(context.sessionId, [new Uint8Array(32).fill(7)]);
const LENGTH = 20;
const positions = provenPositions(sigma, context.digest, LENGTH, 'spot');
const a = new Uint8Array(32).fill(0xaa);

interface Case {
  K: Uint8Array;
  context: HopProofContext;
  positions: number[];
  inputs: Uint8Array[];
  outputs: Uint8Array[];
  proof: HopProof;
}

const replace = <T>(list: readonly T[], at: number, value: T): T[] => list.map((x, i) => (i === at ? value : x));
const withProof = (proof: Uint8Array, c: Case): Case => ({ ...c, proof: { ...c.proof, proof } });

describe.each(BACKENDS)('attacks on the %s backend', (name) => {
  const backend = { backend: name };
  const key = fixedKey(0x42);
  const K = keyCommitment(key, backend);
  const chunk = honestChunk(key, LENGTH);
  const inputs = positions.map((j) => chunk.inputs[j] as Uint8Array);
  const outputs = positions.map((j) => chunk.outputs[j] as Uint8Array);
  const honest: Case = {
    K,
    context,
    positions,
    inputs,
    outputs,
    proof: proveHop(key, context, positions, inputs, { ...backend, nonceRandomness: a }),
  };
  const verify = (c: Case): HopProofVerdict =>
    verifyHop(c.K, c.context, c.positions, c.inputs, c.outputs, c.proof, backend);
  const { signs, proof } = honest.proof;

  test('the honest proof verifies', () => {
    expect(signs).toHaveLength(3); // 20 sign bits: the last byte uses 4
    expect(verify(honest)).toEqual({ ok: true });
  });

  const other = fixedKey(0x43);
  const cases: [string, () => Case, HopProofVerdict][] = [
    // 1. the prover's bytes
    ['signs one byte short', () => ({ ...honest, proof: { proof, signs: signs.subarray(0, 2) } }), MALFORMED()],
    ['signs one byte long', () => ({ ...honest, proof: { proof, signs: Uint8Array.of(...signs, 0) } }), MALFORMED()],
    [
      'a padding bit of signs set',
      () => ({
        ...honest,
        proof: { proof, signs: Uint8Array.from(replace([...signs], 2, (signs[2] as number) | 0x80)) },
      }),
      MALFORMED(),
    ],
    ['a 63-byte proof', () => withProof(proof.subarray(0, 63), honest), MALFORMED()],
    ['a 65-byte proof', () => withProof(Uint8Array.of(...proof, 0), honest), MALFORMED()],
    ['c = L', () => withProof(Uint8Array.of(...numberToBytesLE(L), ...proof.subarray(32)), honest), MALFORMED()],
    [
      'c = 2^256 − 1',
      () => withProof(Uint8Array.of(...new Uint8Array(32).fill(255), ...proof.subarray(32)), honest),
      MALFORMED(),
    ],
    ['z = L', () => withProof(Uint8Array.of(...proof.subarray(0, 32), ...numberToBytesLE(L)), honest), MALFORMED()],
    [
      'z + L in place of z (the same residue, not canonical)',
      () =>
        withProof(Uint8Array.of(...proof.subarray(0, 32), ...numberToBytesLE(leOf(proof.subarray(32)) + L)), honest),
      MALFORMED(),
    ],
    // 2. the inputs
    ['input 5 a twist point', () => ({ ...honest, inputs: replace(inputs, 5, twistTag()) }), inputFault(5)],
    [
      'input 5 is 1/u (u of P + T₂)',
      () => ({ ...honest, inputs: replace(inputs, 5, inverseTag(inputs[5] as Uint8Array)) }),
      inputFault(5),
    ],
    [
      'input 5 has an order-4 component',
      () => ({ ...honest, inputs: replace(inputs, 5, torsionTag(4)) }),
      inputFault(5),
    ],
    // 3. the outputs
    [
      'output 7 is 1/u (u of Q + T₂)',
      () => ({ ...honest, outputs: replace(outputs, 7, inverseTag(outputs[7] as Uint8Array)) }),
      outputFault(7),
    ],
    ['output 7 a twist point', () => ({ ...honest, outputs: replace(outputs, 7, twistTag()) }), outputFault(7)],
    [
      'output 7 a random curve point with a torsion component',
      () => ({ ...honest, outputs: replace(outputs, 7, torsionTag(8)) }),
      outputFault(7),
    ],
    [
      'output 7 the non-canonical p − 1 + p',
      () => ({ ...honest, outputs: replace(outputs, 7, new Uint8Array(32).fill(0xff)) }),
      outputFault(7),
    ],
    // the order of the faults: malformed, then inputs, then outputs, each the first in order
    [
      'an output fault at 2 and input faults at 9 and 11',
      () => ({
        ...honest,
        inputs: replace(replace(inputs, 9, twistTag()), 11, twistTag()),
        outputs: replace(outputs, 2, twistTag()),
      }),
      inputFault(9),
    ],
    [
      'a malformed proof and an input fault',
      () => withProof(proof.subarray(1), { ...honest, inputs: replace(inputs, 0, twistTag()) }),
      MALFORMED(),
    ],
    // 4. the equations
    [
      'sign bit 0 flipped (−Q₀, still in G)',
      () => ({ ...honest, proof: { proof, signs: Uint8Array.from(replace([...signs], 0, (signs[0] as number) ^ 1)) } }),
      INVALID(),
    ],
    [
      'output 7 a random point of G',
      () => ({ ...honest, outputs: replace(outputs, 7, uOf(randomPointOfG().toBytes())) }),
      INVALID(),
    ],
    ['the identity hop (every output = its input)', () => ({ ...honest, outputs: inputs }), INVALID()],
    [
      'two outputs swapped',
      () => ({
        ...honest,
        outputs: replace(replace(outputs, 0, outputs[1] as Uint8Array), 1, outputs[0] as Uint8Array),
      }),
      INVALID(),
    ],
    [
      'a proof for other positions',
      () => {
        const elsewhere = provenPositions(
          challengeSeed(context.sessionId, [new Uint8Array(32).fill(8)]),
          context.digest,
          200,
          'spot',
        ).slice(0, LENGTH);
        const far = honestChunk(key, 200);
        const moved = proveHop(
          key,
          context,
          elsewhere,
          elsewhere.map((j) => far.inputs[j] as Uint8Array),
          backend,
        );
        return { ...honest, proof: moved };
      },
      INVALID(),
    ],
    [
      'the same positions in another order',
      () => ({ ...honest, positions: [positions[1], positions[0], ...positions.slice(2)] as number[] }),
      INVALID(),
    ],
    [
      'another session id',
      () => ({ ...honest, context: { ...context, sessionId: new Uint8Array(16).fill(0x5f) } }),
      INVALID(),
    ],
    [
      'another chunk digest',
      () => ({ ...honest, context: { ...context, digest: new Uint8Array(32).fill(0xd2) } }),
      INVALID(),
    ],
    ["another key's K", () => ({ ...honest, K: keyCommitment(other, backend) }), INVALID()],
    [
      "another key's proof of its own honest outputs",
      () => {
        const outputsOfOther = inputs.map((u) => blind(other, u, backend));
        return { ...honest, outputs: outputsOfOther, proof: proveHop(other, context, positions, inputs, backend) };
      },
      INVALID(),
    ],
    ['K + T₂ (not in G)', () => ({ ...honest, K: Point.fromBytes(K).add(T2).toBytes() }), INVALID()],
  ];

  test.each(cases)('%s', (_what, make, verdict) => {
    expect(verify(make())).toEqual(verdict);
  });

  test('the clamped key 5L − 1: K = −B, refused at join, and its identity hop would verify against it', () => {
    const identityKey = BlindingKey.fromBytes(numberToBytesLE(5n * L - 1n));
    const Kminus = keyCommitment(identityKey, backend);
    expect(hex(Kminus)).toBe(hex(NEGATED_BASE_POINT));
    expect(keyCommitmentProblem(Kminus, backend)).toBe('negated_base_point');
    expect(inputs.map((u) => hex(blind(identityKey, u, backend)))).toEqual(inputs.map(hex)); // outputs = inputs
    const identityProof = proveHop(identityKey, context, positions, inputs, backend);
    expect(verifyHop(Kminus, context, positions, inputs, inputs, identityProof, backend)).toEqual({ ok: true });
  });

  test('a cofactored verifier accepts a hop that sends every u to 1/u; verifyHop does not', () => {
    const s = refScalar(key.exposeSecret());
    const honestSigns = refOutputs(s, inputs).signs;
    // u → 1/u is Q → Q + T₂ = (−x, −y): the output flips, and so does each sign bit
    const nullified = outputs.map(inverseTag);
    const flipped = Uint8Array.from(honestSigns, (byte, i) => byte ^ (i < 2 ? 0xff : 0x0f));
    for (let i = 0; i < LENGTH; i++) {
      const q = Point.fromBytes(refLift(outputs[i] as Uint8Array, ((honestSigns[i >> 3] as number) >> (i & 7)) & 1));
      const attacked = Point.fromBytes(
        refLift(nullified[i] as Uint8Array, ((flipped[i >> 3] as number) >> (i & 7)) & 1),
      );
      expect(attacked.equals(q.add(T2))).toBe(true);
      expect(attacked.multiplyUnsafe(8n).equals(q.multiplyUnsafe(8n))).toBe(true); // 8Q' = 8[s]P
    }
    const statement = { K, ...context, positions, inputs };
    const attack = { signs: flipped, proof: refProve(s, statement, nullified, flipped, a, true) };
    expect(cofactoredVerify(statement, nullified, attack)).toBe(true);
    expect(verifyHop(K, context, positions, inputs, nullified, attack, backend)).toEqual(outputFault(0));
    // and the honest proof is what the cofactored verifier is not even needed for
    expect(verifyHop(K, context, positions, inputs, outputs, honest.proof, backend)).toEqual({ ok: true });
  });
});

test("libsodium's own point check accepts P + T₂, which is why the native backend checks [L]P itself", () => {
  const sodium = createRequire(import.meta.url)('sodium-native') as {
    crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  };
  const tainted = randomPointOfG().add(T2).toBytes();
  expect(sodium.crypto_core_ed25519_is_valid_point(tainted)).toBe(true);
  for (const [, backend] of BACKENDS) expect(backend.isPointOfG(tainted)).toBe(false);
});

function leOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${hex(Uint8Array.from(bytes).reverse())}`);
}
function MALFORMED(): HopProofVerdict {
  return { ok: false, fault: 'malformed' };
}
function INVALID(): HopProofVerdict {
  return { ok: false, fault: 'invalid' };
}
function inputFault(index: number): HopProofVerdict {
  return { ok: false, fault: 'input_not_in_group', index };
}
function outputFault(index: number): HopProofVerdict {
  return { ok: false, fault: 'output_not_in_group', index };
}
