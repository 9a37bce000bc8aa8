/**
 * A lab's results written a piece at a time, for @overlap/files' atomic write or a request body: the
 * JSON lines (one `resultJsonLine` per result, in the document's order) and the result document
 * (its own fields, then `results` with one result per line: what `overlap session run` and the
 * agent write and `overlap results` reads). A million shared indicators are never one string.
 *
 * With `sourceAt`, each result carries where its first record is in the lab's input (`line`,
 * `id`, `label`; result-trace.ts), after its own fields.
 */
import type { RecordSource } from './result-trace.js';
import type { SessionResults } from './results-document.js';
import { resultJsonLine } from './results-format.js';

/** Where the result at an index of `doc.results` came from, if known. */
export type SourceAt = (index: number) => RecordSource | undefined;

export function* resultJsonLines(doc: SessionResults, sourceAt?: SourceAt): Generator<string> {
  for (const [i, result] of doc.results.entries()) yield resultJsonLine(doc.policy, result, sourceAt?.(i));
}

export function* resultDocumentPieces(doc: SessionResults, sourceAt?: SourceAt): Generator<string> {
  const { results, ...head } = doc;
  const opening = JSON.stringify(head);
  yield `${opening.slice(0, -1)},"results":[`;
  for (const [i, result] of results.entries()) {
    const source = sourceAt?.(i);
    const json = JSON.stringify(result);
    // The source's fields after the result's, as one object: {...result, ...source} without building it.
    yield `${i === 0 ? '\n' : ',\n'}${source === undefined ? json : `${json.slice(0, -1)},${JSON.stringify(source).slice(1)}`}`;
  }
  yield '\n]}\n';
}
