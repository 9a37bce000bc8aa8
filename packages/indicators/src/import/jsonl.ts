/**
 * JSONL import: one JSON object per line with the CSV's fields, `{"kind": "email", "value": "…"}`
 * plus optional `region`, `first_seen`, `confidence` (0–100), `label` and `id` (the lab's own
 * record id, carried to traced results). A line that is not such an
 * object becomes an error record naming the line and the fields at fault; blank lines are not records.
 */
import { z } from 'zod';
import { isBlank } from '../text.js';
import { numberedLines } from './lines.js';
import type { RawRecord, TextSource } from './record.js';

export const importedFieldsSchema = z.strictObject({
  kind: z.string().optional(),
  value: z.string(),
  region: z.string().optional(),
  first_seen: z.string().optional(),
  confidence: z.number().int().min(0).max(100).optional(),
  label: z.string().optional(),
  id: z.string().optional(),
});

export type ImportedFields = z.infer<typeof importedFieldsSchema>;

export async function* readJsonl(source: TextSource): AsyncGenerator<RawRecord> {
  for await (const { number, text } of numberedLines(source)) {
    if (isBlank(text)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      yield { line: number, error: { code: 'BAD_RECORD', message: `line ${number} is not valid JSON` } };
      continue;
    }
    yield fieldsToRecord(number, parsed);
  }
}

/** Validates one record's fields (from JSONL or CSV) and maps them to a raw record. */
export function fieldsToRecord(line: number, fields: unknown): RawRecord {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    return { line, error: { code: 'BAD_RECORD', message: `line ${line} is not a JSON object` } };
  }
  // A rejected record keeps its own id too, so the lab can find it.
  const idField = (fields as { id?: unknown }).id;
  const origin = typeof idField === 'string' && idField !== '' ? { line, id: idField } : { line };
  if (!('value' in fields))
    return { ...origin, error: { code: 'MISSING_FIELD', message: `line ${line} has no "value"` } };
  // An empty optional field is an absent one, as an empty CSV cell is (so --kind and --region apply).
  const present = Object.fromEntries(Object.entries(fields).filter(([key, v]) => key === 'value' || v !== ''));
  const result = importedFieldsSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown field(s) ${i.keys.join(', ')}`
          : `${i.path.join('.') || 'record'}: ${i.message}`,
      )
      .join('; ');
    return { ...origin, error: { code: 'BAD_RECORD', message: `line ${line}: ${problems}` } };
  }
  const f = result.data;
  const record: RawRecord = { line, kind: f.kind, value: f.value };
  if (f.region !== undefined) record.region = f.region;
  if (f.first_seen !== undefined) record.firstSeen = f.first_seen;
  if (f.confidence !== undefined) record.confidence = f.confidence;
  if (f.label !== undefined) record.label = f.label;
  if (f.id !== undefined) record.id = f.id;
  return record;
}
