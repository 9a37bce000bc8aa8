/**
 * A lab's results as `session run` writes them: the JSON lines file and the session's result
 * document (which `overlap results` reads), each written a piece at a time with @overlap/files'
 * atomic write (0600, the file and its directory flushed, then renamed over the previous one). A
 * million shared indicators are never one string in memory, and a process that dies mid-way leaves
 * the previous file or none, not half of one.
 */

import { resultJsonLine, type SessionResults } from '@overlap/client';
import { writeFileAtomic } from '@overlap/files';

/** Writes `doc.results` (already sorted, as the SDK answers them) as JSON lines to `path`. */
export async function writeResultsJsonl(path: string, doc: SessionResults): Promise<void> {
  await writeFileAtomic(path, jsonLines(doc), { replace: true });
}

/** Writes `doc` as one JSON document, one result per line. */
export async function writeResultsDocument(path: string, doc: SessionResults): Promise<void> {
  await writeFileAtomic(path, document(doc), { replace: true });
}

function* jsonLines(doc: SessionResults): Generator<string> {
  for (const result of doc.results) yield resultJsonLine(doc.policy, result);
}

function* document(doc: SessionResults): Generator<string> {
  const { results, ...head } = doc;
  const opening = JSON.stringify(head);
  yield `${opening.slice(0, -1)},"results":[`;
  for (const [i, result] of results.entries()) yield `${i === 0 ? '\n' : ',\n'}${JSON.stringify(result)}`;
  yield '\n]}\n';
}
