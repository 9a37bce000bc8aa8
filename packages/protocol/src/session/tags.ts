/**
 * Tags on the wire: one byte string of concatenated 32-byte tags per chunk (spec/protocol.md §4),
 * not an array of 65,536 small byte strings. Decoding, validating and storing a chunk is then one
 * length check and a copy — what lets the relay ingest chunks at the rate of its disk — and the
 * same bytes are what the engines index.
 */

export const TAG_LENGTH = 32;
export const MAX_TAGS_PER_CHUNK = 65_536;
/** The smallest `chunkSize` a proposal may fix (spec/protocol.md §5.1): small chunks multiply the proofs. */
export const MIN_CHUNK_SIZE = 1024;
/** The `chunkSize` of a proposal that fixes none. */
export const DEFAULT_CHUNK_SIZE = MAX_TAGS_PER_CHUNK;

/** How many tags a packed chunk holds. */
export function tagCount(tags: Uint8Array): number {
  return tags.length / TAG_LENGTH;
}

/** The tag at `index` (a view, not a copy). */
export function tagAt(tags: Uint8Array, index: number): Uint8Array {
  return tags.subarray(index * TAG_LENGTH, (index + 1) * TAG_LENGTH);
}

/** Every tag of a packed chunk, as views. */
export function* eachTag(tags: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < tags.length; offset += TAG_LENGTH) yield tags.subarray(offset, offset + TAG_LENGTH);
}

/** Concatenates 32-byte tags into one byte string. */
export function packTags(tags: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(tags.length * TAG_LENGTH);
  tags.forEach((tag, i) => {
    out.set(tag, i * TAG_LENGTH);
  });
  return out;
}
