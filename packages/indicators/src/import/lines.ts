/**
 * Text input shared by the importers: strict UTF-8 decoding (invalid bytes are a `BAD_FILE` error
 * naming the line and the exact byte offset, never silently replaced — two different byte strings must not turn into
 * one "duplicate"), and a splitter into numbered lines (LF or CRLF) that holds at most one line and
 * one chunk, rejects lines over `MAX_LINE_LENGTH` (or, for the chat format, skips lines over its
 * own bound, `linesUpTo`), and scans each character once.
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

/** A line that `linesUpTo` read (`text`), or one over its bound, whose text was skipped unread (`text` undefined). */
export interface BoundedLine {
  number: number;
  text: string | undefined;
}

/**
 * The source's lines, numbered (LF or CRLF), each of at most `maxLength` characters (a CR before
 * the LF counted). A longer line is yielded as soon as it is over the bound, with no text, and the
 * rest of it is skipped without being held: at most one line of `maxLength` and one chunk are held.
 * Each chunk is searched once and kept as it is until its line ends (no string grown and searched
 * again per chunk), so a long line costs its length, not its length times its chunks.
 */
export function linesUpTo(source: TextSource, maxLength: number): AsyncGenerator<BoundedLine> {
  return splitLines(source, maxLength, false);
}

/** The source's lines, numbered; a line over MAX_LINE_LENGTH is a `BAD_FILE` error naming it. */
export function numberedLines(source: TextSource): AsyncGenerator<NumberedLine> {
  // With `fail`, no line without text is yielded: the error is thrown instead.
  return splitLines(source, MAX_LINE_LENGTH, true) as AsyncGenerator<NumberedLine>;
}

/** linesUpTo, or with `fail` numberedLines: a line over the bound is then the file's error, as soon as it is seen. */
async function* splitLines(source: TextSource, maxLength: number, fail: boolean): AsyncGenerator<BoundedLine> {
  let parts: string[] = []; // the current line's text so far, chunk by chunk
  let length = 0; // characters in parts
  let skipping = false; // the current line is over the bound and was yielded: drop it up to its end
  let number = 0;
  for await (const chunk of utf8Strings(source)) {
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      number++;
      if (skipping) {
        skipping = false;
      } else {
        const piece = chunk.slice(start, newline);
        if (length + piece.length > maxLength) {
          if (fail) tooLong(number);
          yield { number, text: undefined };
        } else {
          const text = length === 0 ? piece : parts.join('') + piece;
          yield { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
        }
      }
      parts = [];
      length = 0;
      start = newline + 1;
    }
    if (skipping || start === chunk.length) continue;
    const rest = start === 0 ? chunk : chunk.slice(start);
    if (length + rest.length > maxLength) {
      parts = [];
      length = 0;
      skipping = true;
      if (fail) tooLong(number + 1);
      yield { number: number + 1, text: undefined };
    } else {
      parts.push(rest);
      length += rest.length;
    }
  }
  if (!skipping && length > 0) {
    number++;
    const text = parts.join('');
    yield { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
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
