/**
 * Deterministic CBOR: round trips, the RFC 8949 §4.2.1 rules, and the hostile-decoder table
 * (the sigstore-js malformed.test.ts idea): every kind of non-canonical or oversized input is
 * refused with BAD_ENCODING and the offset, never decoded leniently.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type CborValue, decodeDeterministic, encodeDeterministic } from '../src/cbor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 6 }),
  ),
})).v;

describe('deterministic CBOR', () => {
  test.prop([value], { numRuns: 300 })('decode(encode(v)) = v, and encoding is a function of the value', (v) => {
    const bytes = encodeDeterministic(v);
    expect(decodeDeterministic(bytes)).toEqual(v);
    expect(hex(encodeDeterministic(decodeDeterministic(bytes)))).toBe(hex(bytes));
  });

  test.each([
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65536, '1a00010000'],
    [2 ** 32, '1b0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-25, '3818'],
    ['a', '6161'],
    [true, 'f5'],
    [null, 'f6'],
  ] as [CborValue, string][])('%j encodes as %s (shortest form)', (v, expected) => {
    expect(hex(encodeDeterministic(v))).toBe(expected);
  });

  test('objects whose key lists join alike are still told apart (the encoder caches key orders)', () => {
    for (const v of [{}, { '': 0 }, { 'a\u0000': 1, b: 2 }, { a: 1, '\u0000b': 2 }, { '0': 1, '10': 2, '9': 3 }]) {
      expect(decodeDeterministic(encodeDeterministic(v))).toEqual(v);
    }
  });

  test('map keys are sorted by their encoded bytes: shorter keys first, then bytewise', () => {
    expect(hex(encodeDeterministic({ bb: 1, a: 2, c: 3, aa: 4 }))).toBe(
      'a4 6161 02 6163 03 626161 04 626262 01'.replace(/ /g, ''),
    );
  });

  test.each([[1.5], [Number.NaN], [2 ** 53], [{ x: undefined }]])('%j cannot be encoded (UNENCODABLE)', (v) => {
    expect(() => encodeDeterministic(v as CborValue)).toThrow(expect.objectContaining({ code: 'UNENCODABLE' }));
  });
});

describe('hostile decoder inputs', () => {
  test.each([
    ['trailing bytes', 'a0 00'],
    ['an indefinite-length byte string', '5f 41 01 ff'],
    ['an indefinite-length map', 'bf 61 61 01 ff'],
    ['a non-shortest integer', '18 17'],
    ['a non-shortest length', '59 0001 41'],
    ['unsorted map keys', 'a2 6162 01 6161 02'],
    ['a duplicate map key', 'a2 6161 01 6161 02'],
    ['a non-text map key', 'a1 01 02'],
    ['a tag', 'c2 41 01'],
    ['a float', 'fb 3ff8000000000000'],
    ['undefined', 'f7'],
    ['a simple value', 'f8 20'],
    ['an integer beyond 2^53', '1b 0020000000000000'],
    ['a negative integer below -(2^53 - 1)', '3b 001fffffffffffff'],
    ['invalid UTF-8 in a text string', '62 c328'],
    ['a string running past the end', '65 6161'],
    ['a truncated head', '1a 0001'],
    ['an empty input', ''],
    ['a reserved additional-information value', '1c'],
  ])('%s is BAD_ENCODING', (_label, bytes) => {
    expect(() => decodeDeterministic(unhex(bytes))).toThrow(expect.objectContaining({ code: 'BAD_ENCODING' }));
  });

  test('nesting deeper than the limit is refused before any recursion gets deep', () => {
    expect(decodeDeterministic(unhex(`${'81'.repeat(15)}00`))).toBeDefined(); // 16 levels
    expect(() => decodeDeterministic(unhex(`${'81'.repeat(16)}00`))).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING' }),
    );
    const deep = unhex(`${'81'.repeat(10_000)}00`);
    expect(() => decodeDeterministic(deep)).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', message: expect.stringContaining('nesting') }),
    );
  });

  test('claimed sizes over the limits are refused without allocating them', () => {
    const limits = { maxDepth: 4, maxByteStringLength: 16, maxTextLength: 16, maxArrayLength: 4, maxMapSize: 2 };
    expect(() => decodeDeterministic(unhex('5a ffffffff'), limits)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('longer than 16') }),
    );
    expect(() => decodeDeterministic(unhex('9a ffffffff'), limits)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('array longer') }),
    );
    expect(() => decodeDeterministic(unhex('a3 6161 01 6162 01 6163 01'), limits)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('more than 2') }),
    );
  });

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 500 })(
    'arbitrary bytes decode to a value or a typed error',
    (bytes) => {
      try {
        const v = decodeDeterministic(bytes);
        expect(hex(encodeDeterministic(v))).toBe(hex(bytes));
      } catch (error) {
        expect(error).toMatchObject({ name: 'ProtocolError', code: 'BAD_ENCODING' });
      }
    },
  );

  // The decoder no longer re-encodes at run time (a 2 MB chunk paid for it twice): the scan alone
  // must admit only canonical encodings. Mutations of valid encodings probe its edges.
  test.prop(
    [
      value,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
        minLength: 1,
        maxLength: 3,
      }),
    ],
    { numRuns: 2000 },
  )('whatever the scan admits re-encodes to exactly the same bytes', (v, edits) => {
    const bytes = [...encodeDeterministic(v)];
    for (const [at, byte, op] of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'set' && i < bytes.length) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else if (op === 'delete' && i < bytes.length) bytes.splice(i, 1);
    }
    const mutated = Uint8Array.from(bytes);
    let decoded: ReturnType<typeof decodeDeterministic>;
    try {
      decoded = decodeDeterministic(mutated);
    } catch (error) {
      expect(error).toMatchObject({ name: 'ProtocolError', code: 'BAD_ENCODING' });
      return;
    }
    expect(hex(encodeDeterministic(decoded))).toBe(hex(mutated));
  });

  test('the map key __proto__ is refused (a JavaScript object cannot hold it faithfully)', () => {
    const key = [...new TextEncoder().encode('__proto__')];
    expect(() => decodeDeterministic(Uint8Array.from([0xa1, 0x69, ...key, 0x01]))).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', message: expect.stringContaining('__proto__') }),
    );
  });
});
