/**
 * JSONL import: one JSON object per line with the CSV's fields, `{"kind": "email", "value": "…"}`
 * plus optional `region`, `first_seen`, `confidence` (0–100), `label` and `id` (the lab's own
 * record id, carried to traced results), and, JSONL only, `context`: a JSON object of the lab's
 * own fields about the record (account, model, timestamp, …), at most MAX_CONTEXT_BYTES as
 * JSON.stringify writes it. `context` is checked and then dropped: it is never matched, never
 * sent, and in this version not carried on the RawIndicatorRecord either. A line that is not such
 * an object becomes an error record naming the line and the fields at fault; blank lines are not
 * records. The chat format (chat.ts) reads its lines with the same steps (`jsonLineRecord`) and
 * turns each request into such fields, checked here (`fieldsToRecord`).
 */
import { z } from 'zod';
import { isBlank } from '../text.js';
import { chatLineShape } from './chat-line-shape.js';
import { numberedLines } from './lines.js';
import type { RawRecord, RecordOrigin, TextSource } from './record.js';

/** The most bytes (UTF-8) a record's `context` may take as JSON.stringify writes it. */
export const MAX_CONTEXT_BYTES = 4096;

/** The UTF-8 length of `value` as JSON.stringify writes it, or undefined when it is nested too deeply to write. */
function jsonBytes(value: unknown): number | undefined {
  try {
    return new TextEncoder().encode(JSON.stringify(value)).length;
  } catch {
    return undefined; // a RangeError: the stack ran out, so far over the bound
  }
}

const contextSchema = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .superRefine((context, ctx) => {
    const bytes = jsonBytes(context);
    if (bytes !== undefined && bytes <= MAX_CONTEXT_BYTES) return;
    const size = bytes === undefined ? 'nested too deeply to write' : `${bytes}`;
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_CONTEXT_BYTES} bytes as JSON (is ${size})` });
  });

export const importedFieldsSchema = z.strictObject({
  kind: z.string().optional(),
  value: z.string(),
  region: z.string().optional(),
  first_seen: z.string().optional(),
  confidence: z.number().int().min(0).max(100).optional(),
  label: z.string().optional(),
  id: z.string().optional(),
  context: contextSchema.optional(),
});

export type ImportedFields = z.infer<typeof importedFieldsSchema>;

export async function* readJsonl(source: TextSource): AsyncGenerator<RawRecord> {
  for await (const { number, text } of numberedLines(source)) {
    const record = jsonLineRecord(number, text, fieldsToRecord);
    if (record !== undefined) yield record;
  }
}

/**
 * One line of a JSON-lines format as a record: nothing for a blank line, `BAD_RECORD` for a line
 * that is not JSON or not a JSON object (never quoting it: it may be a customer's text), else what
 * `toRecord` makes of the object.
 */
export function jsonLineRecord(
  line: number,
  text: string,
  toRecord: (line: number, object: Record<string, unknown>) => RawRecord,
): RawRecord | undefined {
  if (isBlank(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { line, error: { code: 'BAD_RECORD', message: `line ${line} is not valid JSON` } };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { line, error: { code: 'BAD_RECORD', message: `line ${line} is not a JSON object` } };
  }
  return toRecord(line, parsed as Record<string, unknown>);
}

/** Where a record comes from: its line, and its id when that is a non-empty string (a rejected record keeps it too). */
export function recordOrigin(line: number, id: unknown): RecordOrigin {
  return typeof id === 'string' && id !== '' ? { line, id } : { line };
}

/** How many problems of one record an error message lists (a chat request may hold thousands of messages). */
const MAX_LISTED_PROBLEMS = 5;

/**
 * The `BAD_RECORD` message for a record's schema problems: `line 3: confidence: …; unknown
 * field(s) colour`, each problem at its path (`body.messages[2].content[0].text`), at most
 * MAX_LISTED_PROBLEMS of them and then how many more.
 */
export function problemsMessage(line: number, issues: readonly z.core.$ZodIssue[]): string {
  const listed = issues
    .slice(0, MAX_LISTED_PROBLEMS)
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown field(s) ${i.keys.join(', ')}`
        : `${pathText(i.path) || 'record'}: ${i.message}`,
    );
  if (issues.length > MAX_LISTED_PROBLEMS) listed.push(`and ${issues.length - MAX_LISTED_PROBLEMS} more`);
  return `line ${line}: ${listed.join('; ')}`;
}

/** A zod issue's path as a reader writes it: `body.messages[2].content[0].text`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

/** Validates one record's fields (from JSONL, CSV or a chat request) and maps them to a raw record. */
export function fieldsToRecord(line: number, fields: Record<string, unknown>): RawRecord {
  const origin = recordOrigin(line, fields.id);
  if (!('value' in fields)) {
    // A chat-completions request log named .jsonl is read as JSONL: say which format reads it.
    const hint =
      chatLineShape(fields) !== undefined ? ' (a chat-completions request? read the file in the chat format)' : '';
    return { ...origin, error: { code: 'MISSING_FIELD', message: `line ${line} has no "value"${hint}` } };
  }
  // An empty optional field is an absent one, as an empty CSV cell is (so --kind and --region apply).
  const present = Object.fromEntries(Object.entries(fields).filter(([key, v]) => key === 'value' || v !== ''));
  const result = importedFieldsSchema.safeParse(present);
  if (!result.success)
    return { ...origin, error: { code: 'BAD_RECORD', message: problemsMessage(line, result.error.issues) } };
  const f = result.data;
  const record: RawRecord = { line, kind: f.kind, value: f.value };
  if (f.region !== undefined) record.region = f.region;
  if (f.first_seen !== undefined) record.firstSeen = f.first_seen;
  if (f.confidence !== undefined) record.confidence = f.confidence;
  if (f.label !== undefined) record.label = f.label;
  if (f.id !== undefined) record.id = f.id;
  return record;
}
