/** A lab's secret order: distinct values (checked against a Set), then a permutation of them. */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { distinct, shuffleInPlace } from '../src/session/order.js';

test.prop([fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 })])('distinct keeps each value once', (values) => {
  const before = values.slice();
  expect(distinct(values)).toEqual([...new Set(values)].sort());
  expect(values).toEqual(before); // the input is not touched
});

test.prop([fc.uniqueArray(fc.integer(), { maxLength: 200 })])('the shuffle is a permutation', (values) => {
  const shuffled = shuffleInPlace(values.slice());
  expect([...shuffled].sort((a, b) => a - b)).toEqual([...values].sort((a, b) => a - b));
});
