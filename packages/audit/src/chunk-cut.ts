/**
 * The `chunk cut` check (spec/audit.md check 12, spec/protocol.md §5.1): every owner's upload is
 * cut as the proposal fixes — each `tag_chunk` at a multiple of `chunkSize` with
 * min(chunkSize, size − first) tags, in position order (the relay takes each chunk only at the next
 * offset). The `hops` check already holds every later hop to the same places.
 *
 * Threat: an owner that cuts its set into tiny chunks to make every later hop prove every position
 * (the cost of the proofs is per chunk). The culprit is the owner, who signed the upload.
 */
import { DEFAULT_CHUNK_SIZE, tagCount } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runCheck } from './verdict.js';

export function checkChunkCut(s: SessionFacts, chunks: ChunkIndex): AuditVerdict {
  const chunkSize = s.proposal.chunkSize ?? DEFAULT_CHUNK_SIZE;
  return runCheck('chunk cut', 'CHUNK_CUT_INVALID', () => {
    /** The next offset of each set's upload, by `owner|kind`. */
    const next = new Map<string, number>();
    let uploads = 0;
    for (const chunk of chunks.inLogOrder) {
      if (chunk.hop !== 0) continue;
      const { owner, kind, first, index } = chunk;
      const size = s.sizes.get(owner)?.[kind] ?? 0;
      const count = tagCount(chunk.tags);
      const expected = Math.min(chunkSize, size - first);
      const at = next.get(`${owner}|${kind}`) ?? 0;
      const where = `log index ${index}: ${owner} uploaded ${count} ${kind} tags at ${first}`;
      if (first % chunkSize !== 0 || count !== expected) {
        throw fault('CHUNK_CUT_INVALID', `${where}; the proposal cuts its set of ${size} into chunks of ${chunkSize}`, {
          culprit: owner,
          index,
        });
      }
      if (first !== at) {
        throw fault('CHUNK_CUT_INVALID', `${where}, before the chunk at ${at}`, { culprit: owner, index });
      }
      next.set(`${owner}|${kind}`, first + count);
      uploads++;
    }
    return `${uploads} uploaded chunks, each cut at a multiple of ${chunkSize.toLocaleString('en-US')} tags, in order`;
  });
}
