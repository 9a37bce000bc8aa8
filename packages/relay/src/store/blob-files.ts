/**
 * Content-addressed envelope files: `blobs/<first 2 hex>/<SHA-256 hex>`. Envelopes of 64 KiB and
 * more (tag chunks) go here rather than into SQLite: measured on the project's machine with 2.2 MB
 * chunks, SQLite with synchronous=FULL stores ~110–130 MB/s of blobs and blocks the event loop
 * while it does, whereas file write + fsync + rename + directory fsync runs at ~220 MB/s on libuv's
 * thread pool, in parallel with decoding and verifying the next request.
 *
 * A file is complete and synced before the transaction that refers to it commits; a crash between
 * the two leaves an unreferenced file that fsck reports and a later write of the same bytes reuses.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RelayError } from '../errors.js';

export const INLINE_LIMIT = 64 * 1024;

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
   * Writes `bytes` under its hash: temp file, fsync, rename. The rename is durable once its
   * directory is synced: the log writer calls `syncDirectories` once per commit for every blob of
   * that commit, instead of once per blob.
   */
  async write(hashHex: string, bytes: Uint8Array): Promise<void> {
    const directory = join(this.#root, hashHex.slice(0, 2));
    if (!this.#synced.has(directory)) {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await syncDirectory(this.#root);
      this.#synced.add(directory);
    }
    const target = this.pathOf(hashHex);
    const temporary = `${target}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
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

  async remove(hashHex: string): Promise<void> {
    await rm(this.pathOf(hashHex), { force: true });
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
