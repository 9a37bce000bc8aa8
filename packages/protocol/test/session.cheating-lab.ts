/**
 * The malicious-lab harness of the cheating tests and of scripts/detection-rate.ts: field
 * arithmetic mod p computed here with big integers (independent of the crypto package), points
 * that a hop must not output (twist points, random strings, 1/u), and `cheatAs`, which plugs a
 * LabSession subclass (LabSession's test seam) in for one lab of an in-memory session.
 */
import { hashToGroup } from '@overlap/crypto';
import { LabSession, type LabSessionOptions, tagAt, tagCount } from '../src/index.js';

export const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup G of edwards25519. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const A = 486662n;

export function toInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

export function fromInt(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** 1/u mod p: the tag an honest X25519 cannot tell from u (it is the u of P + T₂). */
export function inverseTag(tag: Uint8Array): Uint8Array {
  return fromInt(power(toInt(tag), P - 2n));
}

/** 32 random bytes that are a canonical, non-zero field element (what the relay accepts as a tag). */
export function randomTag(): Uint8Array {
  for (;;) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
    bytes[31] = (bytes[31] as number) & 0x7f;
    const u = toInt(bytes);
    if (u > 1n && u < P - 1n) return bytes;
  }
}

/** A u of the quadratic twist: u³ + Au² + u is not a square mod p. */
export function twistTag(): Uint8Array {
  for (;;) {
    const tag = randomTag();
    const u = toInt(tag);
    const rhs = (((u * u) % P) * u + ((A * u) % P) * u + u) % P;
    if (power(rhs, (P - 1n) / 2n) === P - 1n) return tag;
  }
}

/** A fresh point of G (an unkeyed hash of a random value): what a hop "nullifying" a set outputs. */
export function freshTag(): Uint8Array {
  return hashToGroup('email', `fresh-${crypto.randomUUID()}@example.com`);
}

/** A packed chunk with `change(tag, i)` applied to each tag. */
export function mapTags(tags: Uint8Array, change: (tag: Uint8Array, i: number) => Uint8Array): Uint8Array {
  const out = new Uint8Array(tags.length);
  for (let i = 0; i < tagCount(tags); i++) out.set(change(tagAt(tags, i), i), i * 32);
  return out;
}

/** `createLab` for runSessionInMemory: lab `cheater` is built by `make`, every other lab is honest. */
export function cheatAs(cheater: string, make: (options: LabSessionOptions) => LabSession) {
  return (options: LabSessionOptions): LabSession => (options.me === cheater ? make(options) : new LabSession(options));
}
