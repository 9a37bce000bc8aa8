/**
 * The `hop proofs` check (spec/audit.md check 18, spec/protocol.md §5.2 step 6, spec/ciphersuite.md
 * §10 "Batched DLEQ proof"): every `hop_proof` is logged after the challenge, by the lab of its
 * chunk's hop, once per chunk, and verifies — against the prover's committed K, the chunk's logged
 * digest D, the positions σ chose, the previous hop's logged tags there and this hop's. The verifier
 * is the crypto package's `verifyHop`, which computes the composites itself and never uses a
 * cofactored equation.
 *
 * Threat: a hop that did not apply the key it committed to — returned its input, random, copied or
 * fresh points, 1/u, or a proof for other positions or another session. The culprit is the prover;
 * for an input outside G, the lab that produced it. Every proof is tried, and which chunks verified
 * is returned even when one fails, for the results check (nothing may be released before every
 * proof verified); the verdict reports the first failure in log order.
 */
import { verifyHop } from '@overlap/crypto';
import { type HopProofMessage, placeKey, tagAt } from '@overlap/protocol';
import type { ChosenPositions } from './chosen-inputs.js';
import type { ChunkIndex } from './chunk-index.js';
import type { AuditError } from './errors.js';
import { type ChunkToProve, chunksToProve } from './proven-chunks.js';
import type { Logged, SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runCheck } from './verdict.js';

/** The log index of the verifying proof of each chunk of hop ≥ 1 that has one, by place key. */
export type ProvenChunks = Map<string, number>;

export function checkHopProofs(
  s: SessionFacts,
  chunks: ChunkIndex,
  positions: ChosenPositions,
  challengeIndex: number | null,
): { verdict: AuditVerdict; proven: ProvenChunks } {
  const proven: ProvenChunks = new Map();
  const verdict = runCheck('hop proofs', 'HOP_PROOF_INVALID', () => {
    verifyAll(s, chunks, positions, challengeIndex, proven);
    const owed = chunksToProve(s).length;
    const all = proven.size === owed ? 'every one' : `${proven.size} of ${owed}`;
    return `${all} of the chunks of hop ≥ 1 proven once by its hop's lab, each proof verifying against the logged tags`;
  });
  return { verdict, proven };
}

/** Verifies every logged proof, in log order; throws the first failure once every proof has been tried. */
function verifyAll(
  s: SessionFacts,
  chunks: ChunkIndex,
  positions: ChosenPositions,
  challengeIndex: number | null,
  proven: ProvenChunks,
): void {
  const owed = new Map(chunksToProve(s).map((place) => [place.key, place]));
  let first: AuditError | undefined;
  for (const logged of s.round.proofs) {
    const failure = verifyOne(s, chunks, positions, challengeIndex, owed, proven, logged);
    first ??= failure;
  }
  if (first) throw first;
}

/** One logged proof: recorded in `proven` when it verifies, else the failure. */
function verifyOne(
  s: SessionFacts,
  chunks: ChunkIndex,
  positions: ChosenPositions,
  challengeIndex: number | null,
  owed: ReadonlyMap<string, ChunkToProve>,
  proven: ProvenChunks,
  { index, sender, body }: Logged<HopProofMessage>,
): AuditError | undefined {
  const key = placeKey(body);
  const at = `log index ${index}`;
  if (challengeIndex === null || index < challengeIndex) {
    return fault('HOP_PROOF_EARLY', `${at}: ${sender} sent a hop proof for ${key} before the challenge`, {
      culprit: sender,
      index,
    });
  }
  const place = owed.get(key);
  if (place === undefined || place.prover !== sender) {
    return fault('HOP_PROOF_MISPLACED', `${at}: ${sender} sent a hop proof for ${key}, a chunk it did not answer`, {
      culprit: sender,
      index,
    });
  }
  if (proven.has(key)) {
    return fault('HOP_PROOF_REPEATED', `${at}: ${sender} proved ${key} twice`, { culprit: sender, index });
  }
  const chosen = positions.get(key);
  const input = chunks.at(place.owner, place.kind, place.hop - 1, place.first);
  const output = chunks.at(place.owner, place.kind, place.hop, place.first);
  const K = s.joins.get(sender)?.key;
  if (chosen === undefined || input === undefined || output === undefined || K === undefined) {
    return fault('HOP_PROOF_MISPLACED', `${at}: ${sender} proved ${key}, whose tags are not in the log`, {
      culprit: sender,
      index,
    });
  }
  const verdict = verifyHop(
    K,
    { sessionId: s.sessionId, digest: output.digest },
    chosen,
    chosen.map((j) => tagAt(input.tags, j)),
    chosen.map((j) => tagAt(output.tags, j)),
    { signs: body.signs, proof: body.proof },
  );
  if (verdict.ok) {
    proven.set(key, index);
    return undefined;
  }
  const chunk = `hop ${place.hop} of ${place.owner}'s ${place.kind} set at ${place.first}`;
  if (verdict.fault === 'input_not_in_group') {
    const position = place.first + (chosen[verdict.index] as number);
    return fault(
      'INPUT_NOT_IN_GROUP',
      `log index ${input.index}: ${place.producer} produced a tag outside G at position ${position}, an input of ${chunk}`,
      { culprit: place.producer, index: input.index },
    );
  }
  if (verdict.fault === 'output_not_in_group') {
    const position = place.first + (chosen[verdict.index] as number);
    return fault(
      'OUTPUT_NOT_IN_GROUP',
      `log index ${output.index}: ${sender} output a tag outside G at position ${position} (${chunk}): no key maps a point of G there`,
      { culprit: sender, index: output.index },
    );
  }
  if (verdict.fault === 'malformed') {
    return fault('HOP_PROOF_MALFORMED', `${at}: ${sender}'s hop proof for ${chunk} is malformed`, {
      culprit: sender,
      index,
    });
  }
  return fault(
    'HOP_PROOF_INVALID',
    `${at}: ${sender}'s hop proof for ${chunk} does not verify: its outputs are not its committed key applied to its inputs`,
    { culprit: sender, index },
  );
}
