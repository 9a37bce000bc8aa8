/**
 * SHA-256 (FIPS 180-4), the digest of the transparency log (RFC 9162) and of message payloads.
 * Taken from @noble/hashes so the same code runs in Node and in a browser.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './bytes.js';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = nobleSha256.create();
  parts.forEach((part, i) => {
    assertBytes(part, `sha256 part ${i}`);
    hash.update(part);
  });
  return hash.digest();
}
