/**
 * A lab's results as `session run` writes them: the JSON lines file and the session's result
 * document (which `overlap results` reads), each written a piece at a time with @overlap/files'
 * atomic write (0600, the file and its directory flushed, then renamed over the previous one). A
 * million shared indicators are never one string in memory, and a process that dies mid-way leaves
 * the previous file or none, not half of one.
 *
 * Each result can carry where its first record is in the lab's own input (@overlap/client's
 * traceResults): `line` (the record's line), and `id` and `label` when the input has them (a CSV
 * `id`/`label` column, a JSON lines field, a STIX object's id and name). In the JSON lines file and
 * in the result document they are fields of the result, beside `kind` and `value`;
 * `sourcesOfDocument` reads them back from a document for `formatResults`.
 */

import {
  type RecordSource,
  type ResultSources,
  resultDocumentPieces,
  resultJsonLines,
  type SessionResults,
  type SourceAt,
} from '@overlap/client';
import { writeFileAtomic } from '@overlap/files';
import { CliError } from './errors.js';

export type { SourceAt } from '@overlap/client';

/** The lookup of sources by kind and value (traceResults, a document's) for `doc`'s results. */
export function sourceAtOf(doc: SessionResults, sources: ResultSources | undefined): SourceAt | undefined {
  if (sources === undefined) return undefined;
  return (i) => {
    const result = doc.results[i];
    return result && sources.get(result.kind)?.get(result.value);
  };
}

/** Writes `doc.results` (already sorted, as the SDK answers them) as JSON lines to `path`. */
export async function writeResultsJsonl(path: string, doc: SessionResults, sourceAt?: SourceAt): Promise<void> {
  await writeFileAtomic(path, resultJsonLines(doc, sourceAt), { replace: true });
}

/** Writes `doc` as one JSON document, one result per line. */
export async function writeResultsDocument(path: string, doc: SessionResults, sourceAt?: SourceAt): Promise<void> {
  await writeFileAtomic(path, resultDocumentPieces(doc, sourceAt), { replace: true });
}

/**
 * The sources a result document carries (its results' `line`, `id`, `label`), or undefined when
 * none does. The document comes from a file: each field is checked, and a bad one is an error
 * naming the result.
 */
export function sourcesOfDocument(path: string, doc: SessionResults): ResultSources | undefined {
  const results = (doc as { results?: unknown }).results;
  if (!Array.isArray(results)) return undefined;
  const sources = new Map<string, Map<string, RecordSource>>();
  for (const [i, item] of results.entries()) {
    const r = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (r.line === undefined && r.id === undefined && r.label === undefined) continue;
    const bad = (what: string) => new CliError('DATA', `${path}: results[${i}].${what}`);
    if (!Number.isSafeInteger(r.line) || (r.line as number) < 1) throw bad('line: must be a line number ≥ 1');
    if (r.id !== undefined && typeof r.id !== 'string') throw bad('id: must be a string');
    if (r.label !== undefined && typeof r.label !== 'string') throw bad('label: must be a string');
    if (typeof r.kind !== 'string' || typeof r.value !== 'string') continue; // formatResults names these
    let byValue = sources.get(r.kind);
    if (byValue === undefined) {
      byValue = new Map();
      sources.set(r.kind, byValue);
    }
    byValue.set(r.value, {
      line: r.line as number,
      ...(r.id !== undefined && { id: r.id as string }),
      ...(r.label !== undefined && { label: r.label as string }),
    });
  }
  return sources.size === 0 ? undefined : sources;
}
