/**
 * SHA-256 (FIPS 180-4), the digest of the transparency log (RFC 9162) and of message payloads.
 * Portable by default (@noble/hashes); on Node.js, `@overlap/crypto/node` installs node:crypto's
 * (OpenSSL's): measured on the project's machine it hashes a 2 MB tag chunk in ~1.2 ms where
 * @noble/hashes takes ~20 ms, and the relay hashes every chunk several times.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './bytes.js';
import { currentPlatform } from './platform.js';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  parts.forEach((part, i) => {
    assertBytes(part, `sha256 part ${i}`);
  });
  return (currentPlatform().sha256 ?? portableSha256)(parts);
}

/** @noble/hashes' SHA-256, fed part by part: the portable implementation, and the tests' oracle for the native one. */
export function portableSha256(parts: readonly Uint8Array[]): Uint8Array {
  const hash = nobleSha256.create();
  for (const part of parts) hash.update(part);
  return hash.digest();
}
