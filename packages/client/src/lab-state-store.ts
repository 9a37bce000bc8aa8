/**
 * A lab's local store for one session, so that a lab process that dies mid-session resumes where
 * it stopped (the relay's log is the other half: it keeps everything acknowledged).
 *
 *   <dir>/key            the session's blinding key (32 bytes, 0600) — erased once the hop proofs
 *                        are sent (spec/protocol.md §5.2), or when the session ends
 *   <dir>/coin           the lab's coin ρ (32 bytes, 0600): secret until it is revealed
 *   <dir>/order.json     the lab's values in their secret shuffled order (0600)
 *   <dir>/progress.json  the sender chain (seq, prev), the next inbox item, tasks answered with
 *                        their blind_result's digest, whether the proofs were sent
 *   <dir>/inputs/…       the inputs of the answered tasks, until the proofs (lab-input-archive.ts)
 *   <dir>/outbox/<seq>   sealed envelopes not yet acknowledged, written before they are sent
 *   <dir>/results/<n>    the relay's signed result rows, as inbox item n handed them out
 *
 * Write-ahead: an envelope is sealed and written to the outbox, then progress records it, then it
 * is sent; its file is removed once its receipt is verified. Sending the outbox again after a crash
 * sends the same bytes, which the relay answers with the original receipt. Every file is written with
 * @overlap/files (a temporary name, the file and its directory flushed, then renamed), so a crash
 * never leaves half a file; files are 0600 in 0700 folders, whatever the umask.
 */
import { open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { ClientError } from './errors.js';

export interface LabProgressRecord {
  /** The next sequence number of this lab's chain in the session, and the hash of the last envelope. */
  seq: number;
  prev?: string;
  /** True once the join is in the outbox (it is sent before the lab's own set is hashed). */
  joined: boolean;
  /** True once the join and the lab's own chunks are all in the outbox. */
  started: boolean;
  /** The next inbox item to handle. */
  inboxAfter: number;
  answered: string[];
  /** For each answered task, the payload digest D (hex) of its blind_result (spec/protocol.md §5.2). */
  digests: Record<string, string>;
  /** True once the hop proofs are in the outbox: the key is erased then. */
  proved: boolean;
}

/** The secret half of a lab's state: the key is absent once the proofs are sent. */
export interface LabSecrets {
  key?: Uint8Array;
  coin: Uint8Array;
  order: Record<string, string[]>;
}

export class LabStateStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Whether a resumable state is here: its progress was recorded (so something may have been sent). */
  async exists(): Promise<boolean> {
    try {
      await readFile(join(this.dir, 'progress.json'));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the directory is there at all: a lab that died while hashing leaves its secrets and no
   * progress (`exists` is false then), which must still be erased when the session ends.
   */
  async present(): Promise<boolean> {
    return stat(this.dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  /** The directory of the blind tasks' inputs (lab-input-archive.ts). */
  get inputsDir(): string {
    return join(this.dir, 'inputs');
  }

  /** Saves the secret half (key, coin and order); called once, before anything is sent. */
  async saveSecrets(key: Uint8Array, coin: Uint8Array, order: Record<string, string[]>): Promise<void> {
    await makePrivateDirectory(join(this.dir, 'outbox'));
    await makePrivateDirectory(join(this.dir, 'results'));
    await writeAtomic(join(this.dir, 'key'), key);
    await writeAtomic(join(this.dir, 'coin'), coin);
    // A million values are ~30 MB of JSON: written a kind and a few thousand values at a time.
    await writeAtomic(join(this.dir, 'order.json'), orderJsonPieces(order));
  }

  /** The secret half; `proved` (from progress) says whether the key may already be gone. */
  async loadSecrets(proved: boolean): Promise<LabSecrets> {
    try {
      const key = await readFile(join(this.dir, 'key')).then(
        (bytes) => new Uint8Array(bytes),
        (error: NodeJS.ErrnoException) => {
          if (proved && error.code === 'ENOENT') return undefined;
          throw error;
        },
      );
      const coin = new Uint8Array(await readFile(join(this.dir, 'coin')));
      const order = JSON.parse(await readFile(join(this.dir, 'order.json'), 'utf8')) as Record<string, string[]>;
      if (key !== undefined && key.length !== 32) throw new Error('the key file is not 32 bytes');
      if (coin.length !== 32) throw new Error('the coin file is not 32 bytes');
      return key === undefined ? { coin, order } : { key, coin, order };
    } catch (cause) {
      throw new ClientError('BAD_ARGUMENT', `cannot resume from ${this.dir}: ${(cause as Error).message}`, { cause });
    }
  }

  /** The hop proofs are recorded as sent: the session key is overwritten and removed. */
  async eraseKey(): Promise<void> {
    await overwriteAndRemove(join(this.dir, 'key'));
  }

  async saveProgress(progress: LabProgressRecord): Promise<void> {
    await writeAtomic(join(this.dir, 'progress.json'), Buffer.from(JSON.stringify(progress)));
  }

  async loadProgress(): Promise<LabProgressRecord> {
    const record = JSON.parse(await readFile(join(this.dir, 'progress.json'), 'utf8')) as Partial<LabProgressRecord>;
    // A state saved before the proof round existed has neither field: nothing proven, no digest.
    // One saved before the join was sent first has no `joined`: its join went with its chunks.
    return { digests: {}, proved: false, joined: record.started === true, ...record } as LabProgressRecord;
  }

  async putOutbox(seq: number, envelope: Uint8Array): Promise<void> {
    await writeAtomic(this.#path('outbox', seq), envelope);
  }

  async readOutbox(seq: number): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.#path('outbox', seq)));
  }

  async dropOutbox(seq: number): Promise<void> {
    await unlink(this.#path('outbox', seq)).catch(() => {});
  }

  /**
   * Sequence numbers in the outbox, in order; envelopes at or beyond `below` were never recorded
   * in progress and are dropped.
   */
  async outbox(below: number): Promise<number[]> {
    const out: number[] = [];
    for (const seq of await this.#numbered('outbox')) {
      if (seq >= below) await this.dropOutbox(seq);
      else out.push(seq);
    }
    return out;
  }

  /** Keeps the relay's result rows envelope that inbox item `n` handed out (before progress moves past it). */
  async putResult(n: number, envelope: Uint8Array): Promise<void> {
    await writeAtomic(this.#path('results', n), envelope);
  }

  /** The result rows envelopes kept so far, by inbox item, in order. */
  async results(): Promise<{ n: number; envelope: Uint8Array }[]> {
    const out: { n: number; envelope: Uint8Array }[] = [];
    for (const n of await this.#numbered('results')) {
      out.push({ n, envelope: new Uint8Array(await readFile(this.#path('results', n))) });
    }
    return out;
  }

  /** The file of number `n` in `folder` (outbox, results). */
  #path(folder: string, n: number): string {
    return join(this.dir, folder, String(n).padStart(10, '0'));
  }

  /** The numbers of the files in `folder`, ascending (anything else there is ignored). */
  async #numbered(folder: string): Promise<number[]> {
    const names = await readdir(join(this.dir, folder)).catch(() => [] as string[]);
    return names
      .filter((name) => /^\d{10}$/.test(name))
      .sort()
      .map(Number);
  }

  /** The session is over: the key and the coin are overwritten and removed, then the whole directory. */
  async erase(): Promise<void> {
    await overwriteAndRemove(join(this.dir, 'key'));
    await overwriteAndRemove(join(this.dir, 'coin'));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Overwrites a 32-byte secret file with zeros, flushes it, and removes it (no file: nothing to do). */
async function overwriteAndRemove(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r+');
    try {
      await handle.write(new Uint8Array(32), 0, 32, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    return; // no file: nothing to overwrite
  }
  await unlink(path).catch(() => {});
}

/** The order as one JSON document, in pieces. */
function* orderJsonPieces(order: Record<string, string[]>): Generator<string> {
  const kinds = Object.entries(order);
  yield '{';
  for (const [k, [kind, values]] of kinds.entries()) {
    yield `${k === 0 ? '' : ','}${JSON.stringify(kind)}:[`;
    for (let i = 0; i < values.length; i += 4096) {
      const piece = values.slice(i, i + 4096).map((value) => JSON.stringify(value));
      yield `${i === 0 ? '' : ','}${piece.join(',')}`;
    }
    yield ']';
  }
  yield '}';
}

/**
 * Every file of the store is rewritten in place as the session moves on (progress) or after a crash
 * (the same outbox envelope, the same secrets): replacing is what the store asks for.
 */
function writeAtomic(path: string, content: Uint8Array | Iterable<string>): Promise<void> {
  return writeFileAtomic(path, content, { replace: true });
}
