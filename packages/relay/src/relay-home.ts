/**
 * The relay's state on disk, all beside its database file (default `./.overlap/relay.db`):
 *
 *   relay.db     SQLite: the log's entries, checkpoints, nonces, sessions, inboxes
 *   relay.key    the relay's Ed25519 key (signs checkpoints, result rows and aborts), mode 0600
 *   admin.key    the forum admin key, when `init` generated it (move it offline), mode 0600
 *   blobs/       large envelopes, content-addressed
 *
 * `initRelay` creates them once; `openRelayHome` reads them and refuses a half-initialized home.
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assertPublicKey, generateLabKeys, keyId, type LabKeys, toHex } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { makePrivateDirectory } from '@overlap/files';
import { formatVerifierKey } from '@overlap/log';
import { RelayError } from './errors.js';
import { type Db, getMeta, openDatabase, setMeta } from './store/database.js';

export const DEFAULT_DB_PATH = join('.overlap', 'relay.db');

export interface InitOptions {
  db?: string;
  /** The log's origin line (C2SP checkpoint); default `overlap-relay/<first 16 hex of the key id>`. */
  origin?: string;
  /** Use this admin public key (32 bytes) instead of generating an admin key. */
  adminPublicKey?: Uint8Array;
}

export interface InitResult {
  db: string;
  origin: string;
  relayKeyId: string;
  /** The log's verifier key (C2SP vkey): what labs pin and witnesses are configured with. */
  vkey: string;
  adminKeyId: string;
  /** Where the generated admin key was written, if one was. */
  adminKeyFile?: string;
}

export interface RelayHome {
  db: Db;
  dbPath: string;
  blobsDir: string;
  origin: string;
  relayKeys: LabKeys;
  adminPublicKey: Uint8Array;
}

export function homePaths(db = DEFAULT_DB_PATH): { db: string; relayKey: string; adminKey: string; blobs: string } {
  const path = resolve(db);
  const dir = dirname(path);
  return { db: path, relayKey: join(dir, 'relay.key'), adminKey: join(dir, 'admin.key'), blobs: join(dir, 'blobs') };
}

export async function initRelay(options: InitOptions = {}): Promise<InitResult> {
  const paths = homePaths(options.db);
  if (existsSync(paths.db) || existsSync(paths.relayKey)) {
    throw new RelayError('ALREADY_INITIALIZED', `a relay is already initialized at ${paths.db}`);
  }
  if (options.origin !== undefined && !/^[\x21-\x7e]{1,200}$/.test(options.origin)) {
    throw new RelayError('BAD_CONFIG', 'the origin must be 1–200 printable ASCII characters without spaces');
  }
  if (options.adminPublicKey !== undefined) {
    try {
      assertPublicKey(options.adminPublicKey);
    } catch (cause) {
      throw new RelayError('BAD_CONFIG', 'the admin public key is not a valid Ed25519 public key', { cause });
    }
  }
  await makePrivateDirectory(dirname(paths.db));
  const relayKeys = generateLabKeys();
  const relayKeyId = relayKeys.keyId;
  const relayPublicKey = Uint8Array.from(relayKeys.signing.publicKey);
  const origin = options.origin ?? `overlap-relay/${relayKeyId.slice(0, 16)}`;
  let adminPublicKey = options.adminPublicKey;
  let adminKeyFile: string | undefined;
  try {
    await writeKeyFile(paths.relayKey, relayKeys);
    if (adminPublicKey === undefined) {
      const adminKeys = generateLabKeys();
      adminPublicKey = Uint8Array.from(adminKeys.signing.publicKey);
      await writeKeyFile(paths.adminKey, adminKeys);
      adminKeys.dispose();
      adminKeyFile = paths.adminKey;
    }
  } finally {
    relayKeys.dispose();
  }
  // The database is written last: a home with a database is complete.
  const db = openDatabase(paths.db);
  try {
    db.transaction(() => {
      setMeta(db, 'origin', origin);
      setMeta(db, 'admin_key', toHex(adminPublicKey));
      setMeta(db, 'relay_key_id', relayKeyId);
      setMeta(db, 'relay_key', toHex(relayPublicKey));
    })();
  } finally {
    db.close();
  }
  const vkey = formatVerifierKey(origin, relayPublicKey);
  const result: InitResult = { db: paths.db, origin, relayKeyId, vkey, adminKeyId: keyId(adminPublicKey) };
  return adminKeyFile ? { ...result, adminKeyFile } : result;
}

export async function openRelayHome(dbPath?: string): Promise<RelayHome> {
  const paths = homePaths(dbPath);
  if (!existsSync(paths.db)) {
    throw new RelayError(
      'NOT_INITIALIZED',
      `no relay database at ${paths.db}; run: overlap relay init --db ${paths.db}`,
    );
  }
  const relayKeys = await readKeyFile(paths.relayKey).catch((cause) => {
    throw new RelayError(
      'NOT_INITIALIZED',
      `cannot read the relay key ${paths.relayKey}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  });
  const db = openDatabase(paths.db);
  const origin = getMeta(db, 'origin');
  const admin = getMeta(db, 'admin_key');
  if (origin === undefined || admin === undefined || getMeta(db, 'relay_key_id') !== relayKeys.keyId) {
    db.close();
    relayKeys.dispose();
    throw new RelayError('NOT_INITIALIZED', `${paths.db} is not a complete relay home, or relay.key is not its key`);
  }
  return {
    db,
    dbPath: paths.db,
    blobsDir: paths.blobs,
    origin,
    relayKeys,
    adminPublicKey: Uint8Array.from(Buffer.from(admin, 'hex')),
  };
}
