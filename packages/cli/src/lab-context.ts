/**
 * What the lab-facing commands share: where the relay is (`--relay` or OVERLAP_RELAY), whose key
 * (`--key` or OVERLAP_KEY; a passphrase in OVERLAP_KEY_PASSPHRASE if the file is encrypted), the
 * log key to pin (`--log-key` or OVERLAP_LOG_KEY), and where a lab keeps its session files
 * (`--state-dir`, default `.overlap/lab`). Errors of the SDK become CLI errors with exit codes.
 */
import { ClientError, OverlapClient, type OverlapClientOptions } from '@overlap/client';
import { CryptoError, type LabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import type { Command } from 'commander';
import { CliError } from './errors.js';

export const DEFAULT_STATE_DIR = '.overlap/lab';

export interface LabFlags {
  relay?: string;
  key?: string;
  logKey?: string;
}

export function addLabOptions(command: Command): Command {
  return command
    .option('--relay <url>', 'the relay base URL (default: $OVERLAP_RELAY)')
    .option('--key <file>', "this lab's key file from overlap keygen (default: $OVERLAP_KEY)")
    .option('--log-key <vkey>', "the relay log's verifier key, as the forum publishes it (default: $OVERLAP_LOG_KEY)");
}

export async function readKeys(path: string, what = 'key file'): Promise<LabKeys> {
  try {
    const passphrase = process.env.OVERLAP_KEY_PASSPHRASE;
    return await readKeyFile(path, passphrase === undefined ? {} : { passphrase });
  } catch (cause) {
    if (cause instanceof CryptoError) throw new CliError('NO_INPUT', `${what}: ${cause.message}`, { cause });
    throw cause;
  }
}

export async function connectLab(
  flags: LabFlags,
  extra: Partial<OverlapClientOptions> = {},
): Promise<{ client: OverlapClient; warnings: string[] }> {
  const relayUrl = flags.relay ?? process.env.OVERLAP_RELAY;
  const keyPath = flags.key ?? process.env.OVERLAP_KEY;
  if (!relayUrl) throw new CliError('USAGE', 'no relay: give --relay URL or set OVERLAP_RELAY');
  if (!keyPath) throw new CliError('USAGE', 'no key: give --key FILE or set OVERLAP_KEY');
  const keys = await readKeys(keyPath);
  const logKey = flags.logKey ?? process.env.OVERLAP_LOG_KEY;
  const client = await sdkCall(() =>
    OverlapClient.connect({ relayUrl, keys, ...(logKey !== undefined && { logKey }), ...extra }),
  );
  const warnings = client.logKeyPinned
    ? []
    : [`the relay's log key was not pinned (--log-key); trusting the one it announces: ${client.info.vkey}`];
  return { client, warnings };
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
            : 'FAILURE';
      const detail = error.relayCode ? ` (${error.relayCode})` : '';
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
