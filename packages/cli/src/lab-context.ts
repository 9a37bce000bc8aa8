/**
 * What the lab-facing commands share: the relay (`--relay`, $OVERLAP_RELAY, `relay`), this lab's
 * key file (`--key`, $OVERLAP_KEY, `key`; its passphrase from $OVERLAP_KEY_PASSPHRASE or a prompt),
 * the trust roots (`--log-key` / `trust.log_key`, `--admin-public-key` / `trust.admin_key`), all
 * resolved by settings.ts from flags, environment and the config file. Errors of the SDK become CLI
 * errors with exit codes.
 */

import { join } from 'node:path';
import { ClientError, OverlapClient, type OverlapClientOptions } from '@overlap/client';
import { CryptoError, fromHex, type LabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import type { Command } from 'commander';
import { CliError } from './errors.js';
import {
  askPassphrase,
  PASSPHRASE_ENV,
  type PassphraseSource,
  passphraseFromEnv,
  processPassphraseSource,
} from './passphrase.js';
import { addSettings, commaList, SETTINGS, type Settings } from './settings.js';

/** The options every command that talks to the relay as a lab takes. */
export function addLabOptions(command: Command): Command {
  return addSettings(
    command,
    SETTINGS.relay,
    SETTINGS.key,
    SETTINGS.logKey,
    SETTINGS.adminPublicKey,
    SETTINGS.witnessKeys,
    SETTINGS.witnessQuorum,
    SETTINGS.witnessWait,
    // Every lab command reads and updates the trust record in <state dir>/trust.
    SETTINGS.stateDir,
  );
}

/**
 * Reads a key file: in clear, or encrypted with the passphrase from $OVERLAP_KEY_PASSPHRASE, or
 * typed at the terminal. `what` names the file in errors ("key file", "admin key file").
 */
export async function readKeys(
  path: string,
  what = 'key file',
  source: PassphraseSource = processPassphraseSource(),
): Promise<LabKeys> {
  const read = (passphrase: string | undefined) => readKeyFile(path, passphrase === undefined ? {} : { passphrase });
  try {
    try {
      return await read(passphraseFromEnv(source.env));
    } catch (cause) {
      if (!(cause instanceof CryptoError) || cause.code !== 'PASSPHRASE_REQUIRED') throw cause;
      if (!source.terminal) {
        throw new CliError(
          'USAGE',
          `${what} ${path} is encrypted: set $${PASSPHRASE_ENV} to its passphrase (there is no terminal to ask on)`,
          { cause },
        );
      }
      return await read(await askPassphrase(source, `passphrase of ${path}`));
    }
  } catch (cause) {
    if (cause instanceof CryptoError) {
      const hint = cause.code === 'WRONG_PASSPHRASE' ? ` (check $${PASSPHRASE_ENV})` : '';
      throw new CliError('NO_INPUT', `${what}: ${cause.message}${hint}`, { cause });
    }
    throw cause;
  }
}

/** The admin public key a lab pins, if its settings give one. */
export function pinnedAdminKey(settings: Settings): Uint8Array | undefined {
  const hex = settings.get(SETTINGS.adminPublicKey);
  if (hex === undefined) return undefined;
  try {
    return fromHex(hex, 32);
  } catch (cause) {
    throw new CliError('USAGE', '--admin-public-key (trust.admin_key) must be 64 lowercase hex digits', { cause });
  }
}

/**
 * Connects as this lab. The relay's trust roots are pinned in `<state dir>/trust` (the SDK's trust
 * store): keys the settings give are pinned as given; without them, the ones pinned before are
 * required, and on first use the relay's are pinned with a warning. The last checkpoint verified is
 * remembered there too, for every later run to prove its checkpoints against.
 */
export async function connectLab(
  settings: Settings,
  extra: Partial<OverlapClientOptions> = {},
): Promise<{ client: OverlapClient; warnings: string[] }> {
  const options = await labClientOptions(settings);
  const client = await sdkCall(() => OverlapClient.connect({ ...options, ...extra }));
  return { client, warnings: [...client.trustWarnings] };
}

/**
 * What `OverlapClient.connect` is given for this lab, from its settings: the relay, its keys (the
 * key file read, its passphrase asked, once), the trust record in `<state dir>/trust`, the
 * pinned roots and the witness policy. The agent connects with these for every session.
 */
export async function labClientOptions(settings: Settings): Promise<OverlapClientOptions> {
  const relayUrl = settings.require(SETTINGS.relay);
  const keyPath = settings.require(SETTINGS.key);
  const adminKey = pinnedAdminKey(settings);
  const logKey = settings.get(SETTINGS.logKey);
  const trustDir = join(settings.require(SETTINGS.stateDir), 'trust');
  const witnessText = settings.get(SETTINGS.witnessKeys);
  const witnessKeys = witnessText === undefined ? undefined : commaList(witnessText);
  const quorum = settings.integer(SETTINGS.witnessQuorum);
  const waitSeconds = settings.integer(SETTINGS.witnessWait, 1);
  if ((quorum !== undefined || waitSeconds !== undefined) && witnessKeys === undefined) {
    throw new CliError(
      'USAGE',
      '--witness-quorum and --witness-wait (trust.witness_quorum, trust.witness_wait_seconds) need --witness-keys (trust.witnesses)',
    );
  }
  const keys = await readKeys(keyPath);
  return {
    relayUrl,
    keys,
    trustDir,
    ...(witnessKeys !== undefined && {
      witnesses: {
        keys: witnessKeys,
        ...(quorum !== undefined && { quorum }),
        ...(waitSeconds !== undefined && { waitMs: waitSeconds * 1000 }),
      },
    }),
    ...(logKey !== undefined && { logKey }),
    ...(adminKey !== undefined && { adminKey }),
  };
}

/** Runs an SDK call, turning its typed errors into CLI errors (usage, bad data, or a failure). */
export async function sdkCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ClientError) {
      const code =
        error.code === 'BAD_ARGUMENT' || error.code === 'BAD_RELAY_URL'
          ? 'USAGE'
          : error.code === 'BAD_RESULTS'
            ? 'DATA'
            : error.code === 'INPUT_UNREADABLE'
              ? 'NO_INPUT'
              : 'FAILURE';
      const detail = error.relayCode && !error.message.includes(error.relayCode) ? ` (${error.relayCode})` : '';
      throw new CliError(code, `${error.message}${detail}`, { cause: error });
    }
    if (error instanceof Error && error.name === 'ProtocolError')
      throw new CliError('DATA', error.message, { cause: error });
    throw error;
  }
}

export function sessionArgument(value: string | undefined): string {
  if (value === undefined || !/^[0-9a-f]{32}$/.test(value)) {
    throw new CliError('USAGE', '--session must be a session id (32 lowercase hex digits)');
  }
  return value;
}
