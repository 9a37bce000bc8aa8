/**
 * What a lab remembers of each relay across runs and processes (spec/relay-api.md §7): the trust
 * roots it pinned — the log's verifier key and the forum admin's key — and the last checkpoint of
 * the log it verified. One file per relay URL in the trust directory (0600 in 0700, written
 * atomically), outside the per-session state directories, which are erased:
 *
 *   <dir>/<sha256(relay URL) hex, 32 digits>.json
 *     { "type": "overlap-trust", "version": 1, "relay": url, "origin": tstr, "log_key": vkey,
 *       "admin_key": hex, "pinned": "configured" / "first-use", "pinned_at": ISO 8601,
 *       "checkpoint": signed note / null }
 *   <dir>/evidence/<time>-<kind>.json   a log that contradicts what was remembered (log-evidence.ts)
 *
 * Every write of a file happens under its lock (`<file>.lock`, @overlap/files), and a checkpoint
 * is written only over the one it was proven against (read, proven with no lock held, then
 * compared again under the lock), so that several processes of one lab (a `session run` and a
 * `session list`, two agents' sessions) each prove their checkpoints against the same remembered
 * one and never write an older one over it.
 *
 * Pinning: keys the lab configured are pinned as such (a configured key that differs from the
 * pinned one is the lab's re-pin: noted, not refused); without configured keys, the pinned ones are
 * used, and a relay that announces others is refused showing both; with none pinned yet, the
 * relay's announced keys are pinned on first use, with a warning (or refused, `requirePinned`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, toHex } from '@overlap/crypto';
import { acquireLock, type HeldLock, makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { ClientError } from './errors.js';

export interface AnnouncedRoots {
  origin: string;
  /** The log's verifier key (vkey) the relay announces. */
  logKey: string;
  /** The admin key the relay announces, hex. */
  adminKey: string;
}

export interface ConfiguredRoots {
  logKey?: string;
  /** Hex. */
  adminKey?: string;
}

export interface PinnedRoots {
  logKey: string;
  adminKey: string;
  /** How they came to be trusted this run. */
  source: 'configured' | 'pinned' | 'first-use';
  /** What the lab should be told (a first use, a re-pin). */
  warnings: string[];
}

interface TrustRecord {
  type: 'overlap-trust';
  version: 1;
  relay: string;
  origin: string;
  log_key: string;
  admin_key: string;
  pinned: 'configured' | 'first-use';
  pinned_at: string;
  checkpoint: string | null;
}

const encoder = new TextEncoder();
/** How long a process waits for another of the same lab to finish with the file. */
const LOCK_WAIT_MS = 60_000;

export class TrustStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The file of a relay (by its URL, as the lab configured it). */
  fileOf(relayUrl: string): string {
    return join(this.dir, `${toHex(sha256(encoder.encode(relayUrl))).slice(0, 32)}.json`);
  }

  /**
   * The roots to trust for `relayUrl` this run, pinned durably: refuses (`TRUST_ROOT_MISMATCH`) a
   * relay that announces keys other than the pinned ones, and (`TRUST_ROOT_MISSING`, with
   * `requirePinned`) one whose keys are neither configured nor pinned.
   */
  async pin(
    relayUrl: string,
    announced: AnnouncedRoots,
    configured: ConfiguredRoots,
    options: { requirePinned?: boolean; now?: Date } = {},
  ): Promise<PinnedRoots> {
    return this.#withRecord(relayUrl, async (record) => {
      const now = (options.now ?? new Date()).toISOString();
      const warnings: string[] = [];
      const roots = { logKey: '', adminKey: '' };
      const how: Record<keyof typeof roots, 'configured' | 'pinned' | 'first-use'> = {
        logKey: 'first-use',
        adminKey: 'first-use',
      };
      for (const [key, field] of [
        ['logKey', 'log_key'],
        ['adminKey', 'admin_key'],
      ] as const) {
        const wanted = configured[key];
        const pinned = record?.[field];
        if (wanted !== undefined) {
          roots[key] = wanted;
          how[key] = 'configured';
          if (pinned !== undefined && pinned !== wanted) {
            warnings.push(
              `re-pinned the ${field.replace('_', ' ')} of ${relayUrl} as configured: ${wanted} (was ${pinned})`,
            );
          }
        } else if (pinned !== undefined) {
          roots[key] = pinned;
          how[key] = 'pinned';
        } else {
          roots[key] = announced[key];
        }
      }
      const firstUse = (['logKey', 'adminKey'] as const).filter((key) => how[key] === 'first-use');
      const named = (key: 'logKey' | 'adminKey') => (key === 'logKey' ? 'log key' : 'admin key');
      if (firstUse.length > 0 && options.requirePinned) {
        throw new ClientError(
          'TRUST_ROOT_MISSING',
          `no ${firstUse.map(named).join(' or ')} is configured or pinned for ${relayUrl}: configure trust.log_key and trust.admin_key as the forum publishes them (the relay announces ${firstUse.map((k) => `${named(k)} ${announced[k]}`).join(' and ')})`,
        );
      }
      for (const key of ['logKey', 'adminKey'] as const) {
        if (roots[key] === announced[key]) continue;
        const since =
          how[key] === 'pinned'
            ? ` (pinned ${record?.pinned}, ${record?.pinned_at}, in ${this.fileOf(relayUrl)})`
            : ' (configured)';
        throw new ClientError(
          'TRUST_ROOT_MISMATCH',
          `the relay at ${relayUrl} announces ${named(key)} ${announced[key]}, but this lab trusts ${roots[key]}${since}: refusing it. If the forum rotated its key, check the new one with the forum and configure it (trust.${key === 'logKey' ? 'log_key' : 'admin_key'})`,
        );
      }
      if (firstUse.length > 0) {
        warnings.push(
          `TRUSTING ON FIRST USE: pinned the ${firstUse.map((k) => `${named(k)} ${announced[k]}`).join(' and the ')} that ${relayUrl} announces, in ${this.fileOf(relayUrl)}; check them with the forum: a relay that announces others later is refused`,
        );
      }
      const unchanged =
        record !== undefined &&
        record.log_key === roots.logKey &&
        record.admin_key === roots.adminKey &&
        record.origin === announced.origin;
      const source: PinnedRoots['source'] =
        firstUse.length > 0
          ? 'first-use'
          : how.logKey === 'configured' || how.adminKey === 'configured'
            ? 'configured'
            : 'pinned';
      return {
        record: unchanged
          ? undefined
          : {
              type: 'overlap-trust',
              version: 1,
              relay: relayUrl,
              origin: announced.origin,
              log_key: roots.logKey,
              admin_key: roots.adminKey,
              pinned: source === 'first-use' ? 'first-use' : 'configured',
              pinned_at: now,
              // A checkpoint verified under another log key proves nothing under this one.
              checkpoint: record?.log_key === roots.logKey ? (record.checkpoint ?? null) : null,
            },
        result: { ...roots, source, warnings },
      };
    });
  }

  /**
   * Runs `update` on the remembered checkpoint of `relayUrl` (a signed note, or undefined), as
   * verified under `logKey` (the record must still pin it), and keeps the note it returns. `update` fetches proofs from the relay, so it runs outside the
   * file's lock (another process of the lab is never kept waiting on the network); the note is
   * written under the lock only if the record is still the one `update` judged against — the same
   * checkpoint under the same log key — and otherwise `update` runs again on the newer one. `pin`
   * must have made the file.
   */
  async updateCheckpoint(
    relayUrl: string,
    logKey: string,
    update: (remembered: string | undefined) => Promise<string>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const before = await readRecord(this.fileOf(relayUrl), relayUrl); // written by rename: whole, old or new
      if (before === undefined)
        throw new ClientError('TRUST_ROOT_MISSING', `no trust roots are pinned for ${relayUrl}`);
      // Another process re-pinned the log key since this one connected: its checkpoints, verified
      // under the old key, are not for this record.
      if (before.log_key !== logKey)
        throw new ClientError(
          'TRUST_ROOT_MISMATCH',
          `the trust record of ${relayUrl} now pins log key ${before.log_key}, not ${logKey}, which this process verifies under: run it again`,
        );
      const next = await update(before.checkpoint ?? undefined);
      if (next === before.checkpoint) return;
      const kept = await this.#withRecord(relayUrl, async (record) => {
        if (record === undefined)
          throw new ClientError('TRUST_ROOT_MISSING', `no trust roots are pinned for ${relayUrl}`);
        const unchanged = record.checkpoint === before.checkpoint && record.log_key === before.log_key;
        return { record: unchanged ? { ...record, checkpoint: next } : undefined, result: unchanged };
      });
      if (kept) return;
      if (attempt >= MAX_UPDATE_ATTEMPTS)
        throw new ClientError(
          'STATE_LOCKED',
          `the trust record of ${relayUrl} changed under every one of ${MAX_UPDATE_ATTEMPTS} updates: other processes of this lab keep moving it`,
        );
    }
  }

  async #withRecord<T>(
    relayUrl: string,
    run: (record: TrustRecord | undefined) => Promise<{ record: TrustRecord | undefined; result: T }>,
  ): Promise<T> {
    await makePrivateDirectory(this.dir);
    const file = this.fileOf(relayUrl);
    let lock: HeldLock;
    try {
      lock = await acquireLock(`${file}.lock`, { what: `the trust record of ${relayUrl}`, waitMs: LOCK_WAIT_MS });
    } catch (cause) {
      throw new ClientError('STATE_LOCKED', (cause as Error).message, { cause });
    }
    try {
      const { record, result } = await run(await readRecord(file, relayUrl));
      if (record !== undefined) await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, { replace: true });
      return result;
    } finally {
      await lock.release();
    }
  }
}

/** Updates of the checkpoint raced by other processes before one gives up (each is one proof fetched). */
const MAX_UPDATE_ATTEMPTS = 16;

async function readRecord(file: string, relayUrl: string): Promise<TrustRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientError('STATE_DAMAGED', `cannot read the trust record ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const damaged = (detail: string) =>
    new ClientError(
      'STATE_DAMAGED',
      `the trust record ${file} ${detail}: restore it from a backup, or remove it to pin ${relayUrl}'s keys again after checking them with the forum`,
    );
  let record: Partial<TrustRecord>;
  try {
    record = JSON.parse(text) as Partial<TrustRecord>;
  } catch {
    throw damaged('is not JSON');
  }
  if (record.type !== 'overlap-trust' || record.version !== 1) throw damaged('is not a trust record of this version');
  if (record.relay !== relayUrl) throw damaged(`is the record of another relay (${String(record.relay)})`);
  for (const field of ['origin', 'log_key', 'admin_key', 'pinned_at'] as const) {
    if (typeof record[field] !== 'string') throw damaged(`has no ${field}`);
  }
  if (record.pinned !== 'configured' && record.pinned !== 'first-use') throw damaged('says neither how it was pinned');
  if (record.checkpoint !== null && typeof record.checkpoint !== 'string')
    throw damaged('has a checkpoint that is not a note');
  return record as TrustRecord;
}
