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
  /** witnesses (with a witness policy): the transcript holds no witnessed checkpoint. */
  | 'WITNESSED_MISSING'
  /** witnesses: the witnessed note is not the log's checkpoint of its size listed in the transcript. */
  | 'WITNESSED_INVALID'
  /** witnesses: the witnessed checkpoint does not cover every envelope of the session. */
  | 'WITNESSED_STALE'
  /** witnesses: fewer of the policy's witnesses cosigned it than its quorum. */
  | 'WITNESS_QUORUM_UNMET'
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
  /** hops: a tag of low order or not canonically encoded, in a chunk its sender (named) signed. */
  | 'HOP_TAG_UNSAFE'
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
  /** key commitments: a join's K that is not a point of G, or is the base point or its negation. */
  | 'KEY_COMMITMENT_INVALID'
  /** key commitments: a join's K equal to an earlier join's. */
  | 'KEY_COMMITMENT_REPEATED'
  /** chunk cut: an upload not cut as the proposal fixes (first a multiple of chunkSize, that many tags), or out of order. */
  | 'CHUNK_CUT_INVALID'
  /** distinctness: two positions of one hop of a set with the same tag (blamed on the lowest hop where they are equivalent). */
  | 'TAGS_NOT_DISTINCT'
  /** proof request: logged before every hop of every set was in, or followed by tags. */
  | 'PROOF_REQUEST_EARLY'
  /** proof request: more than one. */
  | 'PROOF_REQUEST_REPEATED'
  /** proof request: its `chunks` is not the number of chunks of hop ≥ 1. */
  | 'PROOF_REQUEST_COUNT'
  /** reveals: a reveal logged before the proof request. */
  | 'REVEAL_EARLY'
  /** reveals: a lab's second reveal. */
  | 'REVEAL_REPEATED'
  /** reveals: a coin that does not open the lab's coin commitment. */
  | 'REVEAL_MISMATCH'
  /** challenge: logged before every lab's reveal. */
  | 'CHALLENGE_EARLY'
  /** challenge: more than one. */
  | 'CHALLENGE_REPEATED'
  /** challenge: its coins are not the revealed coins in the order of the labs. */
  | 'CHALLENGE_MISMATCH'
  /** chosen inputs, hop proofs: an input tag at a chosen position that is not in G (its producer's fault). */
  | 'INPUT_NOT_IN_GROUP'
  /** hop proofs: a proof logged before the challenge. */
  | 'HOP_PROOF_EARLY'
  /** hop proofs: a proof for a chunk its sender did not answer. */
  | 'HOP_PROOF_MISPLACED'
  /** hop proofs: a second proof for a chunk. */
  | 'HOP_PROOF_REPEATED'
  /** hop proofs: sign bits or proof of the wrong length, or a scalar not reduced. */
  | 'HOP_PROOF_MALFORMED'
  /** hop proofs: an output tag at a chosen position that is not in G. */
  | 'OUTPUT_NOT_IN_GROUP'
  /** hop proofs: a proof that does not verify against the prover's K and the logged tags. */
  | 'HOP_PROOF_INVALID'
  /** results: result rows logged before every chunk's hop proof verified. */
  | 'RESULT_BEFORE_PROOFS'
  /** results: a session neither aborted nor finished: the proof round is not over. */
  | 'SESSION_INCOMPLETE'
  /** results: rows for a lab or kind not of the session, a second set of rows, or rows in an aborted session. */
  | 'RESULT_UNEXPECTED'
  /** results: no rows for a lab and kind. */
  | 'RESULT_MISSING'
  /** results: a row changed, added, repeated or left out against the matching recomputed from the final tags. */
  | 'RESULT_MISMATCH'
  /** abort: the relay's abort names another lab (or none) than the audit finds at fault. */
  | 'ABORT_CULPRIT_WRONG'
  /** abort: the relay aborted a session in which the audit finds no fault, and not at one of its deadlines. */
  | 'ABORT_UNFOUNDED'
  /** abort: the deadline (or the join deadline) passed while the session waited on a lab (named): its part (or its join) is missing. */
  | 'DEADLINE_MISSED'
  /** abort: the relay refused an envelope the lab (named) signed, which its abort carries, and it breaks the rules. */
  | 'VIOLATION_REFUSED'
  /** abort: the relay's abort carries evidence that is not an envelope the named lab signed in this session and the relay refused. */
  | 'EVIDENCE_INVALID';

export interface AuditErrorDetails {
  /** The log index of the entry at fault, when there is one. */
  index?: number;
  /** The key id of the party at fault (a lab, or the relay), when the check can tell. */
  culprit?: string;
}

export class AuditError extends OverlapError<AuditErrorCode, AuditErrorDetails> {
  override readonly name = 'AuditError';
}
