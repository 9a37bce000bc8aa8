/**
 * Reading the relay's answers: the body, bounded before it is buffered (a hostile or broken relay
 * could otherwise stream without end), decoded as deterministic CBOR (spec/relay-api.md §1), then
 * checked against the answer's schema in @overlap/protocol (wire/relay-api.ts), and the error body
 * `{ error: { code, message } }` of a refusal.
 *
 * Decoding is lenient about unknown fields (a newer relay may add some: they are ignored and not
 * copied) and strict about every declared one: each problem is reported with its path, in one
 * BAD_RESPONSE, before anything in the answer is used. Byte strings are not copied: a result_rows
 * envelope of tens of MB is the decoded bytes themselves, read row by row later.
 */
import {
  type CborValue,
  decodeDeterministic,
  ProtocolError,
  type ProtocolIssue,
  parseWithSchema,
  type RelayAnswerSchema,
  type RelayErrorBody,
  relayErrorBodySchema,
} from '@overlap/protocol';
import { ClientError } from './errors.js';

/** An inbox answer holds at most 8 MiB of envelopes (spec §3); the rest is framing. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Issues shown in a BAD_RESPONSE message; the rest are counted. */
const SHOWN_ISSUES = 10;

/** The whole body of `response`, refused (BAD_RESPONSE) beyond `maxBytes`. */
export async function readBounded(
  response: Response,
  maxBytes: number = MAX_ANSWER_BYTES,
  what = 'the answer',
): Promise<Uint8Array> {
  // content-length comes from the relay: a hint to refuse early, never trusted to size a buffer
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new ClientError(
      'BAD_RESPONSE',
      `${what}: the relay's answer is ${declared} bytes, over the ${maxBytes} limit`,
    );
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new ClientError('BAD_RESPONSE', `${what}: the relay's answer runs over the ${maxBytes} byte limit`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Decodes a CBOR answer and checks it against `schema`; BAD_RESPONSE naming every problem if it does not hold. */
export function decodeAnswer<T>(body: Uint8Array, schema: RelayAnswerSchema<T>, what: string): T {
  let value: CborValue;
  try {
    value = decodeDeterministic(body);
  } catch (cause) {
    throw new ClientError('BAD_RESPONSE', `the relay's answer to ${what} is not deterministic CBOR`, { cause });
  }
  try {
    return parseWithSchema(schema, value, what);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const shown = error.issues.slice(0, SHOWN_ISSUES).map((i) => `${pathText(i.path)}: ${i.message}`);
    const more = error.issues.length > SHOWN_ISSUES ? ` (and ${error.issues.length - SHOWN_ISSUES} more)` : '';
    throw new ClientError('BAD_RESPONSE', `the relay's answer to ${what} is malformed: ${shown.join('; ')}${more}`, {
      cause: error,
    });
  }
}

/** `items[0].type`, or `answer` for the root. */
function pathText(path: ProtocolIssue['path']): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text === '' ? key : `.${key}`;
  return text || 'answer';
}

/**
 * The `{ error: { code, message } }` of an error answer (CBOR, or JSON from the JSON endpoints),
 * or undefined when the body is something else (a proxy's HTML page, say).
 */
export function parseRelayError(body: Uint8Array, contentType: string | null): RelayErrorBody['error'] | undefined {
  let value: unknown;
  try {
    value = /^application\/json\b/i.test(contentType ?? '')
      ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
      : decodeDeterministic(body);
  } catch {
    return undefined;
  }
  const parsed = relayErrorBodySchema.safeParse(value);
  if (!parsed.success) return undefined;
  // The message comes from the relay and ends up in our error messages: keep it short.
  const { code, message } = parsed.data.error;
  return { code, message: message.slice(0, 1024) };
}
