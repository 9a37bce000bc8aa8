/**
 * Text input shared by the importers: strict UTF-8 decoding (invalid bytes are a `BAD_FILE` error
 * naming the line and the exact byte offset, never silently replaced — two different byte strings must not turn into
 * one "duplicate"), and a splitter into numbered lines (LF or CRLF) that holds at most one line and
 * one chunk, rejects lines over `MAX_LINE_LENGTH`, and scans each character once.
 */
import type { IndicatorError } from '../errors.js';
import { isBlank } from '../text.js';
import { badFile } from './file-error.js';
import type { TextSource } from './record.js';
import { firstInvalidUtf8, incompleteTailStart } from './utf8-scan.js';

/** Longest line accepted (characters): a real record is far shorter; a file without line breaks is not records. */
export const MAX_LINE_LENGTH = 1024 * 1024;

export interface NumberedLine {
  number: number;
  text: string;
}

/** The source as strings, decoding bytes as strict UTF-8 (a leading byte-order mark is dropped). */
export async function* utf8Strings(source: TextSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  // Where the current chunk starts (bytes and line breaks before it), and the bytes of a character
  // the decoder holds unfinished (at most 3), so an error can name the exact byte and line.
  let offset = 0;
  let lineBreaks = 0;
  let carry: Uint8Array = new Uint8Array(0);
  let first = true;
  for await (const chunk of source) {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch (cause) {
        throw invalidUtf8(carry, chunk, offset, lineBreaks, cause);
      }
      offset += chunk.length;
      lineBreaks += countLineBreaks(chunk);
      const tail = concat(carry, chunk.subarray(Math.max(0, chunk.length - 3)));
      carry = tail.subarray(incompleteTailStart(tail));
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
  } catch (cause) {
    const byte = offset - carry.length;
    throw badFile(
      `the input ends inside a UTF-8 character that starts at byte ${byte}`,
      { line: lineBreaks + 1, byte },
      cause,
    );
  }
}

/** The error for a chunk the decoder refused: the first ill-formed byte, its offset and line. */
function invalidUtf8(
  carry: Uint8Array,
  chunk: Uint8Array,
  offset: number,
  lineBreaks: number,
  cause: unknown,
): IndicatorError {
  // Scan from where the decoder's unfinished character starts.
  const joined = concat(carry, chunk);
  const at = Math.max(0, firstInvalidUtf8(joined, false));
  const byte = offset - carry.length + at;
  // carry holds no line break (its bytes are all 0x80 or above)
  const line = lineBreaks + countLineBreaks(chunk.subarray(0, Math.max(0, at - carry.length))) + 1;
  const value = (joined[at] as number).toString(16).toUpperCase().padStart(2, '0');
  return badFile(
    `invalid UTF-8 at byte ${byte} (0x${value}): the file is not UTF-8 text (Latin-1 or Windows-1252?); save it as UTF-8`,
    { line, byte },
    cause,
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function countLineBreaks(bytes: Uint8Array): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = buffer.indexOf(10); i >= 0; i = buffer.indexOf(10, i + 1)) n++;
  return n;
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
  throw badFile(`the line is longer than ${MAX_LINE_LENGTH} characters (is this a text file of records?)`, { line });
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
