import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { formatRevealPolicy, ProtocolError, parseRevealPolicy, parseRevealPolicyText } from '../src/index.js';

describe('reveal policy', () => {
  test.each([
    [{ kind: 'labs' }, 'labs'],
    [{ kind: 'count' }, 'count'],
    [{ kind: 'threshold', t: 2 }, 'threshold:2'],
    [{ kind: 'threshold', t: 7 }, 'threshold:7'],
  ])('accepts %j', (input, text) => {
    expect(formatRevealPolicy(parseRevealPolicy(input))).toBe(text);
  });

  test.each([
    ['threshold below 2', { kind: 'threshold', t: 1 }, ['t']],
    ['fractional threshold', { kind: 'threshold', t: 2.5 }, ['t']],
    ['threshold without t', { kind: 'threshold' }, ['t']],
    ['unknown kind', { kind: 'everything' }, ['kind']],
    ['extra field', { kind: 'labs', t: 3 }, []],
    ['not an object', 'labs', []],
  ])('rejects %s with INVALID_MESSAGE and the path of the problem', (_label, input, path) => {
    try {
      parseRevealPolicy(input);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      const e = error as ProtocolError;
      expect(e.code).toBe('INVALID_MESSAGE');
      expect(e.issues.length).toBeGreaterThan(0);
      expect(e.issues[0]?.path).toEqual(path);
    }
  });

  test.prop([fc.integer({ min: 2, max: 1024 })])('every threshold from 2 round-trips', (t) => {
    expect(parseRevealPolicy({ kind: 'threshold', t })).toEqual({ kind: 'threshold', t });
  });
});

describe('parseRevealPolicyText', () => {
  test.each([
    ['labs', { kind: 'labs' }],
    ['count', { kind: 'count' }],
    ['threshold:2', { kind: 'threshold', t: 2 }],
    ['threshold:17', { kind: 'threshold', t: 17 }],
  ])('%s', (text, policy) => {
    expect(parseRevealPolicyText(text)).toEqual(policy);
    expect(formatRevealPolicy(parseRevealPolicyText(text))).toBe(text);
  });
  test.each(['', 'Labs', 'threshold', 'threshold:1', 'threshold:0', 'threshold:02', 'threshold:x', 'count '])(
    '%j is refused',
    (text) => {
      expect(() => parseRevealPolicyText(text)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    },
  );
});

test('a threshold policy is at most 1024 (a proposal also caps it at its number of labs)', () => {
  expect(parseRevealPolicy({ kind: 'threshold', t: 1024 })).toEqual({ kind: 'threshold', t: 1024 });
  expect(() => parseRevealPolicy({ kind: 'threshold', t: 1025 })).toThrow();
});
