/**
 * The `proof request` check (spec/audit.md check 14, spec/protocol.md §5.2 step 3): the relay's
 * one `proof_request` is logged once every lab has joined and every hop of every set is in, and no
 * tag follows it; its `chunks` is the number of chunks of hop ≥ 1.
 *
 * Threat: a relay that asks for the coins while a hop can still answer. The coins fix σ, and σ the
 * proven positions: a `blind_result` logged after the request could have been chosen knowing them
 * (a relay colluding with a cheating hop would do just that). The culprit is the relay.
 */
import { tagCount } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import { chunksToProve } from './proven-chunks.js';
import type { Logged, SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runValueCheck } from './verdict.js';

export function checkProofRequest(
  s: SessionFacts,
  chunks: ChunkIndex,
  relay: string,
): { verdict: AuditVerdict; request?: Logged<{ chunks: number }> | null } {
  const { verdict, value } = runValueCheck(
    'proof request',
    'PROOF_REQUEST_EARLY',
    () => readRequest(s, chunks, relay),
    (request) =>
      request === null
        ? `no proof request: the session ${s.abort ? 'was aborted' : 'stopped'} before every hop was in`
        : `one proof request, at log index ${request.index}, once every hop was in, for ${request.body.chunks} chunks`,
  );
  return value === undefined ? { verdict } : { verdict, request: value };
}

/** The session's proof request (null when there is none), checked. */
function readRequest(s: SessionFacts, chunks: ChunkIndex, relay: string): Logged<{ chunks: number }> | null {
  const [request, second] = s.round.proofRequests;
  if (request === undefined) return null;
  const at = `log index ${request.index}`;
  if (second !== undefined) {
    throw fault('PROOF_REQUEST_REPEATED', `log index ${second.index}: a second proof request`, {
      culprit: relay,
      index: second.index,
    });
  }
  const early = (why: string) =>
    fault('PROOF_REQUEST_EARLY', `${at}: the relay asked for the proofs ${why}`, {
      culprit: relay,
      index: request.index,
    });
  const absent = s.proposal.labs.find((lab) => (s.joins.get(lab)?.index ?? Infinity) > request.index);
  if (absent !== undefined) throw early(`before ${absent} joined`);
  const later = chunks.inLogOrder.find((chunk) => chunk.index > request.index);
  if (later !== undefined) {
    throw early(
      `before hop ${later.hop} of ${later.owner}'s ${later.kind} set was in (its tags at ${later.first} came at log index ${later.index})`,
    );
  }
  for (const [owner, sizes] of s.sizes) {
    for (const [kind, size] of Object.entries(sizes)) {
      for (let hop = 0; hop < s.proposal.labs.length; hop++) {
        const got = chunks.hop(owner, kind, hop).reduce((n, chunk) => n + tagCount(chunk.tags), 0);
        if (got !== size) throw early(`with ${got} of ${size} tags of hop ${hop} of ${owner}'s ${kind} set in`);
      }
    }
  }
  const expected = chunksToProve(s).length;
  if (request.body.chunks !== expected) {
    throw fault(
      'PROOF_REQUEST_COUNT',
      `${at}: the proof request is for ${request.body.chunks} chunks; the session has ${expected} of hop ≥ 1`,
      { culprit: relay, index: request.index },
    );
  }
  return request;
}
