/**
 * canonicalDomain remembers the host names it mapped (a lab's addresses name few domains): the
 * remembered answer is the computed one, a refusal is never remembered (each call refuses, with
 * its message), and past the memo's size answers stay right. The reference is the kinds' own
 * examples (spec/indicators.md), asked again and again, with thousands of other names between.
 */
import { describe, expect, test } from 'vitest';
import { canonicalize, getIndicatorKind, IndicatorError } from '../src/index.js';

const { examples, counterExamples } = getIndicatorKind('domain');

function refusal(raw: string): string | undefined {
  try {
    canonicalize('domain', raw);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(IndicatorError);
    return `${(error as IndicatorError).code}: ${(error as Error).message}`;
  }
}

describe('the domain memo', () => {
  test('every example maps as written, first, again, and after 10,000 other names', () => {
    const ask = () => {
      for (const { raw, canonical } of examples) expect(canonicalize('domain', raw), raw).toBe(canonical);
      for (const { raw, code } of counterExamples) expect(refusal(raw), raw).toMatch(new RegExp(`^${code}: `));
    };
    ask();
    ask();
    for (let i = 0; i < 10_000; i++) expect(canonicalize('domain', `Host-${i}.Example`)).toBe(`host-${i}.example`);
    ask();
  });

  test('a refusal is not remembered: the same message every time, and an e-mail at it is refused too', () => {
    const first = refusal('under_score.example');
    expect(first).toMatch(/^INVALID_DOMAIN: /);
    for (let i = 0; i < 3; i++) expect(refusal('under_score.example')).toBe(first);
    expect(() => canonicalize('email', 'a@under_score.example')).toThrow(IndicatorError);
    expect(canonicalize('email', 'A@Example.COM')).toBe('a@example.com');
    expect(canonicalize('email', 'B@Example.COM')).toBe('b@example.com');
  });
});
