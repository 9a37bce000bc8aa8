/**
 * A witness's memory, on disk: per log origin, the checkpoint it cosigned last, as the log signed
 * it; and the requests it refused that contradict that checkpoint (evidence of a fork).
 *
 *   <dir>/witness.json                   { "format": "overlap-witness-state/1", "vkey": …, "origins": [ … ] }:
 *                                        whose state, and every log it ever cosigned (written first)
 *   <dir>/witness.lock                   held by the one witness process that uses <dir>
 *   <dir>/logs/<sha256(origin) hex>.json { "origin": …, "note": <signed checkpoint note> }
 *   <dir>/evidence/<time>-<origin hash>-<size>.txt   the cosigned note, then the refused request
 *
 * Every file is written atomically and durably (@overlap/files: temporary file, fsync, rename,
 * directory fsync), 0600 in 0700 folders, before the witness answers: a witness killed at any
 * moment comes back with either the old checkpoint or the new one, and it answered 200 only for a
 * checkpoint that is on disk. A file read back is checked (its note parses, its origin is its
 * name's) rather than trusted; one that fails stops the witness (`STATE_DAMAGED`) instead of being
 * forgotten, because forgetting would let it cosign a second history.
 *
 * For the same reason a state directory is made once, by `init`, never on the fly: `open` refuses a
 * directory without its `witness.json` (a witness restarted on an empty or wrongly mounted
 * directory would cosign any history), and the Witness refuses a state made for another key.
 * `witness.json` lists every origin the witness cosigned for, written before its first checkpoint:
 * a listed origin whose checkpoint file is gone (a partial restore) stops the witness too.
 */
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, toHex } from '@overlap/crypto';
import { acquireLock, FilesError, type HeldLock, makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { parseCheckpoint, parseSignedNote } from '@overlap/log';
import type { CosignedCheckpoint } from './add-checkpoint.js';
import { WitnessError } from './errors.js';

const FORMAT = 'overlap-witness-state/1';
const MARKER = 'witness.json';

/** Evidence files kept at most; past it, refusals are still answered, and counted, but not kept. */
export const MAX_EVIDENCE_FILES = 1000;
const encoder = new TextEncoder();

export class WitnessState {
  readonly dir: string;
  /** The verifier key of the witness this state belongs to (from `witness.json`). */
  readonly vkey: string;
  readonly #lock: HeldLock;
  readonly #latest: Map<string, CosignedCheckpoint>;
  readonly #origins: string[];
  #evidenceFiles: number;

  private constructor(
    dir: string,
    vkey: string,
    lock: HeldLock,
    latest: Map<string, CosignedCheckpoint>,
    origins: string[],
    evidenceFiles: number,
  ) {
    this.dir = dir;
    this.vkey = vkey;
    this.#origins = origins;
    this.#lock = lock;
    this.#latest = latest;
    this.#evidenceFiles = evidenceFiles;
  }

  /**
   * Makes a new, empty state in `dir` for the witness whose verifier key is `vkey`. Refuses
   * (`STATE_EXISTS`) a directory that holds a witness state already, whoever's it is.
   */
  static async init(dir: string, vkey: string): Promise<void> {
    await makePrivateDirectory(dir);
    const lock = await lockState(dir);
    try {
      if (await exists(join(dir, MARKER)))
        throw new WitnessError('STATE_EXISTS', `${dir} holds a witness state already (${MARKER}); it is kept as it is`);
      const logs = await readdir(join(dir, 'logs')).catch(() => []);
      if (logs.length > 0)
        throw new WitnessError(
          'STATE_EXISTS',
          `${join(dir, 'logs')} holds checkpoints but ${dir} has no ${MARKER}: restore it from a backup rather than start over`,
        );
      await makePrivateDirectory(join(dir, 'logs'));
      await makePrivateDirectory(join(dir, 'evidence'));
      await writeFileAtomic(join(dir, MARKER), markerText(vkey, []));
    } catch (error) {
      if (error instanceof WitnessError) throw error;
      throw new WitnessError('STORAGE_FAILED', `cannot make the witness state ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      await lock.release();
    }
  }

  /**
   * Opens the state `init` made in `dir`, holding its lock until `close()`. Refuses
   * (`STATE_MISSING`) a directory without one: it is never created here.
   */
  static async open(dir: string): Promise<WitnessState> {
    if (!(await exists(join(dir, MARKER))))
      throw new WitnessError(
        'STATE_MISSING',
        `${dir} holds no witness state (${MARKER}): run \`overlap witness init\` once for a new witness; if this witness has cosigned before, restore its state from a backup (a witness that forgets may cosign a fork)`,
      );
    const lock = await lockState(dir);
    try {
      const { vkey, origins } = await readMarker(join(dir, MARKER));
      await removeTemporaryFiles(dir);
      await removeTemporaryFiles(join(dir, 'logs'));
      await removeTemporaryFiles(join(dir, 'evidence'));
      const latest = await readLatest(join(dir, 'logs'));
      for (const origin of origins) {
        if (!latest.has(origin))
          throw new WitnessError(
            'STATE_DAMAGED',
            `${join(dir, MARKER)} says this witness cosigned checkpoints of ${origin}, but its file in ${join(dir, 'logs')} is gone: restore it from a backup, or retire this witness (a witness that forgets may cosign a fork)`,
          );
      }
      for (const origin of latest.keys()) {
        if (!origins.includes(origin))
          throw new WitnessError(
            'STATE_DAMAGED',
            `${join(dir, MARKER)} does not list ${origin}, whose checkpoint is in logs/`,
          );
      }
      const evidenceFiles = (await readdir(join(dir, 'evidence'))).length;
      return new WitnessState(dir, vkey, lock, latest, origins, evidenceFiles);
    } catch (error) {
      await lock.release();
      if (error instanceof WitnessError) throw error;
      throw new WitnessError('STATE_DAMAGED', `${dir}: ${(error as Error).message}`, { cause: error });
    }
  }

  latest(origin: string): CosignedCheckpoint | undefined {
    return this.#latest.get(origin);
  }

  /** Every origin with a cosigned checkpoint, and its size. */
  sizes(): Map<string, number> {
    return new Map([...this.#latest].map(([origin, { checkpoint }]) => [origin, checkpoint.size]));
  }

  /** Durably records `cosigned` as the latest for its origin; only then is it in memory. */
  async record(cosigned: CosignedCheckpoint): Promise<void> {
    const { origin } = cosigned.checkpoint;
    const body = `${JSON.stringify({ origin, note: cosigned.note })}\n`;
    try {
      // The origin is listed before its first checkpoint is written: a state that loses the
      // checkpoint file later is then known to be damaged, not taken for a log never cosigned.
      if (!this.#origins.includes(origin)) {
        await writeFileAtomic(join(this.dir, MARKER), markerText(this.vkey, [...this.#origins, origin]), {
          replace: true,
        });
        this.#origins.push(origin);
      }
      await writeFileAtomic(join(this.dir, 'logs', `${originHash(origin)}.json`), body, { replace: true });
    } catch (cause) {
      throw new WitnessError(
        'STORAGE_FAILED',
        `cannot record the checkpoint of ${origin}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    this.#latest.set(origin, cosigned);
  }

  /** Keeps a refused request that contradicts the cosigned checkpoint; false once the cap is met. */
  async keepEvidence(origin: string, cosigned: CosignedCheckpoint, request: string, now: Date): Promise<boolean> {
    if (this.#evidenceFiles >= MAX_EVIDENCE_FILES) return false;
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    const name = `${stamp}-${originHash(origin).slice(0, 16)}-${cosigned.checkpoint.size}-${toHex(sha256(encoder.encode(request))).slice(0, 8)}.txt`;
    const body = `cosigned\n${cosigned.note}\nrefused\n${request}`;
    try {
      await writeFileAtomic(join(this.dir, 'evidence', name), body);
    } catch (error) {
      if (error instanceof FilesError && error.code === 'EXISTS') return true; // the same request, kept already
      throw new WitnessError('STORAGE_FAILED', `cannot keep evidence: ${(error as Error).message}`, { cause: error });
    }
    this.#evidenceFiles++;
    return true;
  }

  async close(): Promise<void> {
    await this.#lock.release();
  }
}

async function lockState(dir: string): Promise<HeldLock> {
  try {
    return await acquireLock(join(dir, 'witness.lock'), { what: `the witness state ${dir}` });
  } catch (cause) {
    if (cause instanceof FilesError && cause.code === 'LOCKED')
      throw new WitnessError('STATE_LOCKED', cause.message, { cause });
    throw cause;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function markerText(vkey: string, origins: readonly string[]): string {
  return `${JSON.stringify({ format: FORMAT, vkey, origins })}\n`;
}

async function readMarker(path: string): Promise<{ vkey: string; origins: string[] }> {
  let marker: { format?: unknown; vkey?: unknown; origins?: unknown };
  try {
    marker = JSON.parse(await readFile(path, 'utf8')) as typeof marker;
  } catch (cause) {
    throw new WitnessError('STATE_DAMAGED', `${path}: not readable JSON`, { cause });
  }
  const { origins } = marker ?? {};
  if (
    marker === null ||
    typeof marker !== 'object' ||
    marker.format !== FORMAT ||
    typeof marker.vkey !== 'string' ||
    !Array.isArray(origins) ||
    !origins.every((o) => typeof o === 'string')
  )
    throw new WitnessError('STATE_DAMAGED', `${path}: expected { "format": "${FORMAT}", "vkey": …, "origins": […] }`);
  return { vkey: marker.vkey, origins: origins as string[] };
}

function originHash(origin: string): string {
  return toHex(sha256(encoder.encode(origin)));
}

async function readLatest(dir: string): Promise<Map<string, CosignedCheckpoint>> {
  const latest = new Map<string, CosignedCheckpoint>();
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const damaged = (detail: string, cause?: unknown) =>
      new WitnessError(
        'STATE_DAMAGED',
        `${path}: ${detail}; restore it from a backup, or retire this witness (a witness that forgets may cosign a fork)`,
        {
          cause,
        },
      );
    if (!/^[0-9a-f]{64}\.json$/.test(name)) throw damaged('not a file this witness writes');
    let origin: unknown;
    let note: unknown;
    try {
      ({ origin, note } = JSON.parse(await readFile(path, 'utf8')) as { origin: unknown; note: unknown });
    } catch (cause) {
      throw damaged('not readable JSON', cause);
    }
    if (typeof origin !== 'string' || typeof note !== 'string') throw damaged('expected an origin and a note');
    if (`${originHash(origin)}.json` !== name) throw damaged(`it holds the checkpoint of another origin (${origin})`);
    let checkpoint: CosignedCheckpoint['checkpoint'];
    try {
      checkpoint = parseCheckpoint(parseSignedNote(note).text);
    } catch (cause) {
      throw damaged('its note is not a signed checkpoint', cause);
    }
    if (checkpoint.origin !== origin)
      throw damaged(`its note is a checkpoint of ${checkpoint.origin}, not of ${origin}`);
    latest.set(origin, { checkpoint, note });
  }
  return latest;
}

/** A crash between creating a temporary file and renaming it leaves one: it never held an answer. */
async function removeTemporaryFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => {});
  }
}
