/**
 * The one error type of @overlap/relay. Callers branch on `code`, never on the message. Every code
 * that can reach a client has its HTTP status here, in one place: the table of spec/errors.md §2
 * (a test checks that the two agree). Operator-side codes never reach a client: the server answers
 * them as 500 INTERNAL.
 */
import { OverlapError } from '@overlap/errors';

const STATUS = {
  BAD_CBOR: 400,
  BAD_ENVELOPE: 400,
  BAD_REQUEST: 400,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  SIGNATURE_NOT_YET_VALID: 401,
  SIGNATURE_WINDOW_TOO_LONG: 401,
  DIGEST_MISSING: 401,
  DIGEST_MISMATCH: 401,
  UNKNOWN_KEY: 401,
  NONCE_REPLAYED: 401,
  KEY_REVOKED: 403,
  KEY_EXPIRED: 403,
  NOT_A_SESSION_LAB: 403,
  SENDER_MISMATCH: 403,
  NOT_ADMIN: 403,
  QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  NO_SUCH_SESSION: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  CHAIN_BROKEN: 409,
  SESSION_EXISTS: 409,
  SESSION_CLOSED: 409,
  BODY_TOO_LARGE: 413,
  SET_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PROTOCOL_VIOLATION: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
  BUSY: 503,
} as const;

/** Codes a client can receive, with their HTTP status. */
export type RelayHttpErrorCode = keyof typeof STATUS;

/** Codes of operator-facing failures (start-up, storage, fsck). */
export type RelayOperatorErrorCode =
  | 'BAD_LISTEN_ADDRESS'
  | 'LISTEN_FAILED'
  | 'BAD_CONFIG'
  | 'NOT_INITIALIZED'
  | 'ALREADY_INITIALIZED'
  | 'DB_OPEN_FAILED'
  | 'DB_LOCKED'
  | 'STORAGE_CORRUPT'
  | 'BAD_TLS'
  | 'ACCESS_LOG_FAILED'
  | 'BACKUP_EXISTS'
  | 'BACKUP_FAILED';

export type RelayErrorCode = RelayHttpErrorCode | RelayOperatorErrorCode;

export class RelayError extends OverlapError<RelayErrorCode> {
  override readonly name = 'RelayError';
  /** Seconds, for RATE_LIMITED, BUSY and STORAGE_UNAVAILABLE (the Retry-After header). */
  readonly retryAfter: number | undefined;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(code, message, options && 'cause' in options ? { cause: options.cause } : {});
    this.retryAfter = options?.retryAfter;
  }
}

/** Whether a code is one a client can receive (the others are answered as INTERNAL). */
export function isHttpErrorCode(code: RelayErrorCode): code is RelayHttpErrorCode {
  return Object.hasOwn(STATUS, code);
}

/** The HTTP status of an error code; operator-side codes are 500. */
export function httpStatusOf(code: RelayErrorCode): number {
  return (STATUS as Record<string, number>)[code] ?? 500;
}

export const HTTP_ERROR_CODES = Object.keys(STATUS) as RelayHttpErrorCode[];
