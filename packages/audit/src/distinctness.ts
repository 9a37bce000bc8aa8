/**
 * The `distinctness` check (spec/audit.md check 13, spec/protocol.md §5.3): a lab's items are
 * distinct, so each hop of each set — hop 0 included — holds pairwise distinct tags across the whole
 * set. A duplicate is blamed on the lab of the lowest hop t at which the two tags are already
 * *equivalent* (X25519(c₀, ·) equal, spec/ciphersuite.md §10), the owner for t = 0: an honest hop
 * maps u and 1/u to one tag, so an owner uploading both must not frame hop 1.
 *
 * As the relay engine does, each hop of a set is checked when its last chunk is logged, in log
 * order, and the pair is the first in position order (smallest i, then smallest j). The search is
 * this module's own: an 8-byte fingerprint of each tag's last bytes, sorted, then the candidates
 * grouped by their full tag.
 *
 * Threat: a hop that copies tags (one tag everywhere: the owner is told that items nobody else
 * holds are shared), and an owner that plants u and 1/u to put the blame on an honest hop.
 */
import { equivalentTags, toHex } from '@overlap/crypto';
import { hopLab, TAG_LENGTH, tagCount } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runCheck } from './verdict.js';

export function checkDistinctness(s: SessionFacts, chunks: ChunkIndex): AuditVerdict {
  const { labs } = s.proposal;
  return runCheck('distinctness', 'TAGS_NOT_DISTINCT', () => {
    const received = new Map<string, number>();
    let checked = 0;
    let tags = 0;
    for (const chunk of chunks.inLogOrder) {
      const { owner, kind, hop } = chunk;
      const key = `${owner}|${kind}|${hop}`;
      const size = s.sizes.get(owner)?.[kind] ?? 0;
      const got = (received.get(key) ?? 0) + tagCount(chunk.tags);
      received.set(key, got);
      if (got !== size) continue; // checked when its last chunk is in, as the relay does
      const pair = firstEqualPair(chunks, owner, kind, hop, size);
      if (pair !== undefined) {
        const [i, j] = pair;
        const t = blamedHop(chunks, owner, kind, hop, i, j);
        const culprit = labs[hopLab(labs.indexOf(owner), t, labs.length)] as string;
        const since = t === 0 ? `${culprit}'s own upload (hop 0)` : `hop ${t}, applied by ${culprit}`;
        throw fault(
          'TAGS_NOT_DISTINCT',
          `log index ${chunk.index}: positions ${i} and ${j} of ${owner}'s ${kind} set carry the same tag at hop ${hop}; equivalent since ${since}`,
          { culprit, index: chunk.index },
        );
      }
      checked++;
      tags += size;
    }
    return `${checked} complete hops of sets (${tags.toLocaleString('en-US')} tags), each pairwise distinct`;
  });
}

/** The first pair i < j of equal tags of one hop of a set (smallest i, then smallest j), or undefined. */
function firstEqualPair(
  chunks: ChunkIndex,
  owner: string,
  kind: string,
  hop: number,
  size: number,
): [number, number] | undefined {
  const fingerprints = new BigUint64Array(size);
  for (const chunk of chunks.hop(owner, kind, hop)) {
    const view = new DataView(chunk.tags.buffer, chunk.tags.byteOffset, chunk.tags.byteLength);
    for (let k = 0; k < tagCount(chunk.tags); k++) {
      fingerprints[chunk.first + k] = view.getBigUint64(k * TAG_LENGTH + TAG_LENGTH - 8, true);
    }
  }
  const sorted = fingerprints.slice().sort();
  const repeated = new Set<bigint>();
  for (let k = 1; k < size; k++) if (sorted[k] === sorted[k - 1]) repeated.add(sorted[k] as bigint);
  if (repeated.size === 0) return undefined;
  // Rare: the positions whose fingerprint repeats, grouped by their full tag, in position order.
  const byTag = new Map<string, number[]>();
  for (let position = 0; position < size; position++) {
    if (!repeated.has(fingerprints[position] as bigint)) continue;
    const tag = toHex(chunks.tagAt(owner, kind, hop, position));
    const group = byTag.get(tag);
    if (group) group.push(position);
    else byTag.set(tag, [position]);
  }
  let pair: [number, number] | undefined;
  for (const [i, j] of byTag.values()) {
    if (j !== undefined && (pair === undefined || (i as number) < pair[0])) pair = [i as number, j];
  }
  return pair;
}

/** The lowest hop t ≤ `hop` at which the tags at i and j are equivalent. */
function blamedHop(chunks: ChunkIndex, owner: string, kind: string, hop: number, i: number, j: number): number {
  for (let t = 0; t < hop; t++) {
    if (equivalentTags(chunks.tagAt(owner, kind, t, i), chunks.tagAt(owner, kind, t, j))) return t;
  }
  return hop;
}
