/**
 * Chat import (the `chat` format, spec/indicators.md §3): a chat-completions request log, one
 * request per line, each line read as the JSON-lines record `{"kind": "prompt_template", "value":
 * P, "id": I}` (checked by the JSONL reader's `fieldsToRecord`). A line is either
 *  - a chat-completions request body (the OpenAI Chat Completions request): an object with a
 *    `messages` array, and optionally a top-level string `id`, the lab's own request id; its other
 *    fields (`model`, `temperature`, `tools`, `metadata`, `user`, …) are ignored; or
 *  - an OpenAI Batch API input line, `{"custom_id": "…", "method": "POST", "url":
 *    "/v1/chat/completions", "body": {…a request body…}}`, whose `custom_id` is the record's id
 *    (else the body's `id`); any other `url` or `method` is an error.
 * P is what the user asked in this request: the **last user turn**, the last message whose `role`
 * is `user` together with the `user` messages right before it (none of another role between),
 * their texts in order joined with "\n\n". Earlier turns of a conversation are the last turn of
 * the earlier requests of the same log, so a conversation's prompts are read once each, and a
 * long conversation is not one ever longer value. A message's text is its `content` when that is
 * a string, or the `text` of its `{"type": "text"}` parts joined with "\n" (image, audio, file
 * and other parts are skipped); empty texts are left out. System, developer, assistant and tool
 * messages are not the prompt (a deployment's system prompt is shared by all its users, not a
 * campaign's): only their `role` is read, and so only the last turn's contents are checked.
 *
 * Errors (never quoting the prompt): `BAD_RECORD` for a line that is not such a request (naming
 * the line and each field at fault, at its path) or a line over MAX_CHAT_LINE_LENGTH (skipped
 * unread: a request with large inline images or files); `MISSING_FIELD` when there is no user
 * message or its turn holds no text. A rejected line keeps its id when it has one; blank lines are
 * not records.
 */
import { z } from 'zod';
import type { IndicatorKindName } from '../kind-names.js';
import { fieldsToRecord, jsonLineRecord, problemsMessage, recordOrigin } from './jsonl.js';
import { linesUpTo } from './lines.js';
import type { RawRecord, TextSource } from './record.js';

/** The one `url` a Batch API line may name. */
export const CHAT_COMPLETIONS_URL = '/v1/chat/completions';

/**
 * Longest line of the chat format (characters), 16 Mi: longer than other formats' lines
 * (MAX_LINE_LENGTH), since a request with an image or a file inline is megabytes of base64. A
 * longer line is one rejected record, not the end of the file.
 */
export const MAX_CHAT_LINE_LENGTH = 16 * 1024 * 1024;

const PROMPT_KIND: IndicatorKindName = 'prompt_template';

const mustBe = (what: string) => ({ error: `must be ${what}` });

/** A short rendering of a wrong value for a message (a `url` or `method`), or nothing when it is long or not a string. */
const was = (input: unknown) =>
  typeof input === 'string' && input.length <= 80 ? ` (is ${JSON.stringify(input)})` : '';

/** A content part: a `text` part must hold a string `text`; a part of any other type is skipped unread. */
const partSchema = z
  .looseObject({ type: z.string(mustBe('a string')), text: z.unknown().optional() }, mustBe('an object'))
  .superRefine((part, ctx) => {
    if (part.type === 'text' && typeof part.text !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'must be a string' });
    }
  });
const partsSchema = z.array(partSchema);

/** A user message's `content`: a string, or an array of content parts. */
const contentSchema = z.unknown().superRefine((content, ctx) => {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) {
    ctx.addIssue({ code: 'custom', message: 'must be a string or an array of content parts' });
    return;
  }
  const parts = partsSchema.safeParse(content);
  if (parts.success) return;
  for (const issue of parts.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

/** A message: its `role` is read for every message, its `content` only in the last user turn (messagesSchema). */
const messageSchema = z.looseObject(
  { role: z.string(mustBe('a string')), content: z.unknown().optional() },
  mustBe('an object'),
);
type ChatMessage = z.infer<typeof messageSchema>;

/** The positions of the last user turn in `messages`: the last `user` message and the `user` messages right before it. */
function lastUserTurn(messages: readonly ChatMessage[]): number[] {
  let last = messages.length - 1;
  while (last >= 0 && messages[last]?.role !== 'user') last--;
  let first = last;
  while (first > 0 && messages[first - 1]?.role === 'user') first--;
  return last < 0 ? [] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The messages of a request: every role read, then the contents of the last user turn checked (a broken role leaves the turn unknown). */
const messagesSchema = z.array(messageSchema, mustBe('an array of messages')).superRefine((messages, ctx) => {
  for (const i of lastUserTurn(messages)) {
    const content = contentSchema.safeParse(messages[i]?.content);
    if (content.success) continue;
    for (const issue of content.error.issues) {
      ctx.addIssue({ code: 'custom', path: [i, 'content', ...issue.path], message: issue.message });
    }
  }
});

/** A chat-completions request body: `messages` and the lab's own `id`; every other field is ignored. */
const requestSchema = z.looseObject(
  { messages: messagesSchema, id: z.string(mustBe('a string')).optional() },
  mustBe('an object (a chat-completions request body)'),
);

/** An OpenAI Batch API input line for the chat-completions endpoint. */
const batchLineSchema = z.looseObject({
  custom_id: z.string(mustBe('a string')).optional(),
  method: z.literal('POST', { error: (issue) => `must be "POST"${was(issue.input)}` }).optional(),
  url: z.literal(CHAT_COMPLETIONS_URL, { error: (issue) => `must be "${CHAT_COMPLETIONS_URL}"${was(issue.input)}` }),
  body: requestSchema,
});

export async function* readChat(source: TextSource): AsyncGenerator<RawRecord> {
  for await (const { number, text } of linesUpTo(source, MAX_CHAT_LINE_LENGTH)) {
    if (text === undefined) {
      const message = `line ${number} is longer than ${MAX_CHAT_LINE_LENGTH} characters (large inline images or files?): not read`;
      yield { line: number, error: { code: 'BAD_RECORD', message } };
      continue;
    }
    const record = jsonLineRecord(number, text, chatRecord);
    if (record !== undefined) yield record;
  }
}

/** One line of the chat format, parsed, as a `prompt_template` record, or the error record saying what is wrong. */
export function chatRecord(line: number, parsed: Record<string, unknown>): RawRecord {
  // A Batch API line is told by its envelope's fields; a line with `messages` is a request.
  const batch = !('messages' in parsed) && ('body' in parsed || 'custom_id' in parsed);
  const body = batch ? parsed.body : parsed;
  const bodyId = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
  // A rejected line keeps its id too, so the lab can find it.
  const origin = recordOrigin(line, (batch ? recordOrigin(line, parsed.custom_id).id : undefined) ?? bodyId);
  const rejected = (code: 'BAD_RECORD' | 'MISSING_FIELD', message: string): RawRecord => ({
    ...origin,
    error: { code, message },
  });
  if (!batch && !('messages' in parsed)) {
    return rejected(
      'BAD_RECORD',
      `line ${line} has no "messages" array: not a chat-completions request, nor a Batch API line (with "body")`,
    );
  }
  let messages: ChatMessage[];
  if (batch) {
    const result = batchLineSchema.safeParse(parsed);
    if (!result.success) return rejected('BAD_RECORD', problemsMessage(line, result.error.issues));
    messages = result.data.body.messages;
  } else {
    const result = requestSchema.safeParse(parsed);
    if (!result.success) return rejected('BAD_RECORD', problemsMessage(line, result.error.issues));
    messages = result.data.messages;
  }
  const turn = lastUserTurn(messages);
  if (turn.length === 0) return rejected('MISSING_FIELD', `line ${line} has no user text: no message has role "user"`);
  const value = turn
    .map((i) => contentText(messages[i]?.content))
    .filter((text) => text !== '')
    .join('\n\n');
  if (value === '') {
    const path = (i: number | undefined) => `${batch ? 'body.' : ''}messages[${i}]`;
    const at = turn.length === 1 ? path(turn[0]) : `${path(turn[0])} to ${path(turn.at(-1))}`;
    return rejected('MISSING_FIELD', `line ${line} has no user text: the last user turn (${at}) holds none`);
  }
  // Checked and built as the JSON-lines record it stands for.
  return fieldsToRecord(line, { kind: PROMPT_KIND, value, ...(origin.id !== undefined && { id: origin.id }) });
}

/** The text of a user message's content (already checked): the string, or its text parts' non-empty text joined with "\n". */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => part?.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .filter((text) => text !== '')
    .join('\n');
}
