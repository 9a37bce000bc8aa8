/**
 * Reading a session transcript (spec/relay-api.md §3), the audit's first check. The format is
 * declared once, in @overlap/protocol (`decodeTranscript`, strict: an unknown field is an error);
 * here a failure becomes `TRANSCRIPT_MALFORMED`, naming the first fields that are wrong.
 */
import { decodeTranscript, ProtocolError, type Transcript } from '@overlap/protocol';
import { AuditError } from './errors.js';
import { type AuditVerdict, runValueCheck } from './verdict.js';

const SHOWN_ISSUES = 5;

/** Decodes and shape-checks a transcript; throws `AuditError` `TRANSCRIPT_MALFORMED` when the bytes are not one. */
export function readTranscript(bytes: Uint8Array): Transcript {
  try {
    return decodeTranscript(bytes);
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'INVALID_MESSAGE') {
      const { issues } = error;
      const shown = issues.slice(0, SHOWN_ISSUES).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      const more = issues.length > SHOWN_ISSUES ? `; and ${issues.length - SHOWN_ISSUES} more` : '';
      throw new AuditError('TRANSCRIPT_MALFORMED', `not a session transcript: ${shown.join('; ')}${more}`, {
        cause: error,
      });
    }
    throw new AuditError('TRANSCRIPT_MALFORMED', `not deterministic CBOR: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The `transcript` check: the bytes are a transcript (then returned), with its counts. */
export function checkTranscript(bytes: Uint8Array): { verdict: AuditVerdict; transcript?: Transcript } {
  const { verdict, value } = runValueCheck(
    'transcript',
    'TRANSCRIPT_MALFORMED',
    () => readTranscript(bytes),
    (t) =>
      `${bytes.length.toLocaleString('en-US')} bytes: ${t.membership.length} membership entries, ${t.envelopes.length} session envelopes, ${t.checkpoints.length} checkpoints`,
  );
  return value === undefined ? { verdict } : { verdict, transcript: value };
}
