/**
 * The one shape of every Overlap error (one error class per package, docs/architecture.md): a closed `code` union that
 * callers branch on, the `cause` that led to it, optional structured `details` a program can act on,
 * and a `name` per package. Each package declares its codes and instantiates this base once, in its
 * errors.ts, the way sigstore-js's `VerificationError<'TLOG_INCLUSION_PROOF_ERROR' | ...>` does:
 *
 *   export type LogErrorCode = 'BAD_HASH' | 'BAD_INDEX' | ...;
 *   export class LogError extends OverlapError<LogErrorCode> {
 *     override readonly name = 'LogError';
 *   }
 *
 * The message is for people and may change; `code` and `details` are for programs and do not.
 * Messages never carry key material or an attacker's full input (callers quote it short).
 */

export interface OverlapErrorOptions<Details extends object> {
  /** The error (or value) this one was raised for; kept as the standard `Error.cause`. */
  cause?: unknown;
  /** Structured facts about the failure (which item, which field), for programs. */
  details?: Details;
}

/** What a package's error class carries when it declares no details of its own. */
export type NoDetails = Readonly<Record<string, unknown>>;

export abstract class OverlapError<Code extends string, Details extends object = NoDetails> extends Error {
  /** The class's own name (`CryptoError`, `RelayError`, …): set by each subclass, never inferred. */
  abstract override readonly name: string;
  readonly code: Code;
  /** Absent (not even an own property) when the error was raised without details. */
  declare readonly details?: Details;

  constructor(code: Code, message: string, options: OverlapErrorOptions<Details> = {}) {
    // `cause: undefined` given explicitly is kept as such, as Error itself does.
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}
