/**
 * The one error type of @overlap/crypto. Callers branch on `code`, never on the message.
 *
 * A primitive that checks something (a signature, a MAC) returns `false` when the check fails;
 * it throws a `CryptoError` only when its input is malformed. Messages never contain key material.
 */
import { OverlapError } from '@overlap/errors';

export type CryptoErrorCode =
  /** An input is not of the expected type (a string where bytes belong, …). */
  | 'BAD_TYPE'
  /** A byte string has the wrong length. */
  | 'BAD_LENGTH'
  /** Text that should be lowercase hex is not. */
  | 'BAD_HEX'
  /** A kind or value cannot be hashed (empty kind, NUL in the kind, a lone surrogate, …). */
  | 'BAD_INPUT'
  /** X25519 gave the all-zero output: the input point has small order. */
  | 'LOW_ORDER_POINT'
  /** A public key is not a valid encoding or has small order. */
  | 'BAD_PUBLIC_KEY'
  /** A key object was used after `dispose()`. */
  | 'KEY_DISPOSED'
  /** The requested crypto backend cannot be loaded here. */
  | 'BACKEND_UNAVAILABLE'
  /** A batch worker thread failed or could not start. */
  | 'WORKER_FAILED'
  /** A key file is unreadable, malformed or corrupted. */
  | 'BAD_KEY_FILE'
  /** A key file is encrypted and no passphrase was given. */
  | 'PASSPHRASE_REQUIRED'
  /** A key file's passphrase is wrong (or its ciphertext was altered). */
  | 'WRONG_PASSPHRASE'
  /** A sealed box cannot be opened: wrong recipient, altered or truncated. */
  | 'SEALED_BOX_OPEN_FAILED'
  /** A hop proof's input tag does not lie in G (spec/ciphersuite.md §10); `details.index` says which. */
  | 'NOT_IN_GROUP';

export interface CryptoErrorDetails {
  /** For an error about one item of a batch: its position in the batch's input. */
  readonly index?: number;
}

export class CryptoError extends OverlapError<CryptoErrorCode, CryptoErrorDetails> {
  override readonly name = 'CryptoError';
}
