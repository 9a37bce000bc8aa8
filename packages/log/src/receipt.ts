/**
 * Receipts: the relay answers every accepted submission with the checkpoint that includes it and an
 * inclusion proof. A lab verifies a receipt against the log's key, and keeps its last verified
 * checkpoint so that each new one must be proven consistent with it (spec/log.md §6): a relay that
 * rewrote or forked its history cannot produce that proof.
 */
import { type Checkpoint, parseCheckpoint } from './checkpoint.js';
import { LogError } from './errors.js';
import { verifyConsistency, verifyInclusion } from './proofs.js';
import { type NoteVerifier, verifySignedNote } from './signed-note.js';
import { leafHash } from './tree-hash.js';

export interface Receipt {
  /** The leaf's index in the log. */
  index: number;
  /** Inclusion proof of the leaf in the checkpoint's tree. */
  proof: Uint8Array[];
  /** The signed checkpoint note. */
  checkpoint: string;
}

/**
 * Verifies that `leaf` (the bytes the relay logged, e.g. an envelope) is at `receipt.index` in the
 * tree of a checkpoint signed by the log. Returns the checkpoint; throws `NOTE_NOT_VERIFIED` for a
 * bad signature and `BAD_CHECKPOINT` for a proof that does not hold.
 */
export function verifyReceipt(leaf: Uint8Array, receipt: Receipt, logVerifiers: readonly NoteVerifier[]): Checkpoint {
  const checkpoint = verifyCheckpointNote(receipt.checkpoint, logVerifiers);
  if (!verifyInclusion(leafHash(leaf), receipt.index, checkpoint.size, receipt.proof, checkpoint.rootHash)) {
    throw new LogError('BAD_CHECKPOINT', `the receipt's inclusion proof for leaf ${receipt.index} does not hold`);
  }
  return checkpoint;
}

/**
 * Verifies a signed checkpoint note against the log's verifiers and parses it. The log signs under
 * its origin (spec/log.md §4): a key may not vouch for another log's tree, so the note must be
 * signed by a key named as the checkpoint's origin (`BAD_CHECKPOINT` otherwise; a failing signature
 * is `NOTE_NOT_VERIFIED`). Signatures of other keys (witnesses' cosignatures) are ignored.
 */
export function verifyCheckpointNote(note: string, logVerifiers: readonly NoteVerifier[]): Checkpoint {
  const { text, verifiedBy } = verifySignedNote(note, logVerifiers);
  const checkpoint = parseCheckpoint(text);
  if (!verifiedBy.includes(checkpoint.origin)) {
    throw new LogError('BAD_CHECKPOINT', `checkpoint of ${checkpoint.origin} is not signed by a key of that name`);
  }
  return checkpoint;
}

/**
 * Requires `next` to extend `previous` (same origin, same or larger tree, a consistency proof that
 * holds). Returns `next`, the checkpoint to keep. Throws `BAD_CHECKPOINT` otherwise: the relay's log
 * was rewritten, rolled back or forked.
 */
export function requireConsistent(
  previous: Checkpoint | undefined,
  next: Checkpoint,
  proof: readonly Uint8Array[],
): Checkpoint {
  if (previous === undefined) return next;
  if (previous.origin !== next.origin) {
    throw new LogError('BAD_CHECKPOINT', `checkpoint of ${next.origin}, but the last one was of ${previous.origin}`);
  }
  if (next.size < previous.size) {
    throw new LogError('BAD_CHECKPOINT', `the log went back from ${previous.size} to ${next.size} entries`);
  }
  if (previous.size === 0) return next; // every tree extends the empty one: nothing to prove
  if (!verifyConsistency(previous.size, next.size, proof, previous.rootHash, next.rootHash)) {
    throw new LogError('BAD_CHECKPOINT', `checkpoint ${next.size} is not consistent with checkpoint ${previous.size}`);
  }
  return next;
}
