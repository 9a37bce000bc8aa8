/**
 * The one error type of @overlap/relay. Callers branch on `code`, never on the message.
 */

export type RelayErrorCode = 'BAD_LISTEN_ADDRESS' | 'LISTEN_FAILED';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: RelayErrorCode;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
