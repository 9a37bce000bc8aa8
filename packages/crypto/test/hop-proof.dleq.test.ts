/**
 * The hop proof of spec/ciphersuite.md §10 made and checked on both backends: honest proofs verify
 * in spot and full mode, byte for byte what an independent reading of the spec computes (so the
 * two backends agree too); the nonce is hedged (fixed randomness reproduces a proof, fresh
 * randomness does not); the key and the caller's buffers are left as they were; and an input
 * outside G is refused with its index.
 */
import { describe, expect, test } from 'vitest';
import {
  BlindingKey,
  challengeSeed,
  type HopProofContext,
  keyCommitment,
  proveHop,
  provenPositions,
  verifyHop,
} from '../src/index.js';
import { BACKENDS, hex } from './backends.js';
import { honestChunk, torsionTag, twistTag } from './hop-proof-fixtures.js';
import { inverseTag, refOutputs, refProve, refScalar } from './hop-proof-reference.js';

const context: HopProofContext = { sessionId: new Uint8Array(16).fill(0x5e), digest: new Uint8Array(32).fill(0xd1) };
const sigma = challengeSeed(context.sessionId, [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
const fixedA = new Uint8Array(32).fill(0xaa);

describe.each(BACKENDS)('hop proofs on the %s backend', (name) => {
  const backend = { backend: name };
  const keyBytes = new Uint8Array(32).fill(0x42);
  const key = BlindingKey.fromBytes(keyBytes);
  const K = keyCommitment(key, backend);
  const s = refScalar(keyBytes);

  function check(length: number, mode: 'spot' | 'full') {
    const chunk = honestChunk(key, length, `${mode}-${length}`);
    const positions = provenPositions(sigma, context.digest, length, mode);
    const inputs = positions.map((j) => chunk.inputs[j] as Uint8Array);
    const outputs = positions.map((j) => chunk.outputs[j] as Uint8Array);
    const proof = proveHop(key, context, positions, inputs, { ...backend, nonceRandomness: fixedA });
    const reference = refOutputs(s, inputs);
    expect(outputs.map(hex)).toEqual(reference.outputs.map(hex)); // X25519 is [s] on the lifts
    expect(hex(proof.signs)).toBe(hex(reference.signs));
    const expected = refProve(s, { K, ...context, positions, inputs }, outputs, reference.signs, fixedA);
    expect(hex(proof.proof)).toBe(hex(expected));
    expect(verifyHop(K, context, positions, inputs, outputs, proof, backend)).toEqual({ ok: true });
    return positions;
  }

  test('a spot proof of a chunk longer than 135 covers 135 positions and verifies', () => {
    expect(check(300, 'spot')).toHaveLength(135);
  });

  test('a spot proof of a short chunk covers all of it, in drawing order, and verifies', () => {
    const positions = check(20, 'spot');
    expect([...positions].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  test('a full proof covers 0 … len − 1 and verifies', () => {
    expect(check(40, 'full')).toEqual([...Array(40).keys()]);
  });

  test('a proof of no positions (an empty chunk) verifies', () => {
    expect(check(0, 'spot')).toEqual([]);
  });

  test('the nonce is hedged: the same randomness gives the same proof, fresh randomness another', () => {
    const chunk = honestChunk(key, 10);
    const positions = [...Array(10).keys()];
    const prove = (options = {}) => proveHop(key, context, positions, chunk.inputs, { ...backend, ...options });
    const a = Uint8Array.from(fixedA);
    const first = prove({ nonceRandomness: a });
    expect(hex(prove({ nonceRandomness: a }).proof)).toBe(hex(first.proof));
    expect(hex(a)).toBe(hex(fixedA)); // the caller's randomness is not consumed or wiped
    const fresh = [prove(), prove()];
    expect(hex((fresh[0] as { proof: Uint8Array }).proof)).not.toBe(hex((fresh[1] as { proof: Uint8Array }).proof));
    for (const proof of [first, ...fresh]) {
      expect(hex(proof.signs)).toBe(hex(first.signs));
      expect(verifyHop(K, context, positions, chunk.inputs, chunk.outputs, proof, backend)).toEqual({ ok: true });
    }
    expect(hex(key.exposeSecret())).toBe(hex(keyBytes)); // the key itself is untouched
  });

  test.each([
    ['a twist point', twistTag],
    ['1/u of a hashed tag (u of P + T₂)', () => inverseTag(honestChunk(key, 1, 'inv').inputs[0] as Uint8Array)],
    ['a point with an order-8 component', () => torsionTag(8)],
    ['a non-canonical tag', () => new Uint8Array(32).fill(0xff)],
  ])('an input that is %s is refused with NOT_IN_GROUP and its index', (_why, bad) => {
    const chunk = honestChunk(key, 8);
    const inputs = chunk.inputs.map((u, i) => (i === 5 || i === 6 ? bad() : u));
    expect(() => proveHop(key, context, [...Array(8).keys()], inputs, backend)).toThrow(
      expect.objectContaining({ code: 'NOT_IN_GROUP', details: { index: 5 } }),
    );
  });

  test('arguments that are not a statement throw', () => {
    const chunk = honestChunk(key, 3);
    const positions = [0, 1, 2];
    const prove =
      (c: HopProofContext, p: number[], inputs: Uint8Array[], options = {}) =>
      () =>
        proveHop(key, c, p, inputs, { ...backend, ...options });
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(prove({ ...context, sessionId: new Uint8Array(15) }, positions, chunk.inputs)).toThrow(code('BAD_LENGTH'));
    expect(prove({ ...context, digest: new Uint8Array(31) }, positions, chunk.inputs)).toThrow(code('BAD_LENGTH'));
    expect(prove(context, [0, 1], chunk.inputs)).toThrow(code('BAD_INPUT'));
    expect(prove(context, [0, 1, -1], chunk.inputs)).toThrow(code('BAD_INPUT'));
    expect(prove(context, [0, 1, 2 ** 32], chunk.inputs)).toThrow(code('BAD_INPUT'));
    expect(prove(context, positions, chunk.inputs, { nonceRandomness: new Uint8Array(31) })).toThrow(
      code('BAD_LENGTH'),
    );
    expect(() =>
      verifyHop(
        K.subarray(1),
        context,
        positions,
        chunk.inputs,
        chunk.outputs,
        proveHop(key, context, positions, chunk.inputs, backend),
        backend,
      ),
    ).toThrow(code('BAD_LENGTH'));
    const gone = BlindingKey.generate();
    gone.dispose();
    expect(() => proveHop(gone, context, positions, chunk.inputs, backend)).toThrow(code('KEY_DISPOSED'));
  });
});
