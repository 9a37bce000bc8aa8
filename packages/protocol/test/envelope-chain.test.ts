/**
 * EnvelopeChain (spec/protocol.md §3): what it seals, a receiver's checkChain accepts in order, and
 * refuses out of order; a chain resumed from its last state continues it; two envelopes sealed from
 * one state are a fork the receiver catches.
 */
import { generateSigningKeyPair, keyId, sha256 } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { type ChainState, checkChain, EnvelopeChain, openEnvelope } from '../src/index.js';

const lab = generateSigningKeyPair();
const signer = { keyId: keyId(lab.publicKey), secretKey: lab.secretKey };
const publicKeyOf = (id: string) => (id === signer.keyId ? lab.publicKey : undefined);
const session = new Uint8Array(16).fill(9);
const join = { sizes: { email: 3 } };

function receiveAll(envelopes: Uint8Array[], start?: ChainState): ChainState | undefined {
  let state = start;
  for (const bytes of envelopes) state = checkChain(state, openEnvelope(bytes, publicKeyOf));
  return state;
}

describe('EnvelopeChain', () => {
  test('seals seq 0, 1, 2 … each with prev = the hash of the one before', () => {
    const chain = new EnvelopeChain(session, signer);
    expect(chain.nextSeq).toBe(0);
    const sealed = [0, 1, 2].map((i) => chain.seal('join', join, 1_000 + i));
    expect(sealed.map((e) => e.header.seq)).toEqual([0, 1, 2]);
    expect(sealed[0]?.header.prev).toEqual(new Uint8Array(32));
    expect(sealed[1]?.header.prev).toEqual(sha256(sealed[0]?.bytes as Uint8Array));
    expect(sealed[2]?.header.prev).toEqual(sealed[1]?.hash);
    expect(chain.last).toEqual({ seq: 2, hash: sealed[2]?.hash });
    expect(receiveAll(sealed.map((e) => e.bytes))).toEqual({ seq: 2, hash: sealed[2]?.hash });
  });

  test('the receiver refuses the same envelopes out of order', () => {
    const chain = new EnvelopeChain(session, signer);
    const [a, b] = [chain.seal('join', join, 1), chain.seal('join', join, 2)];
    expect(() => receiveAll([b?.bytes as Uint8Array, a?.bytes as Uint8Array])).toThrow(
      expect.objectContaining({ code: 'BAD_ENVELOPE' }),
    );
  });

  test('a chain resumed from its last state continues it', () => {
    const first = new EnvelopeChain(session, signer);
    const a = first.seal('join', join, 1);
    const resumed = new EnvelopeChain(session, signer, first.last);
    const b = resumed.seal('join', join, 2);
    expect(b.header.seq).toBe(1);
    expect(receiveAll([a.bytes, b.bytes])?.seq).toBe(1);
  });

  test('two envelopes sealed from one state are a fork: the second is refused', () => {
    const base = new EnvelopeChain(session, signer);
    const a = base.seal('join', join, 1);
    const left = new EnvelopeChain(session, signer, base.last).seal('join', join, 2);
    const right = new EnvelopeChain(session, signer, base.last).seal('join', { sizes: { email: 4 } }, 2);
    const state = receiveAll([a.bytes, left.bytes]);
    expect(() => receiveAll([right.bytes], state)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' }));
  });
});
