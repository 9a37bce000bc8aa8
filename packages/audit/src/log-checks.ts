/**
 * The log half of the audit (spec/audit.md checks 2, 3 and 8): the pinned admin key, the relay's
 * checkpoints and the consistency proofs between them (spec/log.md §3–4, RFC 9162), and every
 * envelope's receipt.
 *
 * Threat: a relay that rewrote, rolled back or forked its log, or that hands out a receipt for a
 * tree it never committed to. Each receipt must prove its entry in one of the transcript's own
 * checkpoints, and those must extend one another, so one view of the log covers every entry.
 */
import { equalBytes } from '@overlap/crypto';
import {
  type Checkpoint,
  ed25519NoteVerifier,
  type NoteVerifier,
  parseCheckpoint,
  requireConsistent,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import type { Transcript, TranscriptEntry } from '@overlap/protocol';
import { AuditError } from './errors.js';
import { type AuditVerdict, atEntry, failedVerdict, runCheck } from './verdict.js';

/** What the receipts are checked against: the log's key, and the checkpoints that verified. */
export interface LogAnchor {
  /** The log's note verifier; absent when `log_key` and `origin` make none. */
  verifier?: NoteVerifier;
  /** The signed note of each checkpoint that verified, by tree size. */
  notes: ReadonlyMap<number, string>;
}

/** The `admin key` check: a pinned key must be the one the transcript names. */
export function checkAdminKey(t: Transcript, pinned: Uint8Array | undefined): AuditVerdict {
  return runCheck('admin key', 'ADMIN_KEY_MISMATCH', () => {
    if (pinned === undefined) return 'taken from the transcript (pin it with --admin-key)';
    if (!equalBytes(pinned, t.relay.admin_key)) {
      throw new AuditError('ADMIN_KEY_MISMATCH', 'the transcript names another admin key than the one pinned');
    }
    return 'the pinned admin key';
  });
}

/**
 * The `checkpoints` check. The anchor holds the checkpoints that verified before any failure, so
 * the receipts are still checked against those.
 */
export function checkCheckpoints(t: Transcript): { verdict: AuditVerdict; anchor: LogAnchor } {
  const notes = new Map<number, string>();
  let verifier: NoteVerifier;
  try {
    verifier = ed25519NoteVerifier(t.relay.origin, t.relay.log_key);
  } catch (error) {
    return { verdict: failedVerdict('checkpoints', 'CHECKPOINT_INVALID', error), anchor: { notes } };
  }
  const verdict = runCheck('checkpoints', 'CHECKPOINT_INVALID', () => verifyCheckpoints(t, verifier, notes));
  return { verdict, anchor: { verifier, notes } };
}

/** Verifies each checkpoint and its consistency with the one before, recording each that held in `notes`. */
function verifyCheckpoints(t: Transcript, verifier: NoteVerifier, notes: Map<number, string>): string {
  const { checkpoints, consistency } = t;
  if (checkpoints.length === 0) throw new AuditError('CHECKPOINT_MISSING', 'the transcript holds no checkpoint');
  if (consistency.length !== checkpoints.length - 1) {
    throw new AuditError(
      'CHECKPOINT_INCONSISTENT',
      `${checkpoints.length} checkpoints need ${checkpoints.length - 1} consistency proofs, not ${consistency.length}`,
    );
  }
  let previous: Checkpoint | undefined;
  for (const [i, { size, note }] of checkpoints.entries()) {
    const checkpoint = openCheckpoint(t, verifier, i);
    if (previous !== undefined) {
      if (checkpoint.size <= previous.size) {
        throw new AuditError(
          'CHECKPOINT_INCONSISTENT',
          `checkpoint ${i} (size ${checkpoint.size}) does not come after size ${previous.size}`,
        );
      }
      const proof = consistency[i - 1] as Transcript['consistency'][number];
      if (proof.from !== previous.size || proof.to !== checkpoint.size) {
        throw new AuditError(
          'CHECKPOINT_INCONSISTENT',
          `consistency proof ${i - 1} is for ${proof.from} → ${proof.to}, not ${previous.size} → ${size}`,
        );
      }
      try {
        requireConsistent(previous, checkpoint, proof.proof);
      } catch (error) {
        throw new AuditError('CHECKPOINT_INCONSISTENT', (error as Error).message, { cause: error });
      }
    }
    notes.set(size, note);
    previous = checkpoint;
  }
  return `${checkpoints.length} checkpoints signed by ${t.relay.origin}, each consistent with the one before (sizes ${checkpoints[0]?.size}…${previous?.size})`;
}

/** The `i`th checkpoint: signed by the log's key, of the log's origin, of the size listed. */
function openCheckpoint(t: Transcript, verifier: NoteVerifier, i: number): Checkpoint {
  const { size, note } = t.checkpoints[i] as Transcript['checkpoints'][number];
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(verifySignedNote(note, [verifier]).text);
  } catch (error) {
    throw new AuditError('CHECKPOINT_INVALID', `checkpoint ${i} (size ${size}): ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (checkpoint.origin !== t.relay.origin) {
    throw new AuditError('CHECKPOINT_INVALID', `checkpoint ${i} is of ${checkpoint.origin}`);
  }
  if (checkpoint.size !== size) {
    throw new AuditError('CHECKPOINT_INVALID', `checkpoint ${i} says size ${checkpoint.size}, listed as ${size}`);
  }
  return checkpoint;
}

/**
 * Requires the entry's receipt to be for its own index, its inclusion proof to hold, and its
 * checkpoint to be one of the transcript's (so the consistency of the checkpoints covers it).
 */
export function proveLogged(what: string, entry: TranscriptEntry, anchor: LogAnchor): void {
  const { index, receipt } = entry;
  if (receipt.index !== index) {
    throw new AuditError('RECEIPT_INVALID', `${what} at ${index} carries the receipt of entry ${receipt.index}`, {
      details: { index },
    });
  }
  const { verifier } = anchor;
  if (verifier === undefined) {
    throw new AuditError('RECEIPT_INVALID', "the log's key does not verify (see checkpoints)", { details: { index } });
  }
  const checkpoint = atEntry(index, 'RECEIPT_INVALID', `${what} at ${index}`, () =>
    verifyReceipt(entry.envelope, receipt, [verifier]),
  );
  if (anchor.notes.get(checkpoint.size) !== receipt.checkpoint) {
    throw new AuditError(
      'RECEIPT_CHECKPOINT_UNKNOWN',
      `${what} at ${index}: its checkpoint (size ${checkpoint.size}) is not among the transcript's`,
      { details: { index } },
    );
  }
}

/** The `receipts` check: every session envelope is proven in the log (`proveLogged`). */
export function checkReceipts(t: Transcript, anchor: LogAnchor): AuditVerdict {
  return runCheck('receipts', 'RECEIPT_INVALID', () => {
    for (const entry of t.envelopes) proveLogged('the envelope', entry, anchor);
    return `${t.envelopes.length} inclusion proofs hold in checkpoints of the transcript`;
  });
}
