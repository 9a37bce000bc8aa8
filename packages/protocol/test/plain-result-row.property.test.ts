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
