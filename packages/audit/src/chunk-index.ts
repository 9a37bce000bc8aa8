/**
 * The tag chunks of a session as the log holds them, by place (owner, kind, hop, first), with what
 * the checks after `hops` read of each: its log index, signer, tags and payload digest D (the
 * header's `digest`: the positions a hop proves are drawn from it, spec/ciphersuite.md §10).
 *
 * Built by the `hops` check from the envelopes that verified; the tags are views into the
 * transcript's bytes, never copied.
 */
import { placeKey, TAG_LENGTH, tagAt, tagCount } from '@overlap/protocol';

export interface LoggedChunk {
  index: number;
  sender: string;
  owner: string;
  kind: string;
  hop: number;
  first: number;
  /** Packed tags, 32 bytes each. */
  tags: Uint8Array;
  /** SHA-256 of the envelope's payload as logged (its header's `digest`). */
  digest: Uint8Array;
}

export class ChunkIndex {
  /** Every chunk in log order. */
  readonly inLogOrder: LoggedChunk[] = [];
  readonly #byPlace = new Map<string, LoggedChunk>();
  /** By `owner|kind|hop`: that hop's chunks, sorted by `first` once `seal()` ran. */
  readonly #byHop = new Map<string, LoggedChunk[]>();

  add(chunk: LoggedChunk): void {
    this.inLogOrder.push(chunk);
    this.#byPlace.set(placeKey(chunk), chunk);
    const key = hopKey(chunk.owner, chunk.kind, chunk.hop);
    const list = this.#byHop.get(key);
    if (list) list.push(chunk);
    else this.#byHop.set(key, [chunk]);
  }

  /** Sorts each hop's chunks by position; called once every chunk is in. */
  seal(): void {
    for (const list of this.#byHop.values()) list.sort((a, b) => a.first - b.first);
  }

  at(owner: string, kind: string, hop: number, first: number): LoggedChunk | undefined {
    return this.#byPlace.get(placeKey({ owner, kind, hop, first }));
  }

  /** One hop of one set: its chunks in position order (empty when none was logged). */
  hop(owner: string, kind: string, hop: number): readonly LoggedChunk[] {
    return this.#byHop.get(hopKey(owner, kind, hop)) ?? [];
  }

  /** The tag at set position `position` of one hop of a set, found by its chunk (not by the cut). */
  tagAt(owner: string, kind: string, hop: number, position: number): Uint8Array {
    const chunks = this.hop(owner, kind, hop);
    let low = 0;
    let high = chunks.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const chunk = chunks[mid] as LoggedChunk;
      if (position < chunk.first) high = mid - 1;
      else if (position >= chunk.first + tagCount(chunk.tags)) low = mid + 1;
      else return tagAt(chunk.tags, position - chunk.first);
    }
    throw new RangeError(`no tag at position ${position} of hop ${hop} of ${owner}'s ${kind} set`);
  }
}

const hopKey = (owner: string, kind: string, hop: number) => `${owner}|${kind}|${hop}`;

/** The number of tags in a chunk. */
export const chunkLength = (chunk: LoggedChunk): number => chunk.tags.length / TAG_LENGTH;
