/**
 * The transcript as wire/transcript.ts declares it (spec/relay-api.md §3): any well-formed
 * transcript survives an encode/decode round trip byte for byte, and decoding is strict — an
 * unknown field at any depth, a missing one, or a byte string of the wrong length is
 * INVALID_MESSAGE naming its path; bytes that are not deterministic CBOR are BAD_ENCODING.
 */
import { fc, test as property } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import {
  decodeTranscript,
  encodeDeterministic,
  encodeTranscript,
  ProtocolError,
  type Transcript,
} from '../src/index.js';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const uint = fc.nat({ max: 2 ** 40 });
const entry = fc.record({
  index: uint,
  envelope: fc.uint8Array({ maxLength: 64 }),
  receipt: fc.record({ index: uint, proof: fc.array(bytes(32), { maxLength: 4 }), checkpoint: fc.string() }),
});
const transcript: fc.Arbitrary<Transcript> = fc.record({
  version: fc.constant(1 as const),
  relay: fc.record({
    origin: fc.string({ minLength: 1 }),
    log_key: bytes(32),
    relay_key_id: fc.stringMatching(/^[0-9a-f]{32}$/),
    admin_key: bytes(32),
  }),
  session: bytes(16),
  membership: fc.array(entry, { maxLength: 3 }),
  envelopes: fc.array(entry, { maxLength: 3 }),
  checkpoints: fc.array(fc.record({ size: uint, note: fc.string() }), { maxLength: 3 }),
  consistency: fc.array(fc.record({ from: uint, to: uint, proof: fc.array(bytes(32), { maxLength: 3 }) }), {
    maxLength: 3,
  }),
});

function failure(run: () => unknown): { code: string; paths: string[] } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { code: error.code, paths: error.issues.map((i) => i.path.join('.')) };
  }
  throw new Error('decoded');
}

property.prop([transcript])('encode then decode gives the transcript back, and the same bytes again', (t) => {
  const encoded = encodeTranscript(t);
  const decoded = decodeTranscript(encoded);
  expect(decoded).toEqual(t);
  expect(Buffer.from(encodeTranscript(decoded)).equals(Buffer.from(encoded))).toBe(true);
});

describe('decoding is strict', () => {
  const sample = fc.sample(transcript, { numRuns: 1, seed: 7 })[0] as Transcript;
  const base = (): Record<string, unknown> => ({
    ...structuredClone(sample),
    envelopes: [{ index: 3, envelope: Uint8Array.of(1), receipt: { index: 3, proof: [], checkpoint: 'c' } }],
  });
  const cases: [string, (t: Record<string, unknown>) => void, string][] = [
    ['an unknown field at the root', (t) => Object.assign(t, { extra: 1 }), ''],
    ['an unknown field in relay', (t) => Object.assign(t.relay as object, { vkey: 'v' }), 'relay'],
    [
      'an unknown field in an entry',
      (t) => Object.assign((t.envelopes as object[])[0] as object, { x: 0 }),
      'envelopes.0',
    ],
    [
      'an unknown field in a receipt',
      (t) => Object.assign(((t.envelopes as { receipt: object }[])[0] as { receipt: object }).receipt, { x: 0 }),
      'envelopes.0.receipt',
    ],
    ['a missing field', (t) => delete t.consistency, 'consistency'],
    ['another version', (t) => Object.assign(t, { version: 2 }), 'version'],
    [
      'a log key of 31 bytes',
      (t) => Object.assign(t.relay as object, { log_key: new Uint8Array(31) }),
      'relay.log_key',
    ],
    ['a session id of 32 bytes', (t) => Object.assign(t, { session: new Uint8Array(32) }), 'session'],
    [
      'a negative index',
      (t) => Object.assign((t.envelopes as object[])[0] as object, { index: -1 }),
      'envelopes.0.index',
    ],
    [
      'an envelope as text',
      (t) => Object.assign((t.envelopes as object[])[0] as object, { envelope: 'x' }),
      'envelopes.0.envelope',
    ],
  ];
  test.each(cases)('%s is INVALID_MESSAGE at its path', (_label, change, path) => {
    const t = base();
    change(t);
    const { code, paths } = failure(() => decodeTranscript(encodeDeterministic(t as never)));
    expect(code).toBe('INVALID_MESSAGE');
    expect(paths).toContain(path);
  });

  test('every wrong field is reported, not only the first', () => {
    const t = base();
    Object.assign(t, { version: 2, session: 'x' });
    expect(failure(() => decodeTranscript(encodeDeterministic(t as never))).paths).toEqual(
      expect.arrayContaining(['version', 'session']),
    );
  });

  test('bytes that are not deterministic CBOR are BAD_ENCODING', () => {
    const encoded = encodeTranscript(sample);
    expect(failure(() => decodeTranscript(encoded.subarray(0, encoded.length - 1))).code).toBe('BAD_ENCODING');
    expect(failure(() => decodeTranscript(new TextEncoder().encode('{"version":1}'))).code).toBe('BAD_ENCODING');
  });
});
