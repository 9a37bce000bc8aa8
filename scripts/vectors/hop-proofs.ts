/**
 * spec/vectors/hop-proofs.json: test vectors for the hop proofs of spec/ciphersuite.md §10, so that
 * an implementation in another language can check its key commitments (and the ones it must
 * refuse), tags in G, lifts, coin commitments, σ, positions, proofs (made with a fixed nonce
 * randomness `a`, the spec's test hook), verifications that must fail with their fault, and tag
 * equivalence. Keys, coins, sessions and digests are SHA-256 of fixed labels, so the file
 * regenerates byte for byte (test/spec-vectors.test.ts checks that it does;
 * packages/crypto/test/hop-proof.vectors.test.ts checks every entry on both backends).
 *
 * The lifts, seeds and composites are computed here with plain big integers and node:crypto, from
 * the text, as a second reading beside the package's own code.
 */
import { createHash } from 'node:crypto';
import {
  BlindingKey,
  blind,
  challengeSeed,
  coinCommitment,
  equivalentTags,
  type HopProof,
  type HopProofContext,
  hashToGroup,
  keyCommitment,
  keyCommitmentProblem,
  keyId,
  type ProofMode,
  proveHop,
  provenPositions,
  SPOT_POSITIONS,
  sha256,
  signingPublicKey,
  tagInGroup,
  toHex,
  verifyHop,
} from '@overlap/crypto';

const utf8 = (text: string) => new TextEncoder().encode(text);
/** A fixed 32-byte value for vectors: SHA-256 of a label. Never a real key. */
const fixedBytes = (label: string) => sha256(utf8(`OVERLAP-V1 test vector: ${label}`));

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = ((base % P) + P) % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}
const le = (bytes: Uint8Array): bigint => BigInt(`0x${toHex(Uint8Array.from(bytes).reverse()) || '0'}`);
const toLe = (n: bigint): Uint8Array => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const inverse = (x: bigint) => modPow(x, P - 2n);
/** 1/u: the u-coordinate of P + T₂ when u is that of P. */
const inverseTag = (u: Uint8Array) => toLe(inverse(le(u)));

function lift(u: Uint8Array, sign: number): Uint8Array {
  const x = le(u);
  const out = toLe(((x - 1n + P) * inverse(x + 1n)) % P);
  if (sign) out[31] = (out[31] as number) | 0x80;
  return out;
}

/** The smallest u ≥ 2 on the twist: u³ + 486662u² + u is not a square mod p. */
function twistTag(from: bigint): Uint8Array {
  for (let u = from; ; u++) {
    const rhs = (u * u * u + 486662n * u * u + u) % P;
    if (modPow(rhs, (P - 1n) / 2n) === P - 1n) return toLe(u);
  }
}

const sha512 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
const dst = (name: string) => utf8(`${name}\0`);
const u32be = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
const bit = (signs: Uint8Array, i: number) => ((signs[i >> 3] as number) >> (i & 7)) & 1;

/** enc(X + T₂) for enc(X): (−x, −y), so y → p − y and the sign bit flips. */
function plusT2(encoding: Uint8Array): Uint8Array {
  const y = le(encoding) & ((1n << 255n) - 1n);
  const out = toLe(P - y);
  out[31] = (out[31] as number) | (((encoding[31] as number) & 0x80) ^ 0x80);
  return out;
}

const session = fixedBytes('session').subarray(0, 16);
const labs = ['lab a', 'lab b', 'lab c'].map((label) => keyId(signingPublicKey(fixedBytes(label))));
const coins = labs.map((_, i) => fixedBytes(`coin ${i}`));
const sigma = challengeSeed(session, coins);
const nonceRandomness = fixedBytes('nonce randomness a');

interface ProofCase {
  key: BlindingKey;
  K: Uint8Array;
  context: HopProofContext;
  positions: number[];
  inputs: Uint8Array[];
  outputs: Uint8Array[];
  proof: HopProof;
}

function proofCase(key: BlindingKey, label: string, length: number, mode: ProofMode): ProofCase {
  const context = { sessionId: session, digest: fixedBytes(`blind_result payload digest: ${label}`) };
  const positions = provenPositions(sigma, context.digest, length, mode);
  const inputs = positions.map((j) => hashToGroup('email', `${label}-member-${j}@example.com`));
  const outputs = inputs.map((u) => blind(key, u));
  const proof = proveHop(key, context, positions, inputs, { nonceRandomness });
  return { key, K: keyCommitment(key), context, positions, inputs, outputs, proof };
}

function showCase(c: ProofCase) {
  const seed = sha512(dst('OVERLAP-V1-DLEQ-SEED'), c.context.sessionId, c.context.digest, c.K);
  return {
    key: toHex(c.key.exposeSecret()),
    K: toHex(c.K),
    session: toHex(c.context.sessionId),
    sigma: toHex(sigma),
    digest: toHex(c.context.digest),
    positions: c.positions,
    inputs: c.inputs.map(toHex),
    outputs: c.outputs.map(toHex),
    signs: toHex(c.proof.signs),
    proof: toHex(c.proof.proof),
    seed: toHex(seed),
    lifts: c.positions.map((j, i) => {
      const p = lift(c.inputs[i] as Uint8Array, 0);
      const q = lift(c.outputs[i] as Uint8Array, bit(c.proof.signs, i));
      const d = le(sha512(dst('OVERLAP-V1-DLEQ-COMPOSITE'), seed, u32be(j), p, q)) % L;
      return { P: toHex(p), Q: toHex(q), d: toHex(toLe(d)) };
    }),
  };
}

function verdictOf(c: ProofCase) {
  return verifyHop(c.K, c.context, c.positions, c.inputs, c.outputs, c.proof);
}

export function buildHopProofVectors(): string {
  const keys = ['hop key 1', 'hop key 2', 'hop key 3'].map((label) => BlindingKey.fromBytes(fixedBytes(label)));
  const identityKey = BlindingKey.fromBytes(toLe(5n * L - 1n));
  const [key1, key2, key3] = keys as [BlindingKey, BlindingKey, BlindingKey];
  try {
    const member = hashToGroup('email', 'someone@example.com');
    const K1 = keyCommitment(key1);
    const small = proofCase(key1, 'chunk 1', 12, 'spot');
    const set = (list: Uint8Array[], at: number, value: Uint8Array) => list.map((x, i) => (i === at ? value : x));
    const withProof = (proof: Uint8Array): ProofCase => ({ ...small, proof: { ...small.proof, proof } });
    const withSigns = (signs: Uint8Array): ProofCase => ({ ...small, proof: { ...small.proof, signs } });
    const { signs, proof } = small.proof;
    const failing: [string, ProofCase][] = [
      ['signs one byte short', withSigns(signs.subarray(0, 1))],
      ['an unused high bit of signs set', withSigns(Uint8Array.of(signs[0] as number, (signs[1] as number) | 0x80))],
      ['a 63-byte proof', withProof(proof.subarray(0, 63))],
      ['c = L', withProof(Uint8Array.of(...toLe(L), ...proof.subarray(32)))],
      ['z + L in place of z', withProof(Uint8Array.of(...proof.subarray(0, 32), ...toLe(le(proof.subarray(32)) + L)))],
      ['input 3 a twist point', { ...small, inputs: set(small.inputs, 3, twistTag(2n)) }],
      [
        'input 3 is 1/u (u of P + T₂)',
        { ...small, inputs: set(small.inputs, 3, inverseTag(small.inputs[3] as Uint8Array)) },
      ],
      [
        'output 4 is 1/u (u of Q + T₂)',
        { ...small, outputs: set(small.outputs, 4, inverseTag(small.outputs[4] as Uint8Array)) },
      ],
      ['output 4 a twist point', { ...small, outputs: set(small.outputs, 4, twistTag(1000n)) }],
      [
        'output 1 and input 6 not in G: the input is reported',
        { ...small, inputs: set(small.inputs, 6, twistTag(2n)), outputs: set(small.outputs, 1, twistTag(2n)) },
      ],
      ['sign bit 0 flipped', withSigns(Uint8Array.of((signs[0] as number) ^ 1, signs[1] as number))],
      ['the identity hop: each output is its input', { ...small, outputs: small.inputs }],
      [
        'outputs 0 and 1 swapped',
        { ...small, outputs: [small.outputs[1], small.outputs[0], ...small.outputs.slice(2)] as Uint8Array[] },
      ],
      [
        'positions 0 and 1 swapped',
        { ...small, positions: [small.positions[1], small.positions[0], ...small.positions.slice(2)] as number[] },
      ],
      [
        'another session id',
        { ...small, context: { ...small.context, sessionId: fixedBytes('other session').subarray(0, 16) } },
      ],
      ['another chunk digest', { ...small, context: { ...small.context, digest: fixedBytes('other digest') } }],
      ["another lab's K", { ...small, K: keyCommitment(key2) }],
    ];
    const identityHop: ProofCase = (() => {
      const c = proofCase(identityKey, 'chunk 1', 12, 'spot');
      return { ...c, outputs: c.inputs };
    })();

    const vectors = {
      description:
        "Test vectors for the hop proofs of spec/ciphersuite.md §10. All byte strings are lowercase hex; points are RFC 8032 encodings and tags X25519 u-coordinates, 32 bytes little-endian. Keys, coins, sessions and digests are SHA-256 of fixed labels: test values, never real ones. Proofs are made with the fixed nonce randomness `nonce_randomness` (the spec's test hook); an implementation with fresh randomness gives other proofs, which verify all the same.",
      L: toHex(toLe(L)),
      spot_positions: SPOT_POSITIONS,
      key_commitments: [
        ...[key1, key2, key3].map((key) => ({
          key: toHex(key.exposeSecret()),
          K: toHex(keyCommitment(key)),
          problem: null,
        })),
        {
          key: toHex(identityKey.exposeSecret()),
          K: toHex(keyCommitment(identityKey)),
          problem: keyCommitmentProblem(keyCommitment(identityKey)) ?? null,
          why: 'the clamped key 5L − 1: s = L − 1, K = −B, an identity hop up to sign',
        },
      ],
      key_commitments_refused: [
        ['the base point B (s = 1)', '5866666666666666666666666666666666666666666666666666666666666666'],
        ['−B', '58666666666666666666666666666666666666666666666666666666666666e6'],
        ['K + T₂ (a torsion component)', toHex(plusT2(K1))],
        ['the identity', `01${'00'.repeat(31)}`],
        ['T₂ = (0, −1), of order 2', toHex(toLe(P - 1n))],
        ['y = p, not canonical', `ed${'ff'.repeat(30)}7f`],
        ['y not on the curve', toHex(lift(twistTag(2n), 0))],
      ].map(([why, K]) => ({ why, K, problem: keyCommitmentProblem(Buffer.from(K as string, 'hex')) })),
      tags: [
        ['a hash_to_group output', member],
        ['a tag an honest hop made', blind(key1, member)],
        ['1/u of a hash_to_group output (u of P + T₂)', inverseTag(member)],
        ['a twist point', twistTag(2n)],
        ['u = 0, of order 2', new Uint8Array(32)],
        ['u = p − 1, with no lift', toLe(P - 1n)],
        ['u = p, not canonical', toLe(P)],
      ].map(([why, u]) => {
        const tag = u as Uint8Array;
        const canonical = le(tag) < P - 1n;
        return {
          why,
          u: toHex(tag),
          lift: canonical ? toHex(lift(tag, 0)) : null,
          in_group: tagInGroup(tag),
        };
      }),
      coin_commitments: labs.map((id, i) => ({
        session: toHex(session),
        key_id: id,
        coin: toHex(coins[i] as Uint8Array),
        commitment: toHex(coinCommitment(session, id, coins[i] as Uint8Array)),
      })),
      challenge_seed: { session: toHex(session), coins: coins.map(toHex), sigma: toHex(sigma) },
      positions: (
        [
          [1, 'spot'],
          [7, 'spot'],
          [135, 'spot'],
          [136, 'spot'],
          [1000, 'spot'],
          [65_536, 'spot'],
          [2 ** 31 + 1, 'spot'],
          [6, 'full'],
        ] as [number, ProofMode][]
      ).map(([length, mode]) => {
        const digest = fixedBytes(`positions digest ${length}`);
        return {
          sigma: toHex(sigma),
          digest: toHex(digest),
          length,
          mode,
          positions: provenPositions(sigma, digest, length, mode),
        };
      }),
      nonce_randomness: toHex(nonceRandomness),
      proofs: [
        { mode: 'spot', length: 12, ...showCase(small) },
        { mode: 'spot', length: 300, ...showCase(proofCase(key2, 'chunk 2', 300, 'spot')) },
        { mode: 'full', length: 6, ...showCase(proofCase(key3, 'chunk 3', 6, 'full')) },
      ],
      verification_failures: failing.map(([why, c]) => ({
        why,
        K: toHex(c.K),
        session: toHex(c.context.sessionId),
        digest: toHex(c.context.digest),
        positions: c.positions,
        inputs: c.inputs.map(toHex),
        outputs: c.outputs.map(toHex),
        signs: toHex(c.proof.signs),
        proof: toHex(c.proof.proof),
        verdict: verdictOf(c),
      })),
      identity_hop_under_negated_base_point: {
        why: 'K = −B (key 5L − 1) is refused at join because this verifies: every output is its input',
        ...showCase(identityHop),
        verdict: verdictOf(identityHop),
      },
      equivalence: {
        c0: toHex(sha256(dst('OVERLAP-V1-DISTINCT'))),
        pairs: [
          ['u and 1/u', member, inverseTag(member)],
          ['u and itself', member, member],
          ['two hash_to_group outputs', member, hashToGroup('email', 'someone-else@example.com')],
        ].map(([why, a, b]) => ({
          why,
          a: toHex(a as Uint8Array),
          b: toHex(b as Uint8Array),
          equivalent: equivalentTags(a as Uint8Array, b as Uint8Array),
        })),
      },
    };
    return `${JSON.stringify(vectors, null, 2)}\n`;
  } finally {
    for (const key of [...keys, identityKey]) key.dispose();
  }
}
