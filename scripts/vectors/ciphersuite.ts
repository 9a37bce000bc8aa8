/**
 * spec/vectors/ciphersuite.json: test vectors for ciphersuite OVERLAP-V1, so that an
 * implementation in another language can check hash_to_group, blind, blinding commutativity,
 * low-order rejection and key ids against this one. Everything is derived from fixed labels, so
 * the file regenerates byte for byte (test/spec-vectors.test.ts checks that it does).
 */
import {
  BlindingKey,
  blind,
  CIPHERSUITE_ID,
  HASH_TO_CURVE_SUITE,
  HASH_TO_GROUP_DST,
  hashToGroup,
  keyId,
  LOW_ORDER_ENCODINGS,
  sha256,
  signingPublicKey,
  toHex,
} from '@overlap/crypto';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A fixed 32-byte value for vectors: SHA-256 of a label. Never a real key. */
const fixedBytes = (label: string) => sha256(utf8(`OVERLAP-V1 test vector: ${label}`));

const SAMPLES: [kind: string, value: string][] = [
  ['email', 'someone@example.com'],
  ['email', 'jdoe@gmail.com'],
  ['phone', '+14155550100'],
  ['ip', '192.0.2.1'],
  ['ip', '2001:db8::1'],
  ['ip_prefix', '198.51.100.0/24'],
  ['domain', 'xn--bcher-kva.example'],
  ['registrable_domain', 'example.co.uk'],
  ['url', 'http://example.com/path?q=1'],
  ['account', 'github:someone'],
  ['payment_fingerprint', 'stripe:fp_1a2B3c'],
  ['crypto_wallet', 'eth:0x52908400098527886e0f7030069857d2e4169ee7'],
  ['asn', 'AS64496'],
  ['ja4', 't13d1516h2_8daaf6152771_b186095e22b6'],
  ['ja4h', 'ge11cr04da00_8ddaef5d77af_280f366eaa04_c2fb0fe53442'],
  ['account', 'example:grüße😀'],
  ['account', 'x\u0000y'],
];

export function buildCiphersuiteVectors(): string {
  const keyA = BlindingKey.fromBytes(fixedBytes('key A'));
  const keyB = BlindingKey.fromBytes(fixedBytes('key B'));
  const keyC = BlindingKey.fromBytes(fixedBytes('key C'));
  try {
    const hashes = SAMPLES.map(([kind, value]) => ({
      kind,
      value,
      message: toHex(new Uint8Array([...utf8(kind), 0, ...utf8(value)])),
      u: toHex(hashToGroup(kind, value)),
    }));
    const vectors = {
      description:
        'Test vectors for ciphersuite OVERLAP-V1 (spec/ciphersuite.md). All byte strings are lowercase hex; points, keys and tags are 32 bytes, little-endian as RFC 7748 encodes them. Keys here are SHA-256 of fixed labels: test keys, never real ones.',
      ciphersuite: CIPHERSUITE_ID,
      hash_to_curve_suite: HASH_TO_CURVE_SUITE,
      dst: HASH_TO_GROUP_DST,
      hash_to_group: hashes,
      blind: hashes.slice(0, 6).map(({ u }, i) => {
        const key = i % 2 === 0 ? keyA : keyB;
        return { key: toHex(key.exposeSecret()), u, blinded: toHex(blind(key, fromHexLocal(u))) };
      }),
      two_keys_either_order: hashes.slice(0, 4).map(({ kind, value, u }) => {
        const point = fromHexLocal(u);
        const aThenB = blind(keyB, blind(keyA, point));
        const bThenA = blind(keyA, blind(keyB, point));
        return {
          kind,
          value,
          u,
          key_a: toHex(keyA.exposeSecret()),
          key_b: toHex(keyB.exposeSecret()),
          a_then_b: toHex(aThenB),
          b_then_a: toHex(bThenA),
        };
      }),
      three_keys_any_order: (() => {
        const point = fromHexLocal(hashes[0]?.u as string);
        const orders: [string, BlindingKey[]][] = [
          ['abc', [keyA, keyB, keyC]],
          ['bca', [keyB, keyC, keyA]],
          ['cab', [keyC, keyA, keyB]],
        ];
        return {
          u: hashes[0]?.u,
          keys: [keyA, keyB, keyC].map((k) => toHex(k.exposeSecret())),
          results: Object.fromEntries(
            orders.map(([name, keys]) => [name, toHex(keys.reduce((p, k) => blind(k, p), point))]),
          ),
        };
      })(),
      low_order_rejected: LOW_ORDER_ENCODINGS.map((u) => ({
        key: toHex(keyA.exposeSecret()),
        u,
        error: 'LOW_ORDER_POINT',
      })),
      hash_input_rejected: [
        { kind: '', value: 'x', error: 'BAD_INPUT', why: 'empty kind' },
        { kind: 'em\u0000ail', value: 'x', error: 'BAD_INPUT', why: 'U+0000 in the kind' },
        { kind: 'email', value: '', error: 'BAD_INPUT', why: 'empty value' },
      ],
      key_id: ['signer 1', 'signer 2'].map((label) => {
        const seed = fixedBytes(label);
        const publicKey = signingPublicKey(seed);
        return { ed25519_secret_seed: toHex(seed), ed25519_public_key: toHex(publicKey), key_id: keyId(publicKey) };
      }),
    };
    return `${JSON.stringify(vectors, null, 2)}\n`;
  } finally {
    keyA.dispose();
    keyB.dispose();
    keyC.dispose();
  }
}

function fromHexLocal(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
