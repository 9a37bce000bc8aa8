/**
 * The one error type of @overlap/witness: what keeps a witness from starting or from recording a
 * checkpoint. Callers branch on `code`, never on the message. A request the witness refuses is not
 * an error but an answer (add-checkpoint.ts), with the status C2SP tlog-witness gives it.
 */
import { OverlapError } from '@overlap/errors';

export type WitnessErrorCode =
  /** The witness's settings cannot be used: its name, its key, a log's verifier key. */
  | 'BAD_CONFIG'
  /** Another witness process holds the state directory. */
  | 'STATE_LOCKED'
  /** The state directory holds no witness state: `init` makes one, `open` never does. */
  | 'STATE_MISSING'
  /** `init` was given a directory that holds a witness state already. */
  | 'STATE_EXISTS'
  /** The state belongs to another witness key than the one it is opened with. */
  | 'STATE_MISMATCH'
  /** A state file is not what this program writes (damaged, or written by someone else). */
  | 'STATE_DAMAGED'
  /** The state could not be written: the checkpoint is not cosigned, and the witness stops answering. */
  | 'STORAGE_FAILED';

export class WitnessError extends OverlapError<WitnessErrorCode> {
  override readonly name = 'WitnessError';
}
