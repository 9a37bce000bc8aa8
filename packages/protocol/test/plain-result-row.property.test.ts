/**
 * plainResultRow (the hand-written check of a result row) against resultRowSchema, the reference:
 * whatever the hand check accepts, the schema accepts with the same fields; and it accepts every
 * well-formed row, so the fast path is the one taken.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { resultRowSchema } from '../src/session/messages.js';
import { plainResultRow } from '../src/session/plain-result-row.js';

const keyId = fc.stringMatching(/^[0-9a-f]{32}$/);
const wellFormed = fc.record(
  { position: fc.nat(), labs: fc.array(keyId, { maxLength: 4 }), count: fc.integer({ min: 1, max: 64 }) },
  { requiredKeys: ['position'] },
);
// Near misses: each field of the wrong type or range, an extra field, odd objects.
const nearMiss = fc.oneof(
  fc.record(
    {
      position: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(-0), fc.bigInt(), fc.constant(undefined)),
      labs: fc.oneof(fc.array(fc.oneof(keyId, fc.string(), fc.integer())), fc.string(), fc.constant(undefined)),
      count: fc.oneof(fc.integer(), fc.double(), fc.constant(0), fc.constant(undefined), fc.constant(2 ** 53)),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
  fc.constant(Object.assign(Object.create({ position: 1 }), {})),
  fc.constant(new Map([['position', 1]])),
  fc.constant([1]),
);

describe('plainResultRow, held to resultRowSchema', () => {
  test.prop([fc.oneof(wellFormed, nearMiss)], { numRuns: 3000 })('never accepts what the schema refuses', (item) => {
    const fast = plainResultRow(item);
    if (fast === undefined) return;
    const parsed = resultRowSchema.safeParse(item);
    expect(parsed.success).toBe(true);
    expect(fast).toEqual(parsed.data);
  });

  test.prop([wellFormed], { numRuns: 500 })('accepts every well-formed row', (row) => {
    expect(plainResultRow(row)).toEqual(resultRowSchema.parse(row));
  });

  test('odd objects: a JSON __proto__ key, a sparse list, getters, proxies, a polluted prototype', () => {
    const id = 'b'.repeat(32);
    let reads = 0;
    const changing = {
      position: 1,
      get labs() {
        reads++;
        return reads === 1 ? [id] : ['not a key id'];
      },
    };
    const odd: unknown[] = [
      JSON.parse(`{"position": 1, "__proto__": {"labs": ["${id}"]}}`),
      // biome-ignore lint/suspicious/noSparseArray: a hole in the list, read as undefined
      { position: 1, labs: [id, , id] },
      { position: 1, labs: new Proxy([id], {}) },
      new Proxy({ position: 1, labs: [id] }, {}),
    ];
    for (const item of odd) {
      const fast = plainResultRow(item);
      if (fast === undefined) continue;
      expect(fast).toEqual(resultRowSchema.parse(item));
    }
    // A getter that answers differently each time (no schema to compare with): it is read once,
    // and what was checked is what is kept.
    expect(plainResultRow(changing)).toEqual({ position: 1, labs: [id] });
    expect(reads).toBe(1);
    // A polluted Object.prototype: its `labs` is not the row's, for the schema as for the hand check.
    Object.defineProperty(Object.prototype, 'labs', { value: [id], configurable: true, enumerable: false });
    try {
      const item = { position: 2 };
      const fast = plainResultRow(item);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(resultRowSchema.parse(item)));
      expect(JSON.stringify(fast)).toBe('{"position":2}');
    } finally {
      delete (Object.prototype as { labs?: unknown }).labs;
    }
    Object.defineProperty(Object.prototype, 'position', { value: 3, configurable: true, enumerable: false });
    try {
      // Not an own field: left to the schema, whatever it makes of it.
      expect(plainResultRow({})).toBeUndefined();
    } finally {
      delete (Object.prototype as { position?: unknown }).position;
    }
  });

  test('refuses, for the schema to explain: unknown fields, wrong types, non-plain objects', () => {
    const id = 'a'.repeat(32);
    for (const item of [
      { position: 1, extra: 1 },
      { position: -1 },
      { position: 1.5 },
      { position: '1' },
      { position: 1, labs: [id.toUpperCase()] },
      { position: 1, labs: id },
      { position: 1, count: 0 },
      { position: 1, labs: undefined },
      new Map([['position', 1]]),
      Object.create({ position: 1 }),
      null,
      [0],
    ]) {
      expect(plainResultRow(item)).toBeUndefined();
    }
  });
});
