/**
 * A lab's reading of its result rows (spec/protocol.md §5, "Lab"): every row for one of its own
 * positions, at most once, with exactly the fields its reveal policy gives and values that can be
 * true, mapped back to the lab's values.
 *
 * Threat: a relay that hands a lab rows it should not believe (another lab's rows, positions it
 * does not own, labs outside the session). The rows are checked one at a time, and each result
 * keeps the value and the session's own copy of each lab id, so that the decoded rows (~20 MB for
 * 300,000 shared items) can go as soon as the reading returns.
 */
import { parseWithSchema } from '../validate.js';
import { type ResultRow, resultRowSchema, resultRowsShapeSchema, type SessionProposal } from './messages.js';
import { plainResultRow } from './plain-result-row.js';
import { StreamedResultRows } from './streamed-result-rows.js';

export interface LabResult {
  value: string;
  /** `labs` policy: the other labs holding it. */
  labs?: string[];
  /** `count` policy: how many other labs hold it. */
  count?: number;
}

/** The rows' kind and results, or the reason to abort. */
export type RowsReading = { kind: string; results: LabResult[] } | { problem: string };

/** Reads result rows (the decoded payload, or StreamedResultRows over the signed bytes) for lab `me`. */
export function readResultRows(
  body: unknown,
  me: string,
  proposal: SessionProposal,
  orderOf: (kind: string) => readonly string[] | undefined,
  already: (kind: string) => boolean,
): RowsReading {
  let kind: string;
  let lab: string;
  let rows: Iterable<unknown>;
  try {
    if (body instanceof StreamedResultRows) {
      ({ kind, lab } = parseWithSchema(resultRowsShapeSchema, body.head, 'result rows'));
      rows = body.rows();
    } else ({ kind, lab, rows } = parseWithSchema(resultRowsShapeSchema, body, 'result rows'));
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (lab !== me) return { problem: `result rows of kind ${kind} for ${lab}, not for this lab` };
  const values = orderOf(kind);
  if (!values) return { problem: `result rows for kind ${kind}, which is not in the session` };
  if (already(kind)) return { problem: `result rows for kind ${kind} arrived twice` };
  const others = new Map(proposal.labs.filter((other) => other !== me).map((other) => [other, other]));
  const policy = proposal.policy;
  const seen = new Uint8Array(values.length);
  // Rows name few distinct lists of labs: results share one array per list (frozen), made of
  // the session's own lab id strings.
  const lists = new Map<string, string[]>();
  const sameLabs = (labs: readonly string[]): string[] => {
    const key = labs.join();
    let list = lists.get(key);
    if (list === undefined) {
      list = Object.freeze(labs.map((id) => others.get(id) as string)) as string[];
      lists.set(key, list);
    }
    return list;
  };
  const results: LabResult[] = [];
  let i = 0;
  for (const item of rows) {
    let row: ResultRow;
    try {
      row = plainResultRow(item) ?? parseWithSchema(resultRowSchema, item, `result row ${i} of ${kind}`);
      i++;
    } catch (error) {
      return { problem: (error as Error).message };
    }
    if (row.position >= values.length || seen[row.position] === 1) {
      return { problem: `a result row for position ${row.position}, which this lab does not own (or twice)` };
    }
    seen[row.position] = 1;
    // Exactly the fields the policy allows, with values that can be true.
    const labsOk =
      policy.kind === 'labs'
        ? row.labs !== undefined &&
          row.labs.length >= 1 &&
          row.labs.every((id, j) => others.has(id) && (j === 0 || (row.labs?.[j - 1] as string) < id))
        : row.labs === undefined;
    const countOk =
      policy.kind === 'count' ? row.count !== undefined && row.count <= others.size : row.count === undefined;
    if (!labsOk || !countOk) {
      return { problem: `a result row for position ${row.position} does not fit the ${policy.kind} policy` };
    }
    const result: LabResult = { value: values[row.position] as string };
    if (row.labs !== undefined) result.labs = sameLabs(row.labs);
    if (row.count !== undefined) result.count = row.count;
    results.push(result);
  }
  return { kind, results };
}
