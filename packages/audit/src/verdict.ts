/**
 * What one audit check says (spec/audit.md): its name, whether it holds, a code a program can act
 * on, a sentence for people, when the problem is at one log entry that entry's index, and when the
 * check can tell who is at fault, the culprit's key id (a lab's, or the relay's).
 *
 * Each check is a function that either returns the sentence saying what held, or throws an
 * `AuditError` with the code of what it caught; `runCheck` turns either into a verdict.
 */
import { AuditError, type AuditErrorCode } from './errors.js';

/** The checks, in the order they are reported (spec/audit.md, "Checks, in order"). */
export const AUDIT_CHECKS = [
  'transcript',
  'admin key',
  'checkpoints',
  'membership',
  'log order',
  'signatures',
  'sender chains',
  'receipts',
  'session terms',
  'key commitments',
  'hops',
  'chunk cut',
  'distinctness',
  'proof request',
  'reveals',
  'challenge',
  'chosen inputs',
  'hop proofs',
  'results',
  'abort',
] as const;
/** Run after them, only when the auditor gives a witness policy (spec/audit.md check 21). */
export const WITNESS_CHECK = 'witnesses';
export type AuditCheckName = (typeof AUDIT_CHECKS)[number] | typeof WITNESS_CHECK;

interface VerdictFields {
  name: AuditCheckName;
  /** What held, or what was caught and where: for people, not for branching. */
  detail: string;
  /** The log index of the entry at fault, when the failure is at one entry. */
  index?: number;
  /** The key id of the party at fault (a lab's, or the relay's), when the check can tell. */
  culprit?: string;
}

/**
 * One check's verdict. `ok` is true when it holds (`code` `OK`), false when it failed (`code` says
 * what it caught), undefined when it could not run because a check it needs failed (`NOT_CHECKED`).
 */
export type AuditVerdict =
  | (VerdictFields & { ok: true; code: 'OK' })
  | (VerdictFields & { ok: false; code: AuditErrorCode })
  | (VerdictFields & { ok: undefined; code: 'NOT_CHECKED' });

export type AuditVerdictCode = AuditVerdict['code'];

/**
 * Runs one check's body: its sentence makes a passing verdict, an `AuditError` a failing one with
 * that code. Any other error (a malformed payload caught by protocol or log) fails the check with
 * `fallback`: hostile input must fail the check it reached, never pass it or end the audit.
 */
export function runCheck(name: AuditCheckName, fallback: AuditErrorCode, body: () => string): AuditVerdict {
  return runValueCheck(name, fallback, body, (detail) => detail).verdict;
}

/** `runCheck` for a check that also yields what the later checks need: `value`, absent when it failed. */
export function runValueCheck<T>(
  name: AuditCheckName,
  fallback: AuditErrorCode,
  body: () => T,
  summary: (value: T) => string,
): { verdict: AuditVerdict; value?: T } {
  let value: T;
  try {
    value = body();
  } catch (error) {
    return { verdict: failedVerdict(name, fallback, error) };
  }
  return { verdict: { name, ok: true, code: 'OK', detail: summary(value) }, value };
}

export function failedVerdict(name: AuditCheckName, fallback: AuditErrorCode, error: unknown): AuditVerdict {
  if (!(error instanceof Error)) throw error;
  if (!(error instanceof AuditError)) return { name, ok: false, code: fallback, detail: error.message };
  const { code, message: detail } = error;
  const { index, culprit } = error.details ?? {};
  return {
    name,
    ok: false,
    code,
    detail,
    ...(index !== undefined && { index }),
    ...(culprit !== undefined && { culprit }),
  };
}

/** The error a check throws for a fault it can pin on one party (and, when there is one, one entry). */
export function fault(code: AuditErrorCode, message: string, at: { culprit: string; index?: number }): AuditError {
  return new AuditError(code, message, { details: at });
}

export function notChecked(name: AuditCheckName, because: string): AuditVerdict {
  return { name, ok: undefined, code: 'NOT_CHECKED', detail: `not checked: ${because}` };
}

/**
 * Runs `body` for the log entry at `index`: an error it throws becomes an `AuditError` naming the
 * index (its own code kept, any other error given `code`), its message prefixed with `what`.
 */
export function atEntry<T>(index: number, code: AuditErrorCode, what: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof AuditError && error.details?.index !== undefined) throw error;
    const message = `${what}: ${(error as Error).message}`;
    const culprit = error instanceof AuditError ? error.details?.culprit : undefined;
    throw new AuditError(error instanceof AuditError ? error.code : code, message, {
      cause: error,
      details: culprit === undefined ? { index } : { index, culprit },
    });
  }
}
