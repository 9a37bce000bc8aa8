/**
 * The joint challenge of spec/ciphersuite.md §10 against the text written again in the test
 * (node:crypto's hashes): coin commitments, σ from the coins in lab order, and the positions —
 * distinct, in range, min(len, 135) of them in spot mode, 0 … len − 1 in full mode, drawn by
 * rejection sampling exactly as an independent implementation draws them.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { challengeSeed, coinCommitment, provenPositions, SPOT_POSITIONS } from '../src/index.js';
import { hex } from './backends.js';
import { refCoin, refPositions, refSigma, sha512 } from './hop-proof-reference.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const keyId = fc.stringMatching(/^[0-9a-f]{32}$/);

describe('coin commitments and the challenge seed', () => {
  test.prop([bytes(16), keyId, bytes(32)])('coin commitment = SHA-256(DST ‖ session ‖ key id ‖ ρ)', (s, id, coin) => {
    expect(hex(coinCommitment(s, id, coin))).toBe(hex(refCoin(s, id, coin)));
  });

  test.prop([bytes(16), fc.array(bytes(32), { minLength: 1, maxLength: 5 })])(
    'σ = SHA-512(DST ‖ session ‖ ρ₀ ‖ …)',
    (s, coins) => {
      const sigma = challengeSeed(s, coins);
      expect(sigma).toHaveLength(64);
      expect(hex(sigma)).toBe(hex(refSigma(s, coins)));
    },
  );

  test('σ depends on the order of the coins', () => {
    const [x, y] = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    expect(hex(challengeSeed(new Uint8Array(16), [x, y]))).not.toBe(hex(challengeSeed(new Uint8Array(16), [y, x])));
  });

  test('malformed inputs are refused', () => {
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(() => coinCommitment(new Uint8Array(16), 'AB'.repeat(16), new Uint8Array(32))).toThrow(code('BAD_INPUT'));
    expect(() => coinCommitment(new Uint8Array(16), 'ab'.repeat(15), new Uint8Array(32))).toThrow(code('BAD_INPUT'));
    expect(() => coinCommitment(new Uint8Array(15), 'ab'.repeat(16), new Uint8Array(32))).toThrow(code('BAD_LENGTH'));
    expect(() => coinCommitment(new Uint8Array(16), 'ab'.repeat(16), new Uint8Array(31))).toThrow(code('BAD_LENGTH'));
    expect(() => challengeSeed(new Uint8Array(16), [new Uint8Array(33)])).toThrow(code('BAD_LENGTH'));
  });
});

describe('positions', () => {
  const sigma = refSigma(new Uint8Array(16).fill(3), [new Uint8Array(32).fill(4)]);
  const digest = new Uint8Array(32).fill(5);

  test.each([1, 2, 3, 7, 134, 135, 136, 1000, 65_536, 2 ** 31 + 1, 2 ** 32])('spot, length %i', (length) => {
    const positions = provenPositions(sigma, digest, length, 'spot');
    expect(positions).toHaveLength(Math.min(length, SPOT_POSITIONS));
    expect(new Set(positions).size).toBe(positions.length);
    for (const j of positions) expect(Number.isInteger(j) && j >= 0 && j < length).toBe(true);
    expect(positions).toEqual(refPositions(sigma, digest, length, 'spot'));
  });

  test('a length just above 2^31 rejects about half the words (the rejection path is taken)', () => {
    // limit = 2^32 − (2^32 mod (2^31 + 1)) = 2^31 + 1: a modulo reduction instead would differ
    const length = 2 ** 31 + 1;
    const positions = provenPositions(sigma, digest, length, 'spot');
    expect(positions.every((j) => j < length)).toBe(true);
    expect(positions).toEqual(refPositions(sigma, digest, length, 'spot'));
    const block = Buffer.from(sha512(Buffer.from('OVERLAP-V1-POSITIONS\0'), sigma, digest, new Uint8Array(4)));
    const words = Array.from({ length: 16 }, (_, w) => block.readUInt32BE(4 * w));
    expect(words.some((w) => w >= length)).toBe(true); // some words were skipped …
    expect(positions.slice(0, 16)).not.toEqual(words.map((w) => w % length)); // … not reduced
  });

  test.prop([bytes(64), bytes(32), fc.integer({ min: 1, max: 200_000 })], { numRuns: 200 })(
    'any σ, D and length: the independent implementation draws the same',
    (s, d, length) => {
      expect(provenPositions(s, d, length, 'spot')).toEqual(refPositions(s, d, length, 'spot'));
    },
  );

  test.each([0, 1, 5, 135, 1000])('full, length %i: 0 … len − 1', (length) => {
    expect(provenPositions(sigma, digest, length, 'full')).toEqual([...Array(length).keys()]);
  });

  test('an empty chunk has no positions; another digest draws others', () => {
    expect(provenPositions(sigma, digest, 0, 'spot')).toEqual([]);
    const other = provenPositions(sigma, new Uint8Array(32).fill(6), 65_536, 'spot');
    expect(other).not.toEqual(provenPositions(sigma, digest, 65_536, 'spot'));
  });

  test('malformed inputs are refused', () => {
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(() => provenPositions(sigma.subarray(1), digest, 10, 'spot')).toThrow(code('BAD_LENGTH'));
    expect(() => provenPositions(sigma, digest.subarray(1), 10, 'spot')).toThrow(code('BAD_LENGTH'));
    expect(() => provenPositions(sigma, digest, -1, 'spot')).toThrow(code('BAD_INPUT'));
    expect(() => provenPositions(sigma, digest, 1.5, 'spot')).toThrow(code('BAD_INPUT'));
    expect(() => provenPositions(sigma, digest, 2 ** 32 + 1, 'spot')).toThrow(code('BAD_INPUT'));
    expect(() => provenPositions(sigma, digest, 10, 'all' as 'spot')).toThrow(code('BAD_INPUT'));
  });
});
