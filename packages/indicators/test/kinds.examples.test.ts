/**
 * Every kind's own examples and counter-examples (the same ones spec/indicators.md shows), its
 * schema, idempotence on every canonical value, and the shared junk-input table.
 */
import { describe, expect, test } from 'vitest';
import {
  canonicalize,
  deriveRegistrableDomain,
  getIndicatorKind,
  INDICATOR_KIND_NAMES,
  INDICATOR_KINDS,
  IndicatorError,
} from '../src/index.js';

const kinds = [...INDICATOR_KINDS.values()];

describe.each(kinds.map((k) => [k.name, k] as const))('%s', (_name, kind) => {
  test('has examples and counter-examples', () => {
    expect(kind.examples.length).toBeGreaterThanOrEqual(2);
    expect(kind.counterExamples.length).toBeGreaterThanOrEqual(2);
  });

  test.each(kind.examples.map((e) => [e.raw, e] as const))('canonicalizes %j', (_raw, example) => {
    const value = kind.canonicalize(example.raw, example.options);
    expect(value).toBe(example.canonical);
    expect(kind.schema.safeParse(value).success).toBe(true);
    expect(kind.canonicalize(value, example.options)).toBe(value); // idempotent
  });

  test.each(kind.counterExamples.map((e) => [e.raw, e] as const))('rejects %j', (_raw, counter) => {
    const call = () => kind.canonicalize(counter.raw, counter.options);
    expect(call).toThrow(IndicatorError);
    expect(call).toThrow(expect.objectContaining({ code: counter.code }));
  });

  // The junk table every kind must reject with a typed error, never a crash or a value.
  test.each([
    ['empty', '', 'EMPTY'],
    ['white space', ' \t\n ', 'EMPTY'],
    ['a number', 42, 'BAD_TYPE'],
    ['null', null, 'BAD_TYPE'],
    ['an object', { value: 'x' }, 'BAD_TYPE'],
    ['a huge string', 'a'.repeat(100_000), 'TOO_LONG'],
    ['a lone surrogate', 'a\uD800b:c@d.example', 'BAD_TEXT'],
  ])('rejects %s with %s', (_label, junk, code) => {
    expect(() => kind.canonicalize(junk as string)).toThrow(expect.objectContaining({ name: 'IndicatorError', code }));
  });

  test.each([['<script>'], ['\u0000'], ['💥'], ['../../etc/passwd'], ["'; DROP TABLE x; --"]])(
    'rejects junk %j with a typed error',
    (junk) => {
      let outcome: unknown;
      try {
        outcome = kind.canonicalize(junk);
      } catch (error) {
        outcome = error;
      }
      // Some kinds (account-like) legitimately accept odd text only with their separator; none of these has one.
      // A prompt is free text: any text with a word in it is one, in its canonical form.
      if (kind.name === 'prompt_template' && typeof outcome === 'string')
        expect(kind.schema.parse(outcome)).toBe(outcome);
      else expect(outcome).toBeInstanceOf(IndicatorError);
    },
  );
});

test('every listed kind name has a kind, canonicalize() works by name, unknown names are UNKNOWN_KIND', () => {
  for (const name of INDICATOR_KIND_NAMES) expect(getIndicatorKind(name).name).toBe(name);
  expect(canonicalize('email', 'A@B.example')).toBe('a@b.example');
  expect(() => canonicalize('ipv4', '1.2.3.4')).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND' }));
});

test('registrable domains derive from domain, email and url values', () => {
  expect(deriveRegistrableDomain('domain', 'www.example.co.uk')).toBe('example.co.uk');
  expect(deriveRegistrableDomain('email', canonicalize('email', 'x@Mail.Example.COM'))).toBe('example.com');
  expect(deriveRegistrableDomain('url', canonicalize('url', 'https://a.b.Example.org:8443/x?y'))).toBe('example.org');
  expect(() => deriveRegistrableDomain('url', canonicalize('url', 'http://3279880203/'))).toThrow(
    expect.objectContaining({ code: 'INVALID_DOMAIN' }),
  );
  expect(() => deriveRegistrableDomain('domain', 'co.uk')).toThrow(
    expect.objectContaining({ code: 'NO_REGISTRABLE_DOMAIN' }),
  );
});
