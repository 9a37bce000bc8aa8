/**
 * The one error type of @overlap/audit, and the closed list of what an audit can catch
 * (spec/audit.md, "Checks, in order": each check's codes are listed there). Callers branch on
 * `code`, never on the message.
 *
 * A transcript that fails a check is not an exception for `verifyTranscript`: it reports the code
 * in that check's verdict. `AuditError` is what a check throws to stop with a code (the verdict is
 * made from it, `details.index` its log index), and what `readTranscript` throws for bytes that
 * are not a transcript.
 */
import { OverlapError } from '@overlap/errors';

export type AuditErrorCode =
  /** transcript: not deterministic CBOR, or not of the transcript's shape (spec/relay-api.md §3). */
  | 'TRANSCRIPT_MALFORMED'
  /** admin key: the transcript names another admin key than the one pinned. */
  | 'ADMIN_KEY_MISMATCH'
  /** checkpoints: the transcript holds none. */
  | 'CHECKPOINT_MISSING'
  /** checkpoints: a note that is not a checkpoint of the log signed by its key, or not of the size listed. */
  | 'CHECKPOINT_INVALID'
  /** checkpoints: sizes that do not grow, a consistency proof missing, misplaced or failing (a rewritten, rolled-back or forked log). */
  | 'CHECKPOINT_INCONSISTENT'
  /** membership: an entry that is neither an enrollment nor a revocation, or a key enrolled twice. */
  | 'MEMBERSHIP_INVALID'
  /** membership, log order: a log index given twice. */
  | 'ENTRY_DUPLICATED'
  /** membership, log order: entries out of log order. */
  | 'ENTRY_REORDERED'
  /** signatures: `relay_key_id` is not the id of `log_key`. */
  | 'RELAY_KEY_MISMATCH'
  /** membership, signatures: an envelope that does not open (malformed, or its signature does not verify). */
  | 'SIGNATURE_INVALID'
  /** signatures: signed by a key that was not enrolled before the envelope's index. */
  | 'SIGNER_NOT_ENROLLED'
  /** signatures: signed by a key revoked before the envelope's index. */
  | 'SIGNER_REVOKED'
  /** signatures: an envelope of another session. */
  | 'WRONG_SESSION'
  /** membership, sender chains: a gap, a replay or a fork in a sender's seq/prev chain. */
  | 'CHAIN_BROKEN'
  /** membership, receipts: a receipt for another index, or whose inclusion proof does not hold. */
  | 'RECEIPT_INVALID'
  /** membership, receipts: a receipt whose checkpoint is not one of the transcript's. */
  | 'RECEIPT_CHECKPOINT_UNKNOWN'
  /** membership, session terms, hops, results: a signed payload that is not a valid message of its type. */
  | 'MESSAGE_INVALID'
  /** session terms: the first envelope is not the proposal, or the proposal is not signed by one of its labs. */
  | 'PROPOSAL_INVALID'
  /** session terms: an envelope from a key that is neither a lab of the session nor the relay. */
  | 'SENDER_NOT_IN_SESSION'
  /** session terms: a message type its sender may not send. */
  | 'MESSAGE_NOT_ALLOWED'
  /** session terms: a lab joined twice, or committed sizes for other kinds, or over the session's bound. */
  | 'JOIN_INVALID'
  /** session terms: a lab never joined a session that was not aborted. */
  | 'LAB_NEVER_JOINED'
  /** hops: a chunk of a set that is not the session's, or of the wrong type for its hop. */
  | 'HOP_INVALID'
  /** hops: a chunk signed by another lab than the hop schedule names. */
  | 'HOP_WRONG_SIGNER'
  /** hops: tags beyond the set's committed size. */
  | 'HOP_OUT_OF_RANGE'
  /** hops: a place (owner, kind, hop, first) filled twice. */
  | 'HOP_PLACE_REPEATED'
  /** hops: a hop schedule that does not name every lab once. */
  | 'HOP_SCHEDULE_INVALID'
  /** hops: a hop's chunks leave tags out or overlap (a skipped or partial hop). */
  | 'HOP_INCOMPLETE'
  /** hops: a hop's chunks are not at the places of the hop before. */
  | 'HOP_MISALIGNED'
  /** results: rows for a lab or kind not of the session, a second set of rows, or rows in an aborted session. */
  | 'RESULT_UNEXPECTED'
  /** results: no rows for a lab and kind. */
  | 'RESULT_MISSING'
  /** results: a row changed, added, repeated or left out against the matching recomputed from the final tags. */
  | 'RESULT_MISMATCH';

export interface AuditErrorDetails {
  /** The log index of the entry at fault, when there is one. */
  index?: number;
}

export class AuditError extends OverlapError<AuditErrorCode, AuditErrorDetails> {
  override readonly name = 'AuditError';
}
