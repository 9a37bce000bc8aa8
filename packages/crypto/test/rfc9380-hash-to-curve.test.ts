import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { HASH_TO_GROUP_DST_BYTES, hashToGroup } from '../src/index.js';
import { BACKENDS, beHexToLe, hex } from './backends.js';

interface Rfc9380Vector {
  msg: string;
  'P.x': string;
}
const file = JSON.parse(
  readFileSync(new URL('./vectors/rfc9380-curve25519-xmd-sha512-ell2-nu.json', import.meta.url), 'utf8'),
) as { dst: string; vectors: Rfc9380Vector[] };
const utf8 = (text: string) => new TextEncoder().encode(text);

describe.each(BACKENDS)('RFC 9380 J.4.2 curve25519_XMD:SHA-512_ELL2_NU_ on the %s backend', (_name, backend) => {
  test.each(file.vectors.map((v) => [v.msg.slice(0, 12), v] as const))('msg %j', (_label, vector) => {
    const u = backend.encodeToCurve(utf8(vector.msg), utf8(file.dst));
    expect(hex(u)).toBe(hex(beHexToLe(vector['P.x'])));
  });

  test('the batch path gives the same u as the one-at-a-time path', () => {
    const messages = file.vectors.map((v) => utf8(v.msg));
    const many = backend.encodeToCurveMany(messages, utf8(file.dst));
    expect(many.map(hex)).toEqual(file.vectors.map((v) => hex(beHexToLe(v['P.x']))));
  });
});

describe('hash_to_group is encode_to_curve of kind || 0x00 || value under the OVERLAP-V1 DST', () => {
  test.each(BACKENDS)('%s', (name, backend) => {
    const expected = backend.encodeToCurve(utf8('email\0someone@example.com'), HASH_TO_GROUP_DST_BYTES);
    expect(hex(hashToGroup('email', 'someone@example.com', { backend: name }))).toBe(hex(expected));
  });
});
