/**
 * The native hash path's field arithmetic, checked against a straightforward BigInt reference.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { edwardsToMontgomeryU, reduceBigEndianModP } from '../src/field25519.js';
import { hex } from './backends.js';

const P = 2n ** 255n - 19n;
const toBig = (bytesLe: Uint8Array) => BigInt(`0x${hex(Uint8Array.from(bytesLe).reverse()) || '0'}`);
const toLe = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex')).reverse();
const pow = (b: bigint, e: bigint): bigint => {
  let r = 1n;
  let x = b % P;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
  }
  return r;
};
const referenceU = (encoded: Uint8Array) => {
  const y = toBig(encoded) & ((1n << 255n) - 1n);
  const d = (1n - y + P) % P;
  return d === 0n ? 0n : (((1n + y) % P) * pow(d, P - 2n)) % P;
};

describe('GF(2^255 - 19) helpers', () => {
  const edgeInputs = [
    new Uint8Array(48),
    new Uint8Array(48).fill(0xff),
    Uint8Array.from(
      Buffer.from(`${'00'.repeat(16)}7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed`, 'hex'),
    ), // p
    Uint8Array.from(
      Buffer.from(`${'00'.repeat(16)}7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec`, 'hex'),
    ), // p - 1
    Uint8Array.from(
      Buffer.from(`${'00'.repeat(16)}8000000000000000000000000000000000000000000000000000000000000000`, 'hex'),
    ), // 2^255
  ];

  test.each(edgeInputs.map((b) => [hex(b)]))('reduces %s like BigInt does', (h) => {
    const bytes = Uint8Array.from(Buffer.from(h, 'hex'));
    expect(hex(reduceBigEndianModP(bytes))).toBe(hex(toLe(BigInt(`0x${h}`) % P)));
  });

  test.prop([fc.uint8Array({ minLength: 48, maxLength: 48 })], { numRuns: 500 })(
    'reduces random 48-byte strings',
    (bytes) => {
      expect(hex(reduceBigEndianModP(bytes))).toBe(hex(toLe(BigInt(`0x${hex(bytes)}`) % P)));
    },
  );

  test.prop([fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 })], {
    numRuns: 50,
  })('maps y to u = (1 + y) / (1 - y) for a whole batch', (points) => {
    for (const p of points) p[31] = (p[31] as number) & 0x7f; // canonical-ish y below 2^255
    const fits = points.filter((p) => toBig(p) < P);
    if (fits.length === 0) return;
    expect(edwardsToMontgomeryU(fits).map(hex)).toEqual(fits.map((p) => hex(toLe(referenceU(p)))));
  });

  test('the identity (y = 1, either sign) maps to u = 0 inside a batch without spoiling the others', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const negated = Uint8Array.from(identity);
    negated[31] = 0x80;
    const other = new Uint8Array(32).fill(0x11);
    const [a, b, c] = edwardsToMontgomeryU([identity, other, negated]);
    expect(hex(a as Uint8Array)).toBe('00'.repeat(32));
    expect(hex(c as Uint8Array)).toBe('00'.repeat(32));
    expect(hex(b as Uint8Array)).toBe(hex(toLe(referenceU(other))));
  });
});
