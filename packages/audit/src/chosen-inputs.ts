/**
 * The `chosen inputs` check (spec/audit.md check 17, spec/protocol.md §5.2 step 5,
 * spec/ciphersuite.md §10 "Positions", "In G", "Lift"): from σ, recomputed from the reveals, and
 * each chunk's logged payload digest D, the positions each chunk of hop ≥ 1 must prove; every input
 * tag at a chosen position (the previous hop's tag there) lies in G.
 *
 * Threat: a tag outside G — a twist point, a random string, 1/u (the u of P + T₂) — that the next
 * hop blinds honestly into something no proof can cover. It is the fault of the lab that produced
 * it, whose signed envelope carried it: the previous hop, the owner at hop 1. Chunks are taken in
 * the relay engine's order (proven-chunks.ts) and positions in drawing order, so the first producer
 * named is the one the relay names.
 */
import { provenPositions, tagInGroup } from '@overlap/crypto';
import { tagAt, tagCount } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import { chunksToProve } from './proven-chunks.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runValueCheck } from './verdict.js';

/** The positions each chunk of hop ≥ 1 proves (offsets within the chunk, in drawing order), by place key. */
export type ChosenPositions = Map<string, number[]>;

export function checkChosenInputs(
  s: SessionFacts,
  chunks: ChunkIndex,
  sigma: Uint8Array | undefined,
): { verdict: AuditVerdict; positions?: ChosenPositions } {
  const mode = s.proposal.proofs ?? 'spot';
  const { verdict, value } = runValueCheck(
    'chosen inputs',
    'INPUT_NOT_IN_GROUP',
    () => (sigma === undefined ? null : choose(s, chunks, sigma)),
    (chosen) => {
      if (chosen === null) return 'not reached: not every lab revealed its coin';
      const count = [...chosen.values()].reduce((n, p) => n + p.length, 0);
      return `${count.toLocaleString('en-US')} positions (${mode}) in ${chosen.size} chunks drawn from σ; every input there lies in G`;
    },
  );
  if (value === undefined) return { verdict };
  return value === null ? { verdict } : { verdict, positions: value };
}

function choose(s: SessionFacts, chunks: ChunkIndex, sigma: Uint8Array): ChosenPositions {
  const mode = s.proposal.proofs ?? 'spot';
  const chosen: ChosenPositions = new Map();
  for (const place of chunksToProve(s)) {
    const { owner, kind, hop, first, producer } = place;
    const output = chunks.at(owner, kind, hop, first);
    const input = chunks.at(owner, kind, hop - 1, first);
    // Every hop is in once the proof request held; absent only in a transcript that stopped early.
    if (output === undefined || input === undefined) continue;
    const positions = provenPositions(sigma, output.digest, tagCount(input.tags), mode);
    for (const j of positions) {
      if (tagInGroup(tagAt(input.tags, j))) continue;
      throw fault(
        'INPUT_NOT_IN_GROUP',
        `log index ${input.index}: ${producer} produced a tag outside G at position ${first + j} of hop ${hop - 1} of ${owner}'s ${kind} set, chosen for hop ${hop}'s proof`,
        { culprit: producer, index: input.index },
      );
    }
    chosen.set(place.key, positions);
  }
  return chosen;
}
