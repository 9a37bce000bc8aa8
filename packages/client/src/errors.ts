/**
 * The one error type of @overlap/client. Callers branch on `code`, never on the message.
 */

export type ClientErrorCode = 'BAD_RELAY_URL' | 'RELAY_UNREACHABLE' | 'RELAY_UNHEALTHY';

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
