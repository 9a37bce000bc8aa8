/**
 * The identity file of spec/ciphersuite.md §7 ("Identity file"): what `labIdentityOf` writes, and
 * what `parseLabIdentity` refuses.
 */
import { generateLabKeys, keyId } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { labIdentityOf, parseLabIdentity } from '../src/index.js';

const keys = generateLabKeys();
const identity = labIdentityOf(keys);

describe('identity file', () => {
  test('holds exactly key_id, signing_key and sealing_key, in lowercase hex', () => {
    const written = JSON.parse(JSON.stringify(identity)) as Record<string, string>;
    expect(Object.keys(written).sort()).toEqual(['key_id', 'sealing_key', 'signing_key']);
    expect(written.signing_key).toMatch(/^[0-9a-f]{64}$/);
    expect(written.sealing_key).toMatch(/^[0-9a-f]{64}$/);
    expect(written.key_id).toBe(keyId(keys.signing.publicKey));
  });

  test('reads back to the same keys; key_id may be left out, other members are ignored', () => {
    const parsed = parseLabIdentity({ ...identity, comment: 'from lab a' });
    expect(parsed.keyId).toBe(keys.keyId);
    expect(parsed.signingKey).toEqual(keys.signing.publicKey);
    expect(parsed.sealingKey).toEqual(keys.sealing.publicKey);
    const { key_id: _, ...withoutId } = identity;
    expect(parseLabIdentity(withoutId).keyId).toBe(keys.keyId);
  });

  test.each([
    ['a key_id that is not the signing key’s', { ...identity, key_id: '0'.repeat(32) }],
    ['uppercase hex', { ...identity, signing_key: identity.signing_key.toUpperCase() }],
    ['a short key', { ...identity, sealing_key: identity.sealing_key.slice(2) }],
    ['no signing key', { key_id: identity.key_id, sealing_key: identity.sealing_key }],
    ['not an object', 'lab-a'],
    ['null', null],
  ])('refuses %s (BAD_ARGUMENT)', (_name, document) => {
    expect(() => parseLabIdentity(document)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
