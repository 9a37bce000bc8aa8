/**
 * Content-addressed envelope files: `blobs/<first 2 hex>/<SHA-256 hex>`. Envelopes of 64 KiB and
 * more (tag chunks) go here rather than into SQLite: measured on the project's machine with 2.2 MB
 * chunks, SQLite with synchronous=FULL stores ~110–130 MB/s of blobs and blocks the event loop
 * while it does, whereas file write + fsync + rename + directory fsync runs at ~220 MB/s on libuv's
 * thread pool, in parallel with decoding and verifying the next request.
 *
 * A file is complete and synced before the transaction that refers to it commits; a crash between
 * the two leaves an unreferenced file that fsck reports and a later write of the same bytes reuses;
 * a crash during the write leaves a temporary file, which fsck reports and the relay removes when
 * it starts.
 * Files are written with @overlap/files (0600 in 0700 folders), all but the directory flush, which
 * the log writer does once per commit.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDirectory, syncDirectory, writeFileAtomic } from '@overlap/files';
import { RelayError } from '../errors.js';

export const INLINE_LIMIT = 64 * 1024;

/** A temporary file of @overlap/files' atomic write of a blob (`.<hash>.<random>.tmp`), left by a crash. */
export function isTemporaryBlob(name: string): boolean {
  return /^\.[0-9a-f]{64}\.[0-9a-f]+\.tmp$/.test(name);
}

export class BlobFiles {
  readonly #root: string;
  readonly #synced = new Set<string>(); // directories whose creation is already synced

  constructor(root: string) {
    this.#root = root;
  }

  pathOf(hashHex: string): string {
    return join(this.#root, hashHex.slice(0, 2), hashHex);
  }

  /**
   * Writes `bytes` under its hash: temp file, fsync, rename (over a file of the same bytes, if a
   * crash left one). The rename is durable once its directory is synced: the log writer calls
   * `syncDirectories` once per commit for every blob of that commit, instead of once per blob.
   */
  async write(hashHex: string, bytes: Uint8Array): Promise<void> {
    const directory = join(this.#root, hashHex.slice(0, 2));
    if (!this.#synced.has(directory)) {
      await makePrivateDirectory(directory); // flushes the parent of each directory it creates
      this.#synced.add(directory);
    }
    await writeFileAtomic(this.pathOf(hashHex), bytes, { replace: true, syncDirectory: false });
  }

  /** Makes the renames of these blobs durable (one fsync per directory). */
  async syncDirectories(hashHexes: Iterable<string>): Promise<void> {
    const directories = new Set([...hashHexes].map((hex) => join(this.#root, hex.slice(0, 2))));
    await Promise.all([...directories].map(syncDirectory));
  }

  /**
   * Reads a blob. With `verify` (recovery, fsck) it is checked against its hash, so a damaged file
   * is an error, never data; the inbox skips that (its readers check the envelope's signature).
   */
  async read(hashHex: string, verify = true): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(hashHex));
    } catch (cause) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${hashHex} is missing`, { cause });
    }
    if (verify && createHash('sha256').update(bytes).digest('hex') !== hashHex) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${hashHex} does not match its hash`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /**
   * `read`, synchronously and always checked against the hash: for the session engines, which read
   * a chunk back in the middle of a step (a hop proof's tags, a duplicate's lower hops).
   */
  readSync(hashHex: string): Uint8Array {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(hashHex));
    } catch (cause) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${hashHex} is missing`, { cause });
    }
    if (createHash('sha256').update(bytes).digest('hex') !== hashHex) {
      throw new RelayError('STORAGE_CORRUPT', `blob ${hashHex} does not match its hash`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /**
   * Removes the temporary files interrupted writes left (a crash between a blob's write and its
   * rename): at start, before anything is written. Answers the paths removed.
   */
  async removeTemporaries(): Promise<string[]> {
    const removed: string[] = [];
    let dirs: string[];
    try {
      dirs = await readdir(this.#root);
    } catch {
      return removed;
    }
    for (const dir of dirs) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of await readdir(join(this.#root, dir))) {
        if (!isTemporaryBlob(name)) continue;
        await rm(join(this.#root, dir, name), { force: true });
        removed.push(join(this.#root, dir, name));
      }
    }
    return removed;
  }

  async remove(hashHex: string): Promise<void> {
    await rm(this.pathOf(hashHex), { force: true });
  }
}
