/**
 * Text input shared by the importers: strict UTF-8 decoding (invalid bytes are a `BAD_FILE` error
 * naming the byte offset, never silently replaced — two different byte strings must not turn into
 * one "duplicate"), and a splitter into numbered lines (LF or CRLF) that holds at most one line and
 * one chunk, rejects lines over `MAX_LINE_LENGTH`, and scans each character once.
 */
import { IndicatorError } from '../errors.js';
import { isBlank } from '../text.js';
import type { TextSource } from './record.js';

/** Longest line accepted (characters): a real record is far shorter; a file without line breaks is not records. */
export const MAX_LINE_LENGTH = 1024 * 1024;

export interface NumberedLine {
  number: number;
  text: string;
}

/** The source as strings, decoding bytes as strict UTF-8 (a leading byte-order mark is dropped). */
export async function* utf8Strings(source: TextSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let offset = 0;
  let first = true;
  for await (const chunk of source) {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw new IndicatorError('BAD_FILE', `invalid UTF-8 in the input near byte ${offset}`);
      }
      offset += chunk.length;
    }
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (text.length > 0) yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest.length > 0) yield rest;
  } catch {
    throw new IndicatorError('BAD_FILE', `invalid UTF-8 at the end of the input (byte ${offset})`);
  }
}

export async function* numberedLines(source: TextSource): AsyncGenerator<NumberedLine> {
  let pending = '';
  let number = 0;
  for await (const chunk of utf8Strings(source)) {
    let start = 0;
    const scanned = pending.length; // what came before this chunk has no line break
    pending += chunk;
    for (let newline = pending.indexOf('\n', scanned); newline >= 0; newline = pending.indexOf('\n', start)) {
      const text = pending.slice(start, newline);
      start = newline + 1;
      number++;
      if (text.length > MAX_LINE_LENGTH) tooLong(number);
      yield { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE_LENGTH) tooLong(number + 1);
  }
  if (pending.length > 0) {
    number++;
    if (pending.length > MAX_LINE_LENGTH) tooLong(number);
    yield { number, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending };
  }
}

function tooLong(line: number): never {
  throw new IndicatorError('BAD_FILE', `line ${line} is longer than ${MAX_LINE_LENGTH} characters`);
}

/** Plain lines: one value per line, of the kind the caller names. Blank lines are not records. */
export async function* readPlainLines(
  source: TextSource,
): AsyncGenerator<{ line: number; kind: undefined; value: string }> {
  for await (const { number, text } of numberedLines(source)) {
    if (isBlank(text)) continue;
    yield { line: number, kind: undefined, value: text };
  }
}
