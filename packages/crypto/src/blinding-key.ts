/**
 * A lab's per-session blinding key k for blind(k, u) = X25519(k, u).
 *
 * Threat: the key is what keeps a lab's tags unlinkable to its indicators; whoever holds it can
 * test guesses against that lab's set. So it is 32 bytes from the platform CSPRNG, lives only in
 * memory, is zeroed by `dispose()` (or a `using` declaration) when the session ends, refuses use
 * afterwards, and prints as `[redacted]` in logs, JSON and util.inspect.
 */
import { assertLength, isAllZero, wipe } from './bytes.js';
import { POINT_LENGTH } from './ciphersuite.js';
import { CryptoError } from './errors.js';

const REDACTED = 'BlindingKey [redacted]';

export class BlindingKey {
  #bytes: Uint8Array | undefined;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** A fresh key: 32 bytes from the platform CSPRNG (crypto.getRandomValues). */
  static generate(): BlindingKey {
    return new BlindingKey(globalThis.crypto.getRandomValues(new Uint8Array(POINT_LENGTH)));
  }

  /** A key from existing bytes (copied; wipe your copy). For vectors and resumed sessions. */
  static fromBytes(bytes: Uint8Array): BlindingKey {
    assertLength(bytes, POINT_LENGTH, 'blinding key');
    // All-zero bytes are what a wiped key looks like; no generator ever produces them.
    if (isAllZero(bytes)) throw new CryptoError('BAD_INPUT', 'a blinding key must not be all zero bytes');
    return new BlindingKey(Uint8Array.from(bytes));
  }

  get disposed(): boolean {
    return this.#bytes === undefined;
  }

  /**
   * The key's bytes themselves (not a copy), for the backends and batch workers. Never log,
   * store or send them anywhere but to a worker of this process.
   */
  exposeSecret(): Uint8Array {
    if (this.#bytes === undefined) throw new CryptoError('KEY_DISPOSED', 'this blinding key was disposed');
    return this.#bytes;
  }

  /** Zeroes the key. Idempotent. */
  dispose(): void {
    if (this.#bytes) wipe(this.#bytes);
    this.#bytes = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
