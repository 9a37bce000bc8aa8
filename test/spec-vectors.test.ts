/**
 * spec/vectors/*.json are generated (scripts/generate-vectors.ts). They must regenerate byte for
 * byte, and their content is re-checked here by independent means: the portable backend, and
 * node:crypto for the key-id formula.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlindingKey, blind, fromHex, hashToGroup, toHex } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { buildCiphersuiteVectors } from '../scripts/vectors/ciphersuite.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('spec/vectors/ciphersuite.json regenerates byte for byte', () => {
  expect(buildCiphersuiteVectors()).toBe(read('spec/vectors/ciphersuite.json'));
});

describe('spec/vectors/ciphersuite.json checked on the portable backend', () => {
  const v = JSON.parse(read('spec/vectors/ciphersuite.json'));
  const portable = { backend: 'portable' as const };

  test('hash_to_group', () => {
    for (const h of v.hash_to_group) {
      expect(h.message).toBe(
        Buffer.concat([Buffer.from(h.kind), Buffer.from([0]), Buffer.from(h.value)]).toString('hex'),
      );
      expect(toHex(hashToGroup(h.kind, h.value, portable))).toBe(h.u);
    }
  });

  test('blind, and two keys in either order', () => {
    for (const b of v.blind)
      expect(toHex(blind(BlindingKey.fromBytes(fromHex(b.key)), fromHex(b.u), portable))).toBe(b.blinded);
    for (const c of v.two_keys_either_order) {
      const a = BlindingKey.fromBytes(fromHex(c.key_a));
      const b = BlindingKey.fromBytes(fromHex(c.key_b));
      expect(toHex(blind(b, blind(a, fromHex(c.u), portable), portable))).toBe(c.a_then_b);
      expect(c.a_then_b).toBe(c.b_then_a);
    }
    const results = Object.values(v.three_keys_any_order.results);
    expect(new Set(results).size).toBe(1);
  });

  test('low-order points are rejected', () => {
    expect(v.low_order_rejected).toHaveLength(14);
    for (const l of v.low_order_rejected) {
      expect(() => blind(BlindingKey.fromBytes(fromHex(l.key)), fromHex(l.u), portable)).toThrow(
        expect.objectContaining({ code: l.error }),
      );
    }
  });

  test('hash inputs are rejected', () => {
    for (const r of v.hash_input_rejected) {
      expect(() => hashToGroup(r.kind, r.value, portable)).toThrow(expect.objectContaining({ code: r.error }));
    }
  });

  test('key ids follow the written formula', () => {
    for (const k of v.key_id) {
      const digest = createHash('sha256')
        .update('OVERLAP-V1-KEYID\0ed25519\0')
        .update(Buffer.from(k.ed25519_public_key, 'hex'))
        .digest('hex');
      expect(k.key_id).toBe(digest.slice(0, 32));
    }
  });
});
