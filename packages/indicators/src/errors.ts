/**
 * The one error type of @overlap/indicators. Callers branch on `code`, never on the message.
 */

export type IndicatorErrorCode = 'UNKNOWN_KIND';

export class IndicatorError extends Error {
  override readonly name = 'IndicatorError';
  readonly code: IndicatorErrorCode;

  constructor(code: IndicatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
