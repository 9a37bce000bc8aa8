/**
 * Where an engine finds tags again after it has passed them on: the proofs of spec/protocol.md §5.2
 * are checked at positions chosen only once every hop is in, and the blame of §5.3 looks at lower
 * hops. The relay keeps every chunk it accepted (its shell reads them back from its store); a lab
 * keeps the inputs of the blind tasks it answered (its shell keeps them on disk).
 *
 * A place is one chunk of one hop of one set: (owner, kind, hop, first).
 */

export interface ChunkPlace {
  owner: string;
  kind: string;
  hop: number;
  first: number;
}

export interface TagArchive {
  /**
   * Records the tags of a place, once it is accepted (each place at most once), and — from the
   * relay's engine — the bytes of the envelope they came in (`source`), for `source()`.
   */
  put(place: ChunkPlace, tags: Uint8Array, source?: Uint8Array): void;
  /** The tags recorded for a place; throws if there are none. */
  get(place: ChunkPlace): Uint8Array;
  /**
   * The envelope a place's tags came in, when it was put with one; throws if it was not. An
   * archive with it lets the relay's engine hold the hop-0 chunks that wait for the last join by
   * place only, and read them back when it sends them on.
   */
  source?(place: ChunkPlace): Uint8Array;
}

/** "owner|kind|hop|first": a place as a map key. */
export function placeKey(place: ChunkPlace): string {
  return `${place.owner}|${place.kind}|${place.hop}|${place.first}`;
}

/** The archive of a process that can afford to hold every chunk: tests, simulations, small runs. */
export class InMemoryTagArchive implements TagArchive {
  readonly #chunks = new Map<string, Uint8Array>();
  readonly #sources = new Map<string, Uint8Array>();

  put(place: ChunkPlace, tags: Uint8Array, source?: Uint8Array): void {
    this.#chunks.set(placeKey(place), tags);
    if (source !== undefined) this.#sources.set(placeKey(place), source);
  }

  source(place: ChunkPlace): Uint8Array {
    const source = this.#sources.get(placeKey(place));
    if (source === undefined) throw new Error(`no envelope recorded for ${placeKey(place)}`);
    return source;
  }

  get(place: ChunkPlace): Uint8Array {
    const tags = this.#chunks.get(placeKey(place));
    if (tags === undefined) throw new Error(`no tags recorded for ${placeKey(place)}`);
    return tags;
  }
}
