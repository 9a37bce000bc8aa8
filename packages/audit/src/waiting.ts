/**
 * Whom a session was waiting on just before a given log index, from the transcript alone, by the
 * relay engine's rule (spec/protocol.md §5, §5.2: "the first lab the relay waits on" is the culprit
 * of a deadline's abort): before the proof request, the labs that have not joined, owners whose
 * upload is not all in, and — once every lab has joined — the lab of each hop whose input is logged
 * and its answer not; after the proof request, the labs that have not revealed their coin; after the
 * challenge, the labs with a chunk not yet proven. In the order of `labs`, each with what it owed.
 */
import { hopLab, tagCount } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import type { ProvenChunks } from './hop-proofs.js';
import { chunksToProve } from './proven-chunks.js';
import type { SessionFacts } from './session-terms.js';

/** The labs the session waited on before log index `before`, in labs order, with what each owed. */
export function waitingOn(
  s: SessionFacts,
  chunks: ChunkIndex,
  proven: ProvenChunks,
  before: number,
): { lab: string; owed: string }[] {
  const { labs } = s.proposal;
  const owed = new Map<string, string>();
  const owe = (lab: string, what: string) => {
    if (!owed.has(lab)) owed.set(lab, what);
  };
  const logged = <T extends { index: number }>(list: readonly T[]) => list.filter((m) => m.index < before);
  const [request] = logged(s.round.proofRequests);
  const [challenge] = logged(s.round.challenges);
  if (challenge !== undefined) {
    for (const place of chunksToProve(s)) {
      const index = proven.get(place.key);
      if (index === undefined || index >= before) owe(place.prover, `its hop proof for ${place.key}`);
    }
  } else if (request !== undefined) {
    const revealed = new Set(logged(s.round.reveals).map((r) => r.sender));
    for (const lab of labs) if (!revealed.has(lab)) owe(lab, 'the reveal of its coin');
  } else {
    const missing = notJoinedBefore(s, before);
    const joined = labs.filter((lab) => !missing.includes(lab));
    for (const lab of missing) owe(lab, 'its join');
    const present = chunks.inLogOrder.filter((chunk) => chunk.index < before);
    const placed = new Set(present.map((c) => `${c.owner}|${c.kind}|${c.hop}|${c.first}`));
    for (const owner of joined) {
      for (const [kind, size] of Object.entries(s.sizes.get(owner) ?? {})) {
        const uploaded = present
          .filter((c) => c.owner === owner && c.kind === kind && c.hop === 0)
          .reduce((n, c) => n + tagCount(c.tags), 0);
        if (uploaded < size) owe(owner, `the rest of its ${kind} upload`);
      }
    }
    // Blind tasks are issued only once every lab has joined (the relay holds uploads until then).
    if (joined.length === labs.length) {
      for (const c of present) {
        if (c.hop === labs.length - 1 || placed.has(`${c.owner}|${c.kind}|${c.hop + 1}|${c.first}`)) continue;
        const lab = labs[hopLab(labs.indexOf(c.owner), c.hop + 1, labs.length)] as string;
        owe(lab, `its answer to the blind task ${c.owner}|${c.kind}|${c.hop + 1}|${c.first}`);
      }
    }
  }
  return labs.filter((lab) => owed.has(lab)).map((lab) => ({ lab, owed: owed.get(lab) as string }));
}

/** The labs, in the order of `labs`, whose join is not logged before log index `before`. */
export function notJoinedBefore(s: SessionFacts, before: number): string[] {
  return s.proposal.labs.filter((lab) => (s.joins.get(lab)?.index ?? Infinity) >= before);
}
