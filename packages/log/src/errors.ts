/**
 * The one error type of @overlap/log. Callers branch on `code`, never on the message.
 * A proof that does not verify is a `false` result, not an error; errors are for malformed input.
 */
import { OverlapError } from '@overlap/errors';

export type LogErrorCode =
  /** A hash is not 32 bytes. */
  | 'BAD_HASH'
  /** A size or index is negative, fractional, or out of range. */
  | 'BAD_INDEX'
  /** Text that is not a well-formed C2SP signed note. */
  | 'BAD_NOTE'
  /** A note text that is not a well-formed C2SP checkpoint. */
  | 'BAD_CHECKPOINT'
  /** A note whose signatures do not satisfy the verifier (a known key failed, or none verified). */
  | 'NOTE_NOT_VERIFIED'
  /** A signer or verifier key that cannot be used (bad name, bad public key). */
  | 'BAD_KEY'
  /** A C2SP tlog-witness `add-checkpoint` body that is not well formed. */
  | 'BAD_WITNESS_REQUEST';

export class LogError extends OverlapError<LogErrorCode> {
  override readonly name = 'LogError';
}
