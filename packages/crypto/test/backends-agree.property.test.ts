/**
 * The native and portable backends must be byte-identical, and blinding must commute: the two
 * facts the whole protocol rests on. fast-check draws kinds, values, keys and points.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { edwardsToMontgomeryU } from '../src/field25519.js';
import { BlindingKey, blind, HASH_TO_GROUP_DST_BYTES, hashToGroup } from '../src/index.js';
import { portableBackend } from '../src/portable-backend.js';
import { hex, nativeBackend } from './backends.js';

const kind = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const value = fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('native and portable give identical bytes', () => {
  test.prop([kind, value], { numRuns: 300 })('hash_to_group', (k, v) => {
    expect(hex(hashToGroup(k, v, { backend: 'native' }))).toBe(hex(hashToGroup(k, v, { backend: 'portable' })));
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 20 })], { numRuns: 30 })(
    'encode_to_curve, one at a time and in batches',
    (messages) => {
      const expected = messages.map((m) => hex(portableBackend.encodeToCurve(m, HASH_TO_GROUP_DST_BYTES)));
      expect(messages.map((m) => hex(nativeBackend.encodeToCurve(m, HASH_TO_GROUP_DST_BYTES)))).toEqual(expected);
      expect(nativeBackend.encodeToCurveMany(messages, HASH_TO_GROUP_DST_BYTES).map(hex)).toEqual(expected);
    },
  );

  test.prop([bytes32, bytes32], { numRuns: 100 })('X25519 on arbitrary 32-byte inputs', (scalar, u) => {
    let native: string;
    try {
      native = hex(nativeBackend.x25519(scalar, u));
    } catch (error) {
      expect(() => portableBackend.x25519(scalar, u)).toThrow(
        expect.objectContaining({ code: (error as { code: string }).code }),
      );
      return;
    }
    expect(hex(portableBackend.x25519(scalar, u))).toBe(native);
  });
});

describe('blinding laws', () => {
  test.prop([kind, value, bytes32, bytes32], { numRuns: 100 })(
    'two keys in either order give the same tag: X25519(a, X25519(b, u)) = X25519(b, X25519(a, u))',
    (k, v, a, b) => {
      const keyA = BlindingKey.fromBytes(a);
      const keyB = BlindingKey.fromBytes(b);
      const u = hashToGroup(k, v);
      expect(hex(blind(keyA, blind(keyB, u)))).toBe(hex(blind(keyB, blind(keyA, u))));
    },
  );

  test.prop([kind, value, value, bytes32], { numRuns: 100 })('different values give different tags', (k, v1, v2, a) => {
    fc.pre(v1 !== v2);
    const key = BlindingKey.fromBytes(a);
    expect(hex(blind(key, hashToGroup(k, v1)))).not.toBe(hex(blind(key, hashToGroup(k, v2))));
  });

  test.prop([kind, kind, value], { numRuns: 100 })('the same value under different kinds hashes apart', (k1, k2, v) => {
    fc.pre(k1 !== k2);
    expect(hex(hashToGroup(k1, v))).not.toBe(hex(hashToGroup(k2, v)));
  });
});

test('the batch u-coordinate map sends the identity to u = 0 (inv0), like the portable path', () => {
  const identity = new Uint8Array(32);
  identity[0] = 1;
  expect(hex(edwardsToMontgomeryU([identity])[0] as Uint8Array)).toBe('00'.repeat(32));
});
