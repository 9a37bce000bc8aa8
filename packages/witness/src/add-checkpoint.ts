/**
 * What a witness answers to `add-checkpoint` (C2SP tlog-witness v1, c2sp.org/tlog-witness), as a
 * pure function of the request, the logs it trusts and the checkpoint it cosigned last for the
 * request's origin. The caller (witness.ts) persists an accepted checkpoint before it answers, and
 * runs one judgement at a time, so that the check and the write are atomic.
 *
 * The checks, in the order the spec gives their statuses:
 *   400  the body is not a request, or its old size is larger than the checkpoint's size;
 *   404  the checkpoint's origin is not a log this witness is configured with;
 *   403  no trusted key of that origin signed it (or a trusted key's signature fails);
 *   409  the old size is not the size of the checkpoint last cosigned (the body says which), or the
 *        sizes are equal and the root hashes are not;
 *   422  the consistency proof does not hold (with old size 0: any proof at all);
 *   200  the checkpoint is consistent with everything cosigned before: cosign it.
 *
 * A refusal of a checkpoint the log did sign (409 with another root for the same size, 422) may be
 * evidence of a fork: it is marked so, and the caller keeps it.
 *
 * Threat: a log (the relay) that shows one history to some and another to others. Each history
 * needs cosignatures; an honest witness gives them for one history only.
 */
import { equalBytes } from '@overlap/crypto';
import {
  type Checkpoint,
  type NoteVerifier,
  parseAddCheckpointRequest,
  parseCheckpoint,
  parseSignedNote,
  verifyCheckpointNote,
  verifyConsistency,
} from '@overlap/log';

/** A log the witness is configured with: its origin and the keys that may sign its checkpoints. */
export interface TrustedLog {
  origin: string;
  verifiers: readonly NoteVerifier[];
}

/** The checkpoint last cosigned for an origin, as the log signed it. */
export interface CosignedCheckpoint {
  checkpoint: Checkpoint;
  /** The signed note, as the request carried it. */
  note: string;
}

export type Judgement =
  | { status: 200; checkpoint: Checkpoint; note: string }
  | {
      status: 400 | 403 | 404 | 409 | 422;
      /** One line for the operator and the client; never more than the request already says. */
      reason: string;
      /** 409 for an old size that does not match: the size of the checkpoint last cosigned. */
      latestSize?: number;
      /** A checkpoint the log signed that contradicts the one cosigned before: keep the request. */
      evidence?: { origin: string; cosigned: CosignedCheckpoint };
    };

export function judgeAddCheckpoint(
  body: string,
  logs: ReadonlyMap<string, TrustedLog>,
  latest: (origin: string) => CosignedCheckpoint | undefined,
): Judgement {
  let request: ReturnType<typeof parseAddCheckpointRequest>;
  let checkpoint: Checkpoint;
  try {
    request = parseAddCheckpointRequest(body);
    checkpoint = parseCheckpoint(parseSignedNote(request.checkpoint).text);
  } catch (error) {
    return { status: 400, reason: (error as Error).message };
  }
  const log = logs.get(checkpoint.origin);
  if (log === undefined) return { status: 404, reason: `unknown log origin ${JSON.stringify(checkpoint.origin)}` };
  try {
    verifyCheckpointNote(request.checkpoint, log.verifiers);
  } catch (error) {
    return {
      status: 403,
      reason: `the checkpoint is not signed by a trusted key of ${checkpoint.origin}: ${(error as Error).message}`,
    };
  }
  if (request.oldSize > checkpoint.size) {
    return {
      status: 400,
      reason: `old size ${request.oldSize} is larger than the checkpoint's size ${checkpoint.size}`,
    };
  }
  const last = latest(checkpoint.origin);
  const latestSize = last?.checkpoint.size ?? 0;
  if (request.oldSize !== latestSize) {
    return {
      status: 409,
      reason: `old size ${request.oldSize}, but the last checkpoint cosigned for ${checkpoint.origin} has size ${latestSize}`,
      latestSize,
    };
  }
  if (last === undefined) {
    if (request.proof.length > 0) return { status: 422, reason: 'a request from old size 0 must carry no proof' };
    return { status: 200, checkpoint, note: request.checkpoint };
  }
  const evidence = { origin: checkpoint.origin, cosigned: last };
  if (checkpoint.size === last.checkpoint.size) {
    if (request.proof.length > 0) return { status: 422, reason: 'a request for the same size must carry no proof' };
    if (!equalBytes(checkpoint.rootHash, last.checkpoint.rootHash)) {
      return {
        status: 409,
        reason: `size ${checkpoint.size} was cosigned with another root hash: the log has forked`,
        latestSize,
        evidence,
      };
    }
    return { status: 200, checkpoint, note: request.checkpoint };
  }
  if (
    !verifyConsistency(
      last.checkpoint.size,
      checkpoint.size,
      request.proof,
      last.checkpoint.rootHash,
      checkpoint.rootHash,
    )
  ) {
    return {
      status: 422,
      reason: `the proof does not show checkpoint ${checkpoint.size} consistent with checkpoint ${last.checkpoint.size}`,
      evidence,
    };
  }
  return { status: 200, checkpoint, note: request.checkpoint };
}
