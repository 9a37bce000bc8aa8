/**
 * Tag equivalence of spec/ciphersuite.md §10 on both backends: u and 1/u (u of P + T₂) are
 * equivalent, unrelated tags are not, and for any clamped key k, X25519(k, a) = X25519(k, b)
 * exactly when a and b are equivalent — so the hop where a duplicate first appears is the one
 * whose inputs were not already equivalent.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { distinctnessScalar } from '../src/hop-proof/distinct.js';
import { BlindingKey, blind, equivalentTags, hashToGroup } from '../src/index.js';
import { BACKENDS, hex, unhex } from './backends.js';
import { distinctnessScalarRef, inverseTag } from './hop-proof-reference.js';

test('c₀ = SHA-256("OVERLAP-V1-DISTINCT" ‖ 0x00)', () => {
  expect(hex(distinctnessScalar())).toBe(hex(distinctnessScalarRef()));
});

describe.each(BACKENDS)('equivalent tags on the %s backend', (name) => {
  const options = { backend: name };
  const value = fc.string({ minLength: 1, maxLength: 30 });

  test.prop([value], { numRuns: 20 })('u and 1/u are equivalent; u and itself too', (v) => {
    const u = hashToGroup('email', v, options);
    expect(equivalentTags(u, inverseTag(u), options)).toBe(true);
    expect(equivalentTags(u, Uint8Array.from(u), options)).toBe(true);
  });

  test.prop([value, value], { numRuns: 20 })('unrelated tags are not', (v, w) => {
    fc.pre(v !== w);
    expect(equivalentTags(hashToGroup('email', v, options), hashToGroup('email', w, options), options)).toBe(false);
  });

  test.prop([value, fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0))], {
    numRuns: name === 'portable' ? 10 : 40,
  })('an honest hop sends u and 1/u to one tag, and keeps unrelated tags apart', (v, k) => {
    const key = BlindingKey.fromBytes(k);
    const u = hashToGroup('email', v, options);
    const other = hashToGroup('email', `${v}!`, options);
    expect(hex(blind(key, u, options))).toBe(hex(blind(key, inverseTag(u), options)));
    expect(hex(blind(key, u, options))).not.toBe(hex(blind(key, other, options)));
  });

  test('low-order tags all map to X25519’s zero value, and are equivalent to each other only', () => {
    const zero = unhex('00'.repeat(32));
    const one = unhex(`01${'00'.repeat(31)}`);
    expect(equivalentTags(zero, one, options)).toBe(true);
    expect(equivalentTags(zero, hashToGroup('email', 'x', options), options)).toBe(false);
  });
});
