/**
 * The chunks a session's hops must prove (spec/protocol.md §5.2): every chunk of hop ≥ 1 of every
 * set, cut as the proposal fixes (§5.1), with the lab that must prove it (the hop's) and the lab
 * that produced its inputs (the previous hop's; the owner's at hop 1). In the relay engine's order:
 * owners in the order of `labs`, kinds in the proposal's order, hops, then positions — the order in
 * which it checks the chosen inputs, so the audit names the same producer first.
 */
import { DEFAULT_CHUNK_SIZE, hopLab, placeKey } from '@overlap/protocol';
import type { SessionFacts } from './session-terms.js';

export interface ChunkToProve {
  owner: string;
  kind: string;
  hop: number;
  first: number;
  /** `placeKey` of the place. */
  key: string;
  prover: string;
  producer: string;
}

/** Every chunk of hop ≥ 1 of the sets of the labs that joined, in the relay engine's order. */
export function chunksToProve(s: SessionFacts): ChunkToProve[] {
  const { labs, kinds } = s.proposal;
  const chunkSize = s.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const out: ChunkToProve[] = [];
  for (const [ownerIndex, owner] of labs.entries()) {
    const sizes = s.sizes.get(owner);
    if (sizes === undefined) continue;
    for (const kind of kinds) {
      const size = sizes[kind] ?? 0;
      for (let hop = 1; hop < labs.length; hop++) {
        const prover = labs[hopLab(ownerIndex, hop, labs.length)] as string;
        const producer = labs[hopLab(ownerIndex, hop - 1, labs.length)] as string;
        for (let first = 0; first < size; first += chunkSize) {
          out.push({ owner, kind, hop, first, key: placeKey({ owner, kind, hop, first }), prover, producer });
        }
      }
    }
  }
  return out;
}
