import { fc, test } from '@fast-check/vitest';
import { generateSigningKeyPair, keyId, sha256, sign } from '@overlap/crypto';
import { describe, expect } from 'vitest';
import {
  checkChain,
  decodeDeterministic,
  encodeDeterministic,
  type OpenedEnvelope,
  openEnvelope,
  ProtocolError,
  sealEnvelope,
} from '../src/index.js';

const lab = generateSigningKeyPair();
const other = generateSigningKeyPair();
const signer = { keyId: keyId(lab.publicKey), secretKey: lab.secretKey };
const keys = new Map([
  [keyId(lab.publicKey), lab.publicKey],
  [keyId(other.publicKey), other.publicKey],
]);
const publicKeyOf = (id: string) => keys.get(id);
const session = new Uint8Array(16).fill(7);
const base = { type: 'join' as const, session, created: 1_798_761_600_000, payload: { sizes: { email: 1000 } } };

describe('envelopes', () => {
  test('seal then open gives the header, the payload and the same hash', () => {
    const sealed = sealEnvelope({ ...base, seq: 0 }, signer);
    const opened = openEnvelope(sealed.bytes, publicKeyOf);
    expect(opened.header).toEqual(sealed.header);
    expect(opened.payload).toEqual({ sizes: { email: 1000 } });
    expect(opened.hash).toEqual(sha256(sealed.bytes));
    expect(opened.header).toMatchObject({
      v: 1,
      type: 'join',
      sender: signer.keyId,
      seq: 0,
      len: encodeDeterministic(base.payload).length,
    });
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 200 })(
    'any changed byte is refused with a typed error',
    (at, delta) => {
      const { bytes } = sealEnvelope({ ...base, seq: 0 }, signer);
      const changed = Uint8Array.from(bytes);
      const i = at % changed.length;
      changed[i] = ((changed[i] as number) + delta) & 0xff;
      expect(() => openEnvelope(changed, publicKeyOf)).toThrow(ProtocolError);
    },
  );

  test('an unknown sender, or a signature by another key, is BAD_ENVELOPE', () => {
    const { bytes } = sealEnvelope({ ...base, seq: 0 }, signer);
    expect(() => openEnvelope(bytes, () => undefined)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' }));
    expect(() => openEnvelope(bytes, () => other.publicKey)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' }));
  });

  test('a malformed enrolled key is BAD_ENVELOPE, not a crypto error', () => {
    const { bytes } = sealEnvelope({ ...base, seq: 0 }, signer);
    expect(() => openEnvelope(bytes, () => new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'BAD_ENVELOPE' }),
    );
  });

  test('the signature covers the domain-separated header: a signature over the bare header fails', () => {
    const { bytes } = sealEnvelope({ ...base, seq: 0 }, signer);
    const outer = decodeDeterministic(bytes) as { h: Uint8Array; p: Uint8Array; s: Uint8Array };
    const bare = encodeDeterministic({ ...outer, s: sign(lab.secretKey, outer.h) });
    expect(() => openEnvelope(bare, publicKeyOf)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' }));
  });

  test('a payload swapped under a validly signed header is BAD_ENVELOPE', () => {
    const { bytes } = sealEnvelope({ ...base, seq: 0 }, signer);
    const outer = decodeDeterministic(bytes) as { h: Uint8Array; p: Uint8Array; s: Uint8Array };
    const swapped = encodeDeterministic({ ...outer, p: encodeDeterministic({ sizes: { email: 1001 } }) });
    expect(() => openEnvelope(swapped, publicKeyOf)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' }));
  });

  test('a header with an unknown field or a wrong type is INVALID_MESSAGE with every path', () => {
    expect(() => sealEnvelope({ ...base, type: 'gossip' as never, seq: -1 }, signer)).toThrow(
      expect.objectContaining({
        code: 'INVALID_MESSAGE',
        issues: expect.arrayContaining([
          expect.objectContaining({ path: ['type'] }),
          expect.objectContaining({ path: ['seq'] }),
        ]),
      }),
    );
    expect(() => sealEnvelope({ ...base, session: new Uint8Array(15), seq: 0 }, signer)).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});

describe('sender chains', () => {
  const chain = (n: number): OpenedEnvelope[] => {
    const out: OpenedEnvelope[] = [];
    for (let seq = 0; seq < n; seq++) {
      const prev = out[seq - 1]?.hash;
      out.push(sealEnvelope({ ...base, type: 'tag_chunk', seq, ...(prev && { prev }), payload: { n: seq } }, signer));
    }
    return out;
  };

  test('a chain in order is accepted', () => {
    let state: ReturnType<typeof checkChain> | undefined;
    for (const envelope of chain(4)) state = checkChain(state, openEnvelope(envelope.bytes, publicKeyOf));
    expect(state?.seq).toBe(3);
  });

  test('a gap, a replay, a reordering and a fork are all BAD_ENVELOPE', () => {
    const [e0, e1, e2] = chain(3) as [OpenedEnvelope, OpenedEnvelope, OpenedEnvelope];
    const s0 = checkChain(undefined, e0);
    expect(() => checkChain(s0, e2)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' })); // gap
    const s1 = checkChain(s0, e1);
    expect(() => checkChain(s1, e1)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' })); // replay
    expect(() => checkChain(undefined, e1)).toThrow(expect.objectContaining({ code: 'BAD_ENVELOPE' })); // out of order
    const fork = sealEnvelope(
      { ...base, type: 'tag_chunk', seq: 1, prev: sha256(Uint8Array.of(9)), payload: { n: 1 } },
      signer,
    );
    expect(() => checkChain(s0, fork)).toThrow(
      expect.objectContaining({ code: 'BAD_ENVELOPE', message: expect.stringContaining('does not follow') }),
    );
  });

  test('seq 0 must not claim a previous envelope', () => {
    expect(() => sealEnvelope({ ...base, seq: 0, prev: sha256(Uint8Array.of(1)) }, signer)).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});
