/**
 * What a line of the chat format looks like (spec/indicators.md §3.1), apart from its reader so
 * that the format's choice (format-detection.ts) and the JSONL reader's hint (jsonl.ts) can tell
 * one without importing the chat reader, which builds on the JSONL reader.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether `value` is shaped as a line of the chat format, and which: an object with a `messages`
 * array (a request body) or with a `body` object holding one (a Batch API line), and no `value`
 * field (which would make it a JSONL record). Used to choose the format, and to hint at it.
 */
export function chatLineShape(value: unknown): 'request' | 'batch' | undefined {
  if (!isObject(value) || 'value' in value) return undefined;
  if (Array.isArray(value.messages)) return 'request';
  if (isObject(value.body) && Array.isArray(value.body.messages)) return 'batch';
  return undefined;
}
