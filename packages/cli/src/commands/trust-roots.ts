/**
 * The trust roots the forum's and the auditors' commands pin, read through settings.ts: the relay
 * log's verifier key (`--log-key`, $OVERLAP_LOG_KEY, `trust.log_key`) and where each came from,
 * for errors that name the setting a bad value was given by.
 */
import { type NoteVerifier, parseVerifierKey } from '@overlap/log';
import { CliError } from '../errors.js';
import { SETTINGS, type Setting, type Settings } from '../settings.js';

/** The pinned log verifier, if the settings give a log key; a usage error naming the setting if it is bad. */
export function pinnedLogVerifier(settings: Settings): NoteVerifier | undefined {
  const vkey = settings.get(SETTINGS.logKey);
  if (vkey === undefined) return undefined;
  try {
    return parseVerifierKey(vkey);
  } catch (cause) {
    throw new CliError('USAGE', `${settingName(settings, SETTINGS.logKey)}: ${(cause as Error).message}`, { cause });
  }
}

/** How a value was given, for an error: the flag, `$ENV`, or the config key and file. */
export function settingName(settings: Settings, setting: Setting): string {
  const source = settings.resolve(setting)?.source;
  if (source === 'env' && setting.env) return `$${setting.env}`;
  if (source === 'config' && setting.config)
    return `${setting.config} in ${settings.config?.path ?? 'the config file'}`;
  return setting.flags.split(' ')[0] as string;
}
