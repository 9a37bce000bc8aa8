/**
 * The streams a command reads and writes. Commands never touch `process` directly, so tests run
 * them in-process with their own streams, and `main.ts` wires the real ones.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface ProgramIo {
  /** Standard output, with backpressure: resolves once the text is accepted. */
  out: (text: string) => void | Promise<void>;
  err: (text: string) => void;
  stdin?: Readable;
  /** True when stderr is a terminal: long commands then show progress there. */
  stderrIsTTY?: boolean;
}

export interface NumberedLine {
  /** 1-based line number. */
  number: number;
  text: string;
}

/** The lines of a stream (LF or CRLF endings), numbered from 1. */
export async function* numberedLines(input: Readable): AsyncGenerator<NumberedLine> {
  let number = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    number++;
    yield { number, text };
  }
}

/** Collects output lines and writes them in blocks, honouring the stream's backpressure. */
export class LineWriter {
  #pending: string[] = [];
  readonly #out: ProgramIo['out'];
  readonly #blockLines: number;

  constructor(out: ProgramIo['out'], blockLines = 1024) {
    this.#out = out;
    this.#blockLines = blockLines;
  }

  async line(text: string): Promise<void> {
    this.#pending.push(text);
    if (this.#pending.length >= this.#blockLines) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const block = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    await this.#out(block);
  }
}
