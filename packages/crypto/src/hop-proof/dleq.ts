/**
 * The transcript of a hop proof, shared by the prover (prove.ts) and the verifier (verify.ts): a
 * batched DLEQ (Chaum–Pedersen) proof after RFC 9497 §2.2 with Overlap's own domain separation and
 * bindings (spec/ciphersuite.md §10). The seed binds the session, the chunk's digest D and the
 * prover's K; each composite coefficient d_i binds the position j_i and both points; the challenge
 * binds K, M, Z and the commitments.
 *
 * Threat: a proof replayed for another session, chunk, key or set of positions — each is in a hash
 * the verifier recomputes — and a prover choosing points after seeing the coefficients, which are
 * hashed over those very points.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from '../backend.js';
import { assertBytes, assertLength, concatBytes } from '../bytes.js';
import { POINT_LENGTH } from '../ciphersuite.js';
import { CryptoError } from '../errors.js';
import { assertContext, dst } from './coins.js';

/** What a hop proof is bound to besides K and the positions. */
export interface HopProofContext {
  /** The session id, 16 bytes. */
  sessionId: Uint8Array;
  /** D: the blind_result envelope header's `digest` (SHA-256 of its payload), 32 bytes. */
  digest: Uint8Array;
}

/** A hop_proof's two byte strings: the sign bits b_i, and c ‖ z. */
export interface HopProof {
  /** ⌈S/8⌉ bytes, b_i at bit (i mod 8) of byte ⌊i/8⌋, unused high bits zero. */
  signs: Uint8Array;
  /** c ‖ z, 64 bytes. */
  proof: Uint8Array;
}

export type HopProofVerdict =
  | { ok: true }
  | { ok: false; fault: 'malformed' | 'invalid' }
  | { ok: false; fault: 'input_not_in_group' | 'output_not_in_group'; index: number };

export const PROOF_LENGTH = 64;
export const NONCE_RANDOMNESS_LENGTH = 32;

const SEED_DST = dst('OVERLAP-V1-DLEQ-SEED');
const COMPOSITE_DST = dst('OVERLAP-V1-DLEQ-COMPOSITE');
const CHALLENGE_DST = dst('OVERLAP-V1-DLEQ-CHALLENGE');
export const NONCE_DST = dst('OVERLAP-V1-DLEQ-NONCE');

/** H_L(x): SHA-512(x) as a 64-byte little-endian integer, mod L. */
export function hashToScalar(backend: CryptoBackend, ...parts: Uint8Array[]): Uint8Array {
  return backend.scalarReduce64(sha512(concatBytes(...parts)));
}

/** seed = SHA-512("OVERLAP-V1-DLEQ-SEED" ‖ 0x00 ‖ session ‖ D ‖ K). */
export function transcriptSeed(context: HopProofContext, K: Uint8Array): Uint8Array {
  return sha512(concatBytes(SEED_DST, context.sessionId, context.digest, K));
}

/** d_i = H_L("OVERLAP-V1-DLEQ-COMPOSITE" ‖ 0x00 ‖ seed ‖ u32be(j_i) ‖ P_i ‖ Q_i). */
export function composite(
  backend: CryptoBackend,
  seed: Uint8Array,
  position: number,
  p: Uint8Array,
  q: Uint8Array,
): Uint8Array {
  const j = new Uint8Array(4);
  new DataView(j.buffer).setUint32(0, position, false);
  return hashToScalar(backend, COMPOSITE_DST, seed, j, p, q);
}

/** c = H_L("OVERLAP-V1-DLEQ-CHALLENGE" ‖ 0x00 ‖ seed ‖ K ‖ M ‖ Z ‖ t2 ‖ t3). */
export function challenge(
  backend: CryptoBackend,
  seed: Uint8Array,
  K: Uint8Array,
  M: Uint8Array,
  Z: Uint8Array,
  t2: Uint8Array,
  t3: Uint8Array,
): Uint8Array {
  return hashToScalar(backend, CHALLENGE_DST, seed, K, M, Z, t2, t3);
}

export const signsLength = (count: number): number => Math.ceil(count / 8);

export function signBit(signs: Uint8Array, i: number): number {
  return ((signs[i >> 3] as number) >> (i & 7)) & 1;
}

/** The caller's arguments (not the prover's bytes): positions are u32 offsets, one tag each. */
export function assertStatement(
  context: HopProofContext,
  positions: readonly number[],
  tagLists: readonly (readonly Uint8Array[])[],
): void {
  assertContext(context);
  if (!Array.isArray(positions)) throw new CryptoError('BAD_TYPE', 'positions must be an array');
  for (const position of positions) {
    if (!Number.isInteger(position) || position < 0 || position >= 2 ** 32) {
      throw new CryptoError('BAD_INPUT', `a position must be an integer from 0 to 2^32 − 1, got ${String(position)}`);
    }
  }
  for (const tags of tagLists) {
    if (!Array.isArray(tags) || tags.length !== positions.length) {
      throw new CryptoError('BAD_INPUT', 'there must be one tag for each position');
    }
    tags.forEach((tag, i) => {
      assertLength(tag, POINT_LENGTH, `tag ${i}`);
    });
  }
}

/** Whether 32 little-endian bytes are below L = 2^252 + 27742317777372353535851937790883648493. */
export function isReducedScalar(bytes: Uint8Array): boolean {
  assertBytes(bytes, 'scalar');
  for (let i = 31; i >= 0; i--) {
    const a = bytes[i] as number;
    const b = L_BYTES[i] as number;
    if (a !== b) return a < b;
  }
  return false; // equal to L
}

const L_BYTES = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);
