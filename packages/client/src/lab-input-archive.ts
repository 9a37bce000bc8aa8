/**
 * Where a lab keeps the inputs of the blind tasks it answered until it has proven them
 * (spec/protocol.md §5.2: the positions are chosen only once every hop is in, and the proof needs
 * the input tags at those positions). A TagArchive (@overlap/protocol) on disk, in the session's
 * state directory, so that a lab process killed between its answer and its proofs can still prove:
 *
 *   <dir>/<owner>.<kind>.<hop>.<first>   the packed input tags of one answered task (0600)
 *
 * `put` is called by LabSession in the middle of a step and keeps the tags in memory; `flush`
 * writes them (a temporary file, fsync, rename, directory fsync: @overlap/files) and lets them go.
 * The lab runner flushes before its progress records the task as answered (write-ahead), so a
 * resumed lab never believes it answered a task whose inputs it lost — it would be named for the
 * missing proof. The directory goes with the rest of the state when the session ends.
 *
 * What it guards: a task's inputs are other labs' blinded tags; they stay 0600 in the 0700 state
 * folder, like the key, and are erased with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { type ChunkPlace, placeKey, TAG_LENGTH, type TagArchive } from '@overlap/protocol';
import { ClientError } from './errors.js';

export class DiskTagArchive implements TagArchive {
  readonly dir: string;
  /** Tags put and not yet written, by file name. */
  readonly #pending = new Map<string, Uint8Array>();

  constructor(dir: string) {
    this.dir = dir;
  }

  put(place: ChunkPlace, tags: Uint8Array): void {
    this.#pending.set(fileName(place), tags);
  }

  get(place: ChunkPlace): Uint8Array {
    const name = fileName(place);
    const pending = this.#pending.get(name);
    if (pending !== undefined) return pending;
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(this.dir, name));
    } catch (cause) {
      throw new ClientError('BAD_ARGUMENT', `the inputs of blind task ${placeKey(place)} are not in ${this.dir}`, {
        cause,
      });
    }
    if (bytes.length === 0 || bytes.length % TAG_LENGTH !== 0) {
      throw new ClientError('BAD_ARGUMENT', `the inputs of blind task ${placeKey(place)} in ${this.dir} are damaged`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** Writes every input put since the last flush; resolves once they are durable. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    await makePrivateDirectory(this.dir);
    for (const [name, tags] of this.#pending) {
      // Replacing: a lab resumed before its progress recorded the task answers it again.
      await writeFileAtomic(join(this.dir, name), tags, { replace: true });
      this.#pending.delete(name);
    }
  }
}

/** A place as a file name: key ids are hex and kinds [a-z0-9_], so "." cannot be ambiguous. */
function fileName(place: ChunkPlace): string {
  return `${place.owner}.${place.kind}.${place.hop}.${place.first}`;
}
