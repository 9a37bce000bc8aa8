/**
 * Sealed boxes to a lab's X25519 sealing key, byte-compatible with libsodium's crypto_box_seal:
 *   sealed = epk || crypto_box(m, nonce = BLAKE2b-192(epk || pk), pk, esk)
 * with a fresh ephemeral key pair (epk, esk) per message, erased right after use. Only the holder
 * of the sealing secret key can open it; the sender stays anonymous (authenticate it by signing).
 * tweetnacl supplies crypto_box (X25519, XSalsa20-Poly1305); @noble/hashes supplies BLAKE2b. A
 * key pair's public key is X25519(sk, 9) on the crypto backend (libsodium's crypto_scalarmult on
 * Node.js: tweetnacl's, in JavaScript, took ~40 ms of a lab process's start-up).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import nacl from 'tweetnacl';
import { getBackend } from './backend-select.js';
import { assertBytes, assertLength, concatBytes, isAllZero, wipe } from './bytes.js';
import { CryptoError } from './errors.js';

export const SEALING_KEY_LENGTH = 32;
/** Bytes a sealed box adds to its message: the ephemeral public key and the MAC. */
export const SEALED_BOX_OVERHEAD = 32 + nacl.box.overheadLength;

export interface SealingKeyPair {
  /** X25519 secret key. Secret: wipe it when done. */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The X25519 base point, u = 9 (RFC 7748 §4.1). */
const BASE_POINT = Uint8Array.of(9, ...new Uint8Array(31));

/** A fresh key pair: 32 random bytes and X25519(sk, 9), as crypto_box_keypair makes. */
export function generateSealingKeyPair(): SealingKeyPair {
  const secretKey = globalThis.crypto.getRandomValues(new Uint8Array(SEALING_KEY_LENGTH));
  return { publicKey: sealingPublicKey(secretKey), secretKey };
}

/** X25519(sk, 9) (RFC 7748: the scalar clamped), as crypto_scalarmult_base. */
export function sealingPublicKey(secretKey: Uint8Array): Uint8Array {
  assertLength(secretKey, SEALING_KEY_LENGTH, 'sealing secret key');
  return getBackend().x25519(secretKey, BASE_POINT);
}

export function seal(message: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  assertBytes(message, 'message');
  assertLength(recipientPublicKey, SEALING_KEY_LENGTH, 'recipient sealing public key');
  const ephemeral = nacl.box.keyPair();
  try {
    const nonce = sealNonce(ephemeral.publicKey, recipientPublicKey);
    const box = nacl.box(message, nonce, recipientPublicKey, ephemeral.secretKey);
    return concatBytes(ephemeral.publicKey, box);
  } finally {
    wipe(ephemeral.secretKey);
  }
}

/** Opens a sealed box; `SEALED_BOX_OPEN_FAILED` if it is not for this key or was altered. */
export function openSealed(sealed: Uint8Array, recipient: SealingKeyPair): Uint8Array {
  assertBytes(sealed, 'sealed box');
  assertLength(recipient.secretKey, SEALING_KEY_LENGTH, 'recipient sealing secret key');
  assertLength(recipient.publicKey, SEALING_KEY_LENGTH, 'recipient sealing public key');
  if (sealed.length < SEALED_BOX_OVERHEAD) {
    throw new CryptoError('SEALED_BOX_OPEN_FAILED', `sealed box is ${sealed.length} bytes, shorter than its overhead`);
  }
  const ephemeralPublicKey = sealed.subarray(0, 32);
  // libsodium refuses a low-order ephemeral key (its shared secret is all zero); so do we.
  if (isAllZero(nacl.scalarMult(recipient.secretKey, ephemeralPublicKey))) {
    throw new CryptoError('SEALED_BOX_OPEN_FAILED', 'sealed box has a low-order ephemeral key');
  }
  const nonce = sealNonce(ephemeralPublicKey, recipient.publicKey);
  const message = nacl.box.open(sealed.subarray(32), nonce, ephemeralPublicKey, recipient.secretKey);
  if (message === null) {
    throw new CryptoError(
      'SEALED_BOX_OPEN_FAILED',
      'sealed box does not open with this key (wrong recipient or altered)',
    );
  }
  return message;
}

function sealNonce(ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return blake2b(concatBytes(ephemeralPublicKey, recipientPublicKey), { dkLen: nacl.box.nonceLength });
}
