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

test('a shuffle longer than one buffer of random words is still a permutation', () => {
  const values = Array.from({ length: 5_000 }, (_, i) => i);
  expect(shuffleInPlace(values.slice()).sort((a, b) => a - b)).toEqual(values);
});

/**
 * Every permutation of 4 values equally likely: 24,000 shuffles, Pearson's chi-square over the 24
 * orders (23 degrees of freedom; 49.7 is the 0.999 quantile, so an unbiased shuffle fails about once
 * in a thousand runs, and one that favours any order by a tenth fails nearly always).
 */
test('every order of 4 values is equally likely', () => {
  const runs = 24_000;
  const seen = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const order = shuffleInPlace([0, 1, 2, 3]).join('');
    seen.set(order, (seen.get(order) ?? 0) + 1);
  }
  expect(seen.size).toBe(24);
  const expected = runs / 24;
  const chiSquare = [...seen.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
  expect(chiSquare).toBeLessThan(49.7);
});
