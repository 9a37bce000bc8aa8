/**
 * Each part of an envelope is decoded within its own limits (spec/protocol.md §3.1): a payload
 * that holds more than its message type can (an array of 65 maps where at most 64 labs or coins
 * fit, a text or byte string longer than any of its fields) is refused as BAD_ENCODING before
 * anything is built, while every real message still opens, `result_rows` with thousands of rows
 * included. Envelopes sealed with the real sealing code, opened with the real opening code.
 */
import { generateLabKeys } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CBOR_LIMITS, encodeDeterministic } from '../src/cbor.js';
import { MESSAGE_TYPES, type MessageType, openEnvelope, sealEnvelope } from '../src/envelope.js';
import { PAYLOAD_CBOR_LIMITS } from '../src/payload-limits.js';
import { packTags } from '../src/session/tags.js';

const keys = generateLabKeys();
const signer = { keyId: keys.keyId, secretKey: keys.signing.secretKey };
const session = new Uint8Array(16).fill(7);
const keyOf = (id: string) => (id === keys.keyId ? keys.signing.publicKey : undefined);

function sealed(type: MessageType, payload: unknown): Uint8Array {
  return sealEnvelope({ type, session, seq: 0, created: 1, payload: payload as never }, signer).bytes;
}

describe('payload limits by message type', () => {
  test('every message type has limits, and only result_rows keeps the general ones', () => {
    expect(Object.keys(PAYLOAD_CBOR_LIMITS).sort()).toEqual([...MESSAGE_TYPES].sort());
    for (const type of MESSAGE_TYPES) {
      const limits = PAYLOAD_CBOR_LIMITS[type];
      if (type === 'result_rows') expect(limits).toEqual(DEFAULT_CBOR_LIMITS);
      else expect(limits.maxArrayLength).toBeLessThanOrEqual(64);
    }
  });

  test.each(MESSAGE_TYPES.filter((type) => type !== 'result_rows'))(
    '%s: an array of 65 maps is refused before any schema',
    (type) => {
      const bomb = sealed(type, { x: Array.from({ length: 65 }, () => ({})) });
      expect(() => openEnvelope(bomb, keyOf)).toThrow(/not deterministic CBOR at byte \d+: an array longer than 64/);
      // The same bytes under the general limits decode (and would go on to the schema).
      expect(openEnvelope(bomb, keyOf, DEFAULT_CBOR_LIMITS).payload).toMatchObject({ x: expect.any(Array) });
    },
  );

  test('a real full chunk opens; a byte string one tag longer than a chunk can hold does not', () => {
    // Any 32-byte tags: the limits are about the CBOR, not the points.
    const tags = packTags(Array.from({ length: 65_536 }, (_, i) => new Uint8Array(32).fill(i % 251)));
    const chunk = { kind: 'email', owner: keys.keyId, hop: 0, first: 0, tags };
    expect(openEnvelope(sealed('tag_chunk', chunk), keyOf).header.type).toBe('tag_chunk');
    const over = { ...chunk, tags: new Uint8Array(tags.length + 32) };
    expect(() => openEnvelope(sealed('tag_chunk', over), keyOf)).toThrow(/a byte string longer than 2097152/);
  });

  test('result_rows with 5,000 rows opens', () => {
    const rows = Array.from({ length: 5_000 }, (_, position) => ({ position, labs: [keys.keyId] }));
    const opened = openEnvelope(sealed('result_rows', { kind: 'email', lab: keys.keyId, rows }), keyOf);
    expect((opened.payload as { rows: unknown[] }).rows).toHaveLength(5_000);
  });

  test('an envelope itself is bounded: an array of 17 maps where {h, p, s} belongs is refused', () => {
    const outer = encodeDeterministic(Array.from({ length: 17 }, () => ({})));
    expect(() => openEnvelope(outer, keyOf)).toThrow(/an array longer than 16/);
  });
});
