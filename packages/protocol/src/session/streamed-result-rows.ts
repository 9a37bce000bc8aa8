/**
 * A `result_rows` payload read one row at a time: its `kind` and `lab` decoded, its rows left in
 * the signed bytes until LabSession asks for them (decodeWithLazyArray). For 300,000 shared items
 * the decoded rows would be ~70 MB all at once; read this way each row is short-lived garbage.
 */
import { type CborValue, decodeWithLazyArray } from '../cbor.js';

export class StreamedResultRows {
  /** The payload with `rows` empty: kind, lab, and anything else it carries (for the schema). */
  readonly head: Record<string, CborValue>;
  /** How many rows the payload holds. */
  readonly count: number;
  readonly #items: () => Generator<CborValue, void, undefined>;

  /** Validates the whole payload's encoding (as decodeDeterministic does); throws BAD_ENCODING. */
  constructor(payload: Uint8Array) {
    const { value, count, items } = decodeWithLazyArray(payload, 'rows');
    this.head = value;
    this.count = count;
    this.#items = items;
  }

  /** The rows, each decoded as it is reached. */
  rows(): Generator<CborValue, void, undefined> {
    return this.#items();
  }
}
