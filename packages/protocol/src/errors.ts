/**
 * The one error type of @overlap/protocol. Callers branch on `code`, never on the message.
 * Validation failures carry every problem found, each with its path, not only the first.
 *
 * Two families of codes share it. The message checks (spec/errors.md §3) say what is wrong with a
 * message a lab, the relay or an auditor decodes; the relay reports each under a wire code of its
 * own. The request-signature checks (RFC 9421, http-signature.ts; spec/relay-api.md §2.2) are wire
 * codes already (spec/errors.md §2, each a 401): the relay answers them as they are.
 */
import { OverlapError } from '@overlap/errors';

/** Codes of the message checks: decoding, envelopes, schemas (spec/errors.md §3). */
export type MessageErrorCode =
  /** A message is well-encoded but its content is invalid (every problem is in `issues`). */
  | 'INVALID_MESSAGE'
  /** Bytes that are not the deterministic CBOR this protocol uses (the offset is in the message). */
  | 'BAD_ENCODING'
  /** An envelope whose signature does not verify, or whose header does not match its payload. */
  | 'BAD_ENVELOPE'
  /** A value this protocol's encoding cannot carry (a fraction, an unsafe integer, undefined). */
  | 'UNENCODABLE';

/** Codes of the request-signature profile (RFC 9421 with RFC 9530 Content-Digest), in the order they are checked. */
export const HTTP_SIGNATURE_ERROR_CODES = [
  /** No Signature-Input or no Signature header. */
  'SIGNATURE_MISSING',
  /**
   * A header or parameter outside the profile, a Structured Field (RFC 8941) that does not parse, or
   * signRequest inputs that cannot make a valid one.
   */
  'SIGNATURE_MALFORMED',
  /** expires <= created, or expires - created is more than the maximum window. */
  'SIGNATURE_WINDOW_TOO_LONG',
  /** created > now + clock skew. */
  'SIGNATURE_NOT_YET_VALID',
  /** now > expires + clock skew. */
  'SIGNATURE_EXPIRED',
  /** A body without a covered Content-Digest, or a Content-Digest without sha-256. */
  'DIGEST_MISSING',
  /** No usable public key for the keyid. */
  'UNKNOWN_KEY',
  /** The Ed25519 signature does not verify. */
  'SIGNATURE_INVALID',
  /** The body's SHA-256 is not the one in Content-Digest. */
  'DIGEST_MISMATCH',
] as const;

export type HttpSignatureErrorCode = (typeof HTTP_SIGNATURE_ERROR_CODES)[number];

export type ProtocolErrorCode = MessageErrorCode | HttpSignatureErrorCode;

export interface ProtocolIssue {
  /** Where the problem is, as a path of keys and indexes from the message root. */
  path: readonly (string | number)[];
  message: string;
}

export class ProtocolError extends OverlapError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
  readonly issues: readonly ProtocolIssue[];

  constructor(
    code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ProtocolIssue[] },
  ) {
    super(code, message, options && 'cause' in options ? { cause: options.cause } : {});
    this.issues = options?.issues ?? [];
  }

  /** Whether this error is a request-signature failure, which the relay answers with its own code. */
  isHttpSignatureError(): this is ProtocolError & { readonly code: HttpSignatureErrorCode } {
    return (HTTP_SIGNATURE_ERROR_CODES as readonly string[]).includes(this.code);
  }
}
