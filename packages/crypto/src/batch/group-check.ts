/**
 * The verifier's expensive checks as data, so that a relay can run them on a worker thread rather
 * than on the thread that answers requests: whether tags lie in G (the chosen inputs, once the
 * challenge is known) and a hop proof's verdict. `runGroupCheck` is the one computation: a worker
 * (`BatchPool.check`) and the calling thread run the same function, so both answer alike.
 *
 * A check is pure: it reads only its own bytes, so it may run at any time on any thread.
 */
import type { BackendName } from '../backend.js';
import { CryptoError } from '../errors.js';
import type { HopProof, HopProofContext, HopProofVerdict } from '../hop-proof/dleq.js';
import { tagInGroup } from '../hop-proof/points.js';
import { verifyHop } from '../hop-proof/verify.js';

export type GroupCheck =
  /** Whether every tag (32 bytes each) lies in G. */
  | { check: 'in-group'; tags: Uint8Array[] }
  /** The arguments of `verifyHop`, in its order. */
  | {
      check: 'hop';
      key: Uint8Array;
      context: HopProofContext;
      positions: number[];
      inputs: Uint8Array[];
      outputs: Uint8Array[];
      proof: HopProof;
    };

export type GroupCheckAnswer =
  /** The index of the first tag outside G, or -1 when every one lies in it. */
  { check: 'in-group'; firstOutside: number } | { check: 'hop'; verdict: HopProofVerdict };

/** Runs one check with the named backend (the worker's, or the caller's). */
export function runGroupCheck(check: GroupCheck, backend?: BackendName): GroupCheckAnswer {
  const options = backend === undefined ? {} : { backend };
  switch (check.check) {
    case 'in-group':
      return { check: 'in-group', firstOutside: check.tags.findIndex((tag) => !tagInGroup(tag, options)) };
    case 'hop':
      return {
        check: 'hop',
        verdict: verifyHop(
          check.key,
          check.context,
          check.positions,
          check.inputs,
          check.outputs,
          check.proof,
          options,
        ),
      };
    default:
      throw new CryptoError('BAD_INPUT', `no such group check: ${String((check as { check: unknown }).check)}`);
  }
}
