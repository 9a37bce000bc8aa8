/**
 * Reading the relay's answers: the body, bounded before it is buffered (a hostile or broken relay
 * could otherwise stream without end), decoded as deterministic CBOR (spec/relay-api.md §1), and
 * the error body `{ error: { code, message } }` of a refusal.
 */
import { type CborValue, decodeDeterministic } from '@overlap/protocol';
import { ClientError } from './errors.js';

/** An inbox answer holds at most 8 MiB of envelopes (spec §3); the rest is framing. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface RelayErrorBody {
  code: string;
  message: string;
}

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

/** Decodes a CBOR answer; BAD_RESPONSE if it is not deterministic CBOR. */
export function decodeAnswer(body: Uint8Array, what: string): CborValue {
  try {
    return decodeDeterministic(body);
  } catch (cause) {
    throw new ClientError('BAD_RESPONSE', `the relay's answer to ${what} is not deterministic CBOR`, { cause });
  }
}

/**
 * The `{ error: { code, message } }` of an error answer (CBOR, or JSON from the JSON endpoints),
 * or undefined when the body is something else (a proxy's HTML page, say).
 */
export function parseRelayError(body: Uint8Array, contentType: string | null): RelayErrorBody | undefined {
  let value: unknown;
  try {
    value = /^application\/json\b/i.test(contentType ?? '')
      ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
      : decodeDeterministic(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(code)) return undefined;
  return { code, message: typeof message === 'string' ? message.slice(0, 1024) : '' };
}
