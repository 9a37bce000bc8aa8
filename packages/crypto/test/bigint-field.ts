/** BigInt helpers for tests: plain, obviously-correct arithmetic to check the real code against. */
export const P = 2n ** 255n - 19n;

/** A number below 2^256 as 32 little-endian bytes. */
export function numberToBytesLE(x: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex')).reverse();
}
