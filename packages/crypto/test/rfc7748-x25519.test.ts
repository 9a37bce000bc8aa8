import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BlindingKey, blind, CryptoError } from '../src/index.js';
import { BACKENDS, hex, unhex } from './backends.js';

const rfc = JSON.parse(readFileSync(new URL('./vectors/rfc7748-rfc8032.json', import.meta.url), 'utf8')).x25519 as {
  vectors: { scalar: string; u: string; result: string }[];
  iterated: { start: string; after1: string; after1000: string };
};

interface WycheproofX25519 {
  tcId: number;
  comment: string;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: 'valid' | 'acceptable' | 'invalid';
}
const wycheproof = (
  JSON.parse(readFileSync(new URL('./vectors/wycheproof/x25519_test.json', import.meta.url), 'utf8')) as {
    testGroups: { tests: WycheproofX25519[] }[];
  }
).testGroups.flatMap((g) => g.tests);

/** A third implementation (OpenSSL through node:crypto) as an oracle. */
function opensslX25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), scalar]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(u).toString('base64url') },
    format: 'jwk',
  });
  return diffieHellman({ privateKey, publicKey });
}

describe.each(BACKENDS)('X25519 on the %s backend', (name, backend) => {
  test.each(rfc.vectors.map((v, i) => [i + 1, v] as const))('RFC 7748 §5.2 vector %i', (_i, v) => {
    expect(hex(backend.x25519(unhex(v.scalar), unhex(v.u)))).toBe(v.result);
  });

  test('RFC 7748 §5.2 iterated: 1 and 1,000 iterations', () => {
    let k = unhex(rfc.iterated.start);
    let u = unhex(rfc.iterated.start);
    for (let i = 1; i <= 1000; i++) {
      const next = backend.x25519(k, u);
      u = k;
      k = next;
      if (i === 1) expect(hex(k)).toBe(rfc.iterated.after1);
    }
    expect(hex(k)).toBe(rfc.iterated.after1000);
  });

  test(`all ${wycheproof.length} Wycheproof vectors: the shared value, or LOW_ORDER_POINT when it is all-zero`, () => {
    let rejected = 0;
    for (const t of wycheproof) {
      const run = () => backend.x25519(unhex(t.private), unhex(t.public));
      if (/^0+$/.test(t.shared)) {
        expect(run, `tcId ${t.tcId}`).toThrow(expect.objectContaining({ code: 'LOW_ORDER_POINT' }));
        rejected++;
      } else {
        expect(hex(run()), `tcId ${t.tcId} ${t.comment}`).toBe(t.shared);
      }
    }
    expect(rejected).toBeGreaterThanOrEqual(20);
  });

  test('the public blind() agrees with OpenSSL on the RFC vectors', () => {
    for (const v of rfc.vectors) {
      const key = BlindingKey.fromBytes(unhex(v.scalar));
      expect(hex(blind(key, unhex(v.u), { backend: name }))).toBe(hex(opensslX25519(unhex(v.scalar), unhex(v.u))));
    }
  });

  test.each([
    ['31 bytes', new Uint8Array(31)],
    ['33 bytes', new Uint8Array(33)],
    ['a string', 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'],
  ])('blind() rejects a point of %s with a typed error', (_label, junk) => {
    const key = BlindingKey.generate();
    expect(() => blind(key, junk as Uint8Array, { backend: name })).toThrow(CryptoError);
  });
});
