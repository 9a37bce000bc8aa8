import { describe, expect, test } from 'vitest';
import { hopLab, lastHopOwner } from '../src/index.js';

describe('hop schedule', () => {
  test.each([2, 3, 4, 5, 8])(
    '%i labs: owner first, every key once per set, each lab last hop of exactly one set',
    (n) => {
      const lastHops: number[] = [];
      for (let owner = 0; owner < n; owner++) {
        const hops = Array.from({ length: n }, (_, hop) => hopLab(owner, hop, n));
        expect(hops[0]).toBe(owner);
        expect(new Set(hops).size).toBe(n);
        const last = hops[n - 1] as number;
        lastHops.push(last);
        expect(lastHopOwner(last, n)).toBe(owner);
      }
      expect(new Set(lastHops).size).toBe(n);
    },
  );

  test('a hop outside the session is an error', () => {
    expect(() => hopLab(0, 3, 3)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });
});
