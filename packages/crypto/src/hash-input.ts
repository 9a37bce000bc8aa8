/**
 * The message that hash_to_group hashes (spec/ciphersuite.md, "hash_to_group"):
 * UTF-8(kind) || 0x00 || UTF-8(value).
 *
 * Threat: two different (kind, value) pairs must never produce the same message, or a lab could
 * match an indicator of one kind with a different one. The kind is therefore non-empty and free of
 * U+0000 (so the first 0x00 ends it), and both strings must be well-formed Unicode: a lone surrogate
 * would be encoded as U+FFFD and collide with a real U+FFFD.
 */
import { CryptoError } from './errors.js';

const encoder = new TextEncoder();

export function hashToGroupMessage(kind: string, value: string): Uint8Array {
  if (typeof kind !== 'string' || typeof value !== 'string') {
    throw new CryptoError('BAD_TYPE', 'hash_to_group takes a kind and a value that are strings');
  }
  if (kind.length === 0) throw new CryptoError('BAD_INPUT', 'the kind must not be empty');
  if (kind.includes('\0')) throw new CryptoError('BAD_INPUT', 'the kind must not contain U+0000');
  if (!isWellFormed(kind)) throw new CryptoError('BAD_INPUT', 'the kind is not well-formed Unicode (lone surrogate)');
  if (value.length === 0) throw new CryptoError('BAD_INPUT', `the ${shown(kind)} value must not be empty`);
  if (!isWellFormed(value)) {
    throw new CryptoError('BAD_INPUT', `the ${shown(kind)} value is not well-formed Unicode (lone surrogate)`);
  }
  const kindBytes = encoder.encode(kind);
  const valueBytes = encoder.encode(value);
  const message = new Uint8Array(kindBytes.length + 1 + valueBytes.length);
  message.set(kindBytes, 0);
  message.set(valueBytes, kindBytes.length + 1);
  return message;
}

/** String.prototype.isWellFormed (ES2024) without relying on the runtime having it. */
function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** A kind as it may appear in a message: attacker-chosen text, so bounded and without line breaks. */
function shown(kind: string): string {
  return /^[a-z][a-z0-9_]{0,31}$/.test(kind) ? kind : JSON.stringify(kind.slice(0, 32));
}
