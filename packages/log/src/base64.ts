/**
 * Standard, padded base64 (RFC 4648 §4) as the note and checkpoint formats use it. Decoding is
 * strict: Buffer's decoder skips white space and accepts the URL-safe alphabet, so the bytes are
 * re-encoded and must give back the exact text.
 */

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The bytes of `text`, or undefined when `text` is not their one canonical base64 spelling. */
export function decodeCanonicalBase64(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? Uint8Array.from(bytes) : undefined;
}
