/**
 * A lab's results as `session run` writes them: the JSON lines file and the session's result
 * document (which `overlap results` reads), each written a piece at a time to a temporary file,
 * synced and renamed. A million shared indicators are never one string in memory, and a process
 * that dies mid-way leaves the previous file or none, not half of one.
 */

import { resultJsonLine, type SessionResults } from '@overlap/client';
import { writeFileAtomic } from './atomic-file.js';

/** Writes `doc.results` (already sorted, as the SDK answers them) as JSON lines to `path`. */
export async function writeResultsJsonl(path: string, doc: SessionResults): Promise<void> {
  await writeFileAtomic(path, 0o600, function* () {
    for (const result of doc.results) yield resultJsonLine(doc.policy, result);
  });
}

/** Writes `doc` as one JSON document, one result per line. */
export async function writeResultsDocument(path: string, doc: SessionResults): Promise<void> {
  const { results, ...head } = doc;
  await writeFileAtomic(path, 0o600, function* () {
    const opening = JSON.stringify(head);
    yield `${opening.slice(0, -1)},"results":[`;
    for (const [i, result] of results.entries()) yield `${i === 0 ? '\n' : ',\n'}${JSON.stringify(result)}`;
    yield '\n]}\n';
  });
}
