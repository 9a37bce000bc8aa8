/**
 * Splits a text stream into numbered lines (LF or CRLF), without ever holding more than one line
 * and one chunk in memory. A UTF-8 byte-order mark at the start is dropped. Shared by the plain
 * lines and JSONL importers.
 */
import type { TextSource } from './record.js';

export interface NumberedLine {
  number: number;
  text: string;
}

export async function* numberedLines(source: TextSource): AsyncGenerator<NumberedLine> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending = '';
  let number = 0;
  let first = true;
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && pending.length > 0) {
      if (pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
      first = false;
    }
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      number++;
      yield { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) {
    number++;
    yield { number, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending };
  }
}

/** Plain lines: one value per line, of the kind the caller names. Blank lines are not records. */
export async function* readPlainLines(
  source: TextSource,
): AsyncGenerator<{ line: number; kind: undefined; value: string }> {
  for await (const { number, text } of numberedLines(source)) {
    if (text.trim() === '') continue;
    yield { line: number, kind: undefined, value: text };
  }
}
