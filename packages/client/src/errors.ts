/**
 * The one error type of @overlap/client. Callers branch on `code` (and, for `RELAY_REFUSED`, on
 * `relayCode`, the relay's own code from the table of spec/errors.md §2), never on the message.
 */
import { OverlapError } from '@overlap/errors';

export type ClientErrorCode =
  | 'BAD_RELAY_URL'
  | 'RELAY_UNREACHABLE'
  | 'RELAY_UNHEALTHY'
  /** The relay answered 4xx (other than 408 and 429, which are retried): `status` and `relayCode` say why. */
  | 'RELAY_REFUSED'
  /**
   * Every attempt failed (network errors, 5xx, 408, 429) within the retry budget: the relay may be
   * down or overloaded. When the last failure was an answer, `status` and `relayCode` say which.
   */
  | 'RELAY_UNAVAILABLE'
  /**
   * The TLS handshake failed for a reason retrying does not cure: the relay does not speak TLS on
   * that port, or its certificate is not one this lab trusts (unknown CA, expired, another host name).
   */
  | 'TLS_FAILED'
  /** The relay's answer does not decode or does not have the shape spec/relay-api.md gives it. */
  | 'BAD_RESPONSE'
  /** A receipt or checkpoint does not verify against the log's key, or the log is not append-only. */
  | 'RECEIPT_INVALID'
  /** A signed request (a POST or a read of session data) on a client built without a signer. */
  | 'NO_SIGNER'
  /** A method was called with an argument the API cannot carry (a malformed session id, a negative index). */
  | 'BAD_ARGUMENT'
  /** A session results document (formatResults) that does not have the shape results have. */
  | 'BAD_RESULTS'
  /** An input file cannot be read (missing, a directory, no permission, an I/O error): the message names it and the OS reason. */
  | 'INPUT_UNREADABLE'
  /** This lab's key is not (or no longer) enrolled at the relay. */
  | 'NOT_ENROLLED'
  /** The session is already `done` or `aborted`: nothing can be run or aborted in it any more. */
  | 'SESSION_FINISHED'
  /** This lab already took part in the session, and the state that would continue it is not here. */
  | 'STATE_MISSING'
  /** The relay announces a log key or admin key other than the one this lab configured or pinned: both are named. */
  | 'TRUST_ROOT_MISMATCH'
  /** No trust roots are configured or pinned for this relay, and the lab requires them. */
  | 'TRUST_ROOT_MISSING'
  /** A checkpoint contradicts the one this lab remembers (a fork or a rollback): evidence was written, its path named. */
  | 'LOG_INCONSISTENT'
  /** What the relay handed out as a log entry is not that entry of its log (or beyond its checkpoint): not acted on. */
  | 'NOT_INCLUDED'
  /** No checkpoint covering an entry was cosigned by the witness policy's quorum within the wait: not acted on. */
  | 'WITNESS_QUORUM_UNMET'
  /** Another process holds a file of this lab's (its trust record) for longer than the wait. */
  | 'STATE_LOCKED'
  /** A file of this lab's (its trust record) is not what this program writes. */
  | 'STATE_DAMAGED';

export interface ClientErrorOptions {
  cause?: unknown;
  /** HTTP status of the answer that caused the error, when there was one. */
  status?: number;
  /** The relay's error code (`error.code` of the body), for `RELAY_REFUSED` and `RELAY_UNAVAILABLE`. */
  relayCode?: string;
}

export class ClientError extends OverlapError<ClientErrorCode> {
  override readonly name = 'ClientError';
  readonly status: number | undefined;
  readonly relayCode: string | undefined;

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.status = options.status;
    this.relayCode = options.relayCode;
  }
}
