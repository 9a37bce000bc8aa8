/**
 * Standard, padded base64 (RFC 4648 §4), decoded strictly: the one text spelling of some bytes, as
 * the C2SP note and checkpoint formats (@overlap/log) and RFC 8941 Byte Sequences (@overlap/protocol's
 * request signatures) use it. Decoding refuses white space, the URL-safe alphabet, missing padding
 * and non-zero pad bits, so that encode ∘ decode is the identity and no two spellings mean the same
 * bytes. Pure JavaScript, no Buffer: it runs in a browser.
 */
import { assertBytes } from './bytes.js';

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The padded base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((shift) => BASE64_ALPHABET[(n >> shift) & 63] as string);
    const kept = Math.min(4, bytes.length - i + 1);
    out += chars.slice(0, kept).join('') + '='.repeat(4 - kept);
  }
  return out;
}

/** The bytes of canonical padded base64, or undefined for anything else (so encode ∘ decode = id). */
export function fromCanonicalBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let n = 0;
  let bits = 0;
  let j = 0;
  for (const c of text) {
    if (c === '=') break;
    n = ((n << 6) | BASE64_ALPHABET.indexOf(c)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[j++] = (n >> bits) & 0xff;
    }
  }
  // leftover pad bits must be zero, or two encodings would decode to the same bytes
  if ((n & ((1 << bits) - 1)) !== 0) return undefined;
  return bytes;
}
