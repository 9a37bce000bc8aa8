/**
 * The joint challenge of the hop proofs (spec/ciphersuite.md §10): each lab's coin commitment,
 * the challenge seed σ from every revealed coin, and the positions of a chunk that its hop must
 * prove, drawn from σ and the chunk's blind_result digest D.
 *
 * Threat: a hop that corrupts only the positions it will not be asked about. No party chooses the
 * positions: every lab commits to its coin in its join, reveals it only after every hop has
 * answered, and σ needs every coin; D binds each chunk's positions to the answer as logged.
 * Rejection sampling keeps the draw uniform (no modulo bias).
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { assertBytes, assertLength, concatBytes } from '../bytes.js';
import { sha256 } from '../digest.js';
import { CryptoError } from '../errors.js';

/** How many positions a `spot` proof covers in a chunk (fewer only when the chunk is shorter). */
export const SPOT_POSITIONS = 135;

/** `spot`: min(len, 135) positions drawn from σ and D; `full`: every position. */
export type ProofMode = 'spot' | 'full';

export const SESSION_ID_LENGTH = 16;
export const COIN_LENGTH = 32;
export const SIGMA_LENGTH = 64;
export const DIGEST_LENGTH = 32;

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A domain separation string followed by one 0x00 byte. */
export const dst = (name: string): Uint8Array => ascii(`${name}\0`);

const COIN_DST = dst('OVERLAP-V1-COIN');
const SIGMA_DST = dst('OVERLAP-V1-SIGMA');
const POSITIONS_DST = dst('OVERLAP-V1-POSITIONS');
const KEY_ID = /^[0-9a-f]{32}$/;
const TWO_32 = 2 ** 32;

/** SHA-256("OVERLAP-V1-COIN" ‖ 0x00 ‖ session ‖ ASCII(key id) ‖ ρ): what a join commits to. */
export function coinCommitment(sessionId: Uint8Array, keyId: string, coin: Uint8Array): Uint8Array {
  assertLength(sessionId, SESSION_ID_LENGTH, 'session id');
  assertLength(coin, COIN_LENGTH, 'coin');
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    throw new CryptoError('BAD_INPUT', 'a key id must be 32 lowercase hex digits');
  }
  return sha256(COIN_DST, sessionId, ascii(keyId), coin);
}

/** σ = SHA-512("OVERLAP-V1-SIGMA" ‖ 0x00 ‖ session ‖ ρ₀ ‖ … ‖ ρₙ₋₁), the coins in the order of the labs. */
export function challengeSeed(sessionId: Uint8Array, coins: readonly Uint8Array[]): Uint8Array {
  assertLength(sessionId, SESSION_ID_LENGTH, 'session id');
  coins.forEach((coin, i) => {
    assertLength(coin, COIN_LENGTH, `coin ${i}`);
  });
  return sha512(concatBytes(SIGMA_DST, sessionId, ...coins));
}

/**
 * The offsets within a chunk of `length` tags that its hop proves, in drawing order: every one
 * in `full` mode; in `spot` mode min(length, 135) distinct ones by rejection sampling from
 * SHA-512("OVERLAP-V1-POSITIONS" ‖ 0x00 ‖ σ ‖ D ‖ u32be(i)), i = 0, 1, …
 */
export function provenPositions(sigma: Uint8Array, digest: Uint8Array, length: number, mode: ProofMode): number[] {
  assertLength(sigma, SIGMA_LENGTH, 'challenge seed');
  assertLength(digest, DIGEST_LENGTH, 'chunk digest');
  if (!Number.isSafeInteger(length) || length < 0 || length > TWO_32) {
    throw new CryptoError('BAD_INPUT', `a chunk length must be an integer from 0 to 2^32, got ${String(length)}`);
  }
  if (mode === 'full') return Array.from({ length }, (_, j) => j);
  if (mode !== 'spot') throw new CryptoError('BAD_INPUT', `a proof mode is spot or full, got ${String(mode)}`);
  const wanted = Math.min(length, SPOT_POSITIONS);
  const positions: number[] = [];
  if (wanted === 0) return positions;
  const drawn = new Set<number>();
  const limit = TWO_32 - (TWO_32 % length);
  const input = concatBytes(POSITIONS_DST, sigma, digest, new Uint8Array(4));
  const counter = new DataView(input.buffer, input.length - 4, 4);
  for (let block = 0; block < TWO_32; block++) {
    counter.setUint32(0, block, false);
    const block64 = sha512(input);
    const words = new DataView(block64.buffer, block64.byteOffset, SIGMA_LENGTH);
    for (let w = 0; w < 16; w++) {
      const word = words.getUint32(4 * w, false);
      if (word >= limit) continue;
      const j = word % length;
      if (drawn.has(j)) continue;
      drawn.add(j);
      positions.push(j);
      if (positions.length === wanted) return positions;
    }
  }
  throw new CryptoError('BAD_INPUT', 'the position counter ran out'); // not reachable: 2^36 words
}

export function assertContext(context: { sessionId: Uint8Array; digest: Uint8Array }): void {
  assertBytes(context?.sessionId, 'session id');
  assertLength(context.sessionId, SESSION_ID_LENGTH, 'session id');
  assertLength(context.digest, DIGEST_LENGTH, 'chunk digest');
}
