/**
 * The one error type of @overlap/protocol. Callers branch on `code`, never on the message.
 * Validation failures carry every problem found, each with its path, not only the first.
 */

export type ProtocolErrorCode =
  /** A message is well-encoded but its content is invalid (every problem is in `issues`). */
  | 'INVALID_MESSAGE'
  /** Bytes that are not the deterministic CBOR this protocol uses (the offset is in the message). */
  | 'BAD_ENCODING'
  /** An envelope whose signature does not verify, or whose header does not match its payload. */
  | 'BAD_ENVELOPE'
  /** A value this protocol's encoding cannot carry (a fraction, an unsafe integer, undefined). */
  | 'UNENCODABLE';

export interface ProtocolIssue {
  /** Where the problem is, as a path of keys and indexes from the message root. */
  path: readonly (string | number)[];
  message: string;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly issues: readonly ProtocolIssue[];

  constructor(
    code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ProtocolIssue[] },
  ) {
    super(message, options);
    this.code = code;
    this.issues = options?.issues ?? [];
  }
}
