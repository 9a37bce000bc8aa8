/**
 * What browser-bundle.test.ts bundles for the browser and runs in Chromium: @overlap/crypto's main
 * entry, and one function that computes every case of spec/vectors/ciphersuite.json with it (on
 * whatever backend the page has: the portable one) plus a signature, a batch and a SHA-256.
 */
import {
  BlindingKey,
  blind,
  CryptoError,
  fromHex,
  getBackend,
  hashToGroup,
  hashToGroupBatch,
  keyId,
  sha256,
  sign,
  signingPublicKey,
  toHex,
  verify,
} from '../../src/index.js';

export interface CiphersuiteVectors {
  hash_to_group: { kind: string; value: string }[];
  blind: { key: string; u: string }[];
  two_keys_either_order: { u: string; key_a: string; key_b: string }[];
  three_keys_any_order: { u: string; keys: string[] };
  low_order_rejected: { key: string; u: string }[];
  hash_input_rejected: { kind: string; value: string }[];
  key_id: { ed25519_secret_seed: string; ed25519_public_key: string }[];
}

const key = (hex: string) => BlindingKey.fromBytes(fromHex(hex));

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'ACCEPTED';
  } catch (error) {
    return error instanceof CryptoError ? error.code : `not a CryptoError: ${String(error)}`;
  }
}

async function compute(v: CiphersuiteVectors) {
  const batch: string[] = [];
  for await (const u of hashToGroupBatch(v.hash_to_group, { chunkSize: 5 })) batch.push(toHex(u));
  const [a, b, c] = v.three_keys_any_order.keys.map(key) as [BlindingKey, BlindingKey, BlindingKey];
  const u = fromHex(v.three_keys_any_order.u);
  const message = new TextEncoder().encode('signed in a browser');
  const seed = fromHex(v.key_id[0]?.ed25519_secret_seed ?? '');
  const signature = sign(seed, message);
  const publicKey = signingPublicKey(seed);
  return {
    runtime: typeof process === 'undefined' ? 'browser' : 'not a browser',
    backend: getBackend().name,
    hash_to_group: v.hash_to_group.map((h) => toHex(hashToGroup(h.kind, h.value))),
    hash_to_group_batch: batch,
    blind: v.blind.map((x) => toHex(blind(key(x.key), fromHex(x.u)))),
    two_keys: v.two_keys_either_order.map((x) => [
      toHex(blind(key(x.key_b), blind(key(x.key_a), fromHex(x.u)))),
      toHex(blind(key(x.key_a), blind(key(x.key_b), fromHex(x.u)))),
    ]),
    three_keys: [
      toHex(blind(c, blind(b, blind(a, u)))),
      toHex(blind(a, blind(c, blind(b, u)))),
      toHex(blind(b, blind(a, blind(c, u)))),
    ],
    low_order_rejected: v.low_order_rejected.map((x) => codeOf(() => blind(key(x.key), fromHex(x.u)))),
    hash_input_rejected: v.hash_input_rejected.map((x) => codeOf(() => hashToGroup(x.kind, x.value))),
    key_id: v.key_id.map((k) => ({
      public_key: toHex(signingPublicKey(fromHex(k.ed25519_secret_seed))),
      key_id: keyId(fromHex(k.ed25519_public_key)),
    })),
    signature: toHex(signature),
    verifies: verify(publicKey, message, signature),
    verifies_altered: verify(publicKey, new TextEncoder().encode('signed in a browser!'), signature),
    sha256_abc: toHex(sha256(new TextEncoder().encode('abc'))),
  };
}

export type BrowserResults = Awaited<ReturnType<typeof compute>>;

(globalThis as { overlapCiphersuite?: typeof compute }).overlapCiphersuite = compute;
