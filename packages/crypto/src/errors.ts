/**
 * The one error type of @overlap/crypto. Callers branch on `code`, never on the message.
 *
 * A primitive that checks something (a signature, a MAC) returns `false` when the check fails;
 * it throws a `CryptoError` only when its input is malformed.
 */

export type CryptoErrorCode = 'BAD_TYPE' | 'BAD_LENGTH';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
