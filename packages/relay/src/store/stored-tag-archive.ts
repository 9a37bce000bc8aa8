/**
 * The relay's TagArchive (@overlap/protocol's tag-archive.ts) for one hosted session: the tags of
 * a place are read back from the envelope the log holds for it, not kept in memory. The session
 * engine reads accepted chunks again for the hop proofs (spec/protocol.md §5.2: the inputs and
 * outputs at the proven positions) and for the blame of a duplicate (§5.3: lower hops), so a
 * session of three million-item sets does not hold 200 MB of chunks for the proof round.
 *
 * The hop-0 chunks that wait for a session's last join are held by the engine by place only: their
 * tags and envelopes are read back from here when they are sent on (`source`), so a session whose
 * labs never join holds none of its chunks in memory.
 *
 * A chunk the engine has just accepted is not in the store yet (its envelope is committed after the
 * engine step, with the group commit of log-writer.ts): `put` keeps it in memory until the shell
 * says its envelope is committed (`takeRecent` then `release`), and only until then.
 *
 * What it guards: what it answers is what the relay logged, so the verdict on a proof (and the lab
 * it names) can be recomputed by an auditor from the transcript. A blob is checked against its hash
 * as it is read (BlobFiles.readSync), and the envelope's place against the place asked for: a damaged
 * store is a STORAGE_CORRUPT error, never tags that would blame an honest lab.
 */
import { fromHex } from '@overlap/crypto';
import { type ChunkPlace, decodeDeterministic, parseMessage, placeKey, type TagArchive } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import type { BlobFiles } from './blob-files.js';
import type { Db } from './database.js';

/** The bytes of a committed envelope, by its hash (hex), read synchronously. */
export type CommittedEnvelopeReader = (hashHex: string) => Uint8Array;

/** Reads committed envelopes from the relay's database (small ones) and blob files (chunks). */
export function committedEnvelopeReader(db: Db, blobs: BlobFiles): CommittedEnvelopeReader {
  const byHash = db.prepare<[Uint8Array], { inline: Buffer | null }>('SELECT inline FROM entries WHERE hash = ?');
  return (hashHex) => {
    const row = byHash.get(fromHex(hashHex));
    if (row === undefined) throw new RelayError('STORAGE_CORRUPT', `no committed envelope ${hashHex}`);
    if (row.inline) return new Uint8Array(row.inline.buffer, row.inline.byteOffset, row.inline.length);
    return blobs.readSync(hashHex);
  };
}

/** How many chunks read from the store stay decoded (a blame or a proof reads one chunk several times). */
const CACHED_CHUNKS = 2;

export class StoredTagArchive implements TagArchive {
  /** Place key -> hash (hex) of the envelope that filled it: the hosted session's `places`. */
  readonly #places: ReadonlyMap<string, string>;
  readonly #read: CommittedEnvelopeReader;
  /** Chunks accepted and not yet known to be committed, by place key (with their envelope, when given). */
  readonly #pending = new Map<string, { tags: Uint8Array; source?: Uint8Array }>();
  /** Place keys put since the last `takeRecent`. */
  #recent: string[] = [];
  /** The chunks last read from the store, most recent last. */
  readonly #cache = new Map<string, Uint8Array>();

  constructor(places: ReadonlyMap<string, string>, read: CommittedEnvelopeReader) {
    this.#places = places;
    this.#read = read;
  }

  put(place: ChunkPlace, tags: Uint8Array, source?: Uint8Array): void {
    const key = placeKey(place);
    this.#pending.set(key, source === undefined ? { tags } : { tags, source });
    this.#recent.push(key);
  }

  /** The envelope a place's tags came in: the logged one, once committed (checked against its hash as it is read). */
  source(place: ChunkPlace): Uint8Array {
    const key = placeKey(place);
    const pending = this.#pending.get(key)?.source;
    if (pending !== undefined) return pending;
    return this.#read(this.#hashOf(key));
  }

  get(place: ChunkPlace): Uint8Array {
    const key = placeKey(place);
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending.tags;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const tags = this.#tagsOf(key, this.#hashOf(key));
    this.#cache.set(key, tags);
    if (this.#cache.size > CACHED_CHUNKS) this.#cache.delete(this.#cache.keys().next().value as string);
    return tags;
  }

  /** The places put since the last call: release them once their envelopes are committed. */
  takeRecent(): string[] {
    const recent = this.#recent;
    this.#recent = [];
    return recent;
  }

  /** These places' envelopes are committed: their tags are read from the store from now on. */
  release(keys: readonly string[]): void {
    for (const key of keys) this.#pending.delete(key);
  }

  /** Drops everything held in memory (the session is over). */
  clear(): void {
    this.#pending.clear();
    this.#cache.clear();
    this.#recent = [];
  }

  #hashOf(key: string): string {
    const hash = this.#places.get(key);
    if (hash === undefined) throw new RelayError('STORAGE_CORRUPT', `no envelope is recorded for ${key}`);
    return hash;
  }

  #tagsOf(key: string, hash: string): Uint8Array {
    const bytes = this.#read(hash);
    try {
      // The bytes were opened and checked when they were accepted, and are checked against their
      // hash as they are read: decoding is enough.
      const outer = decodeDeterministic(bytes) as { p?: unknown };
      if (!(outer.p instanceof Uint8Array)) throw new Error('no payload');
      const chunk = parseMessage('tag_chunk', decodeDeterministic(outer.p));
      if (placeKey(chunk) !== key) throw new Error(`it holds ${placeKey(chunk)}`);
      return chunk.tags;
    } catch (cause) {
      throw new RelayError('STORAGE_CORRUPT', `the envelope ${hash} of ${key} is not its chunk`, { cause });
    }
  }
}
