/**
 * The one error type of @overlap/log. Callers branch on `code`, never on the message.
 * A proof that does not verify is a `false` result, not an error; errors are for malformed input.
 */

export type LogErrorCode = 'BAD_HASH' | 'BAD_INDEX';

export class LogError extends Error {
  override readonly name = 'LogError';
  readonly code: LogErrorCode;

  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
