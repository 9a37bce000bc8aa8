/**
 * Every command's --help names where else a setting comes from: each option of the whole program
 * (every group loaded, every subcommand walked) that stands for a setting of settings.ts — its
 * commander attribute is a SETTINGS entry's — shows `[$ENV; config: key]` as settings.ts writes
 * it, so that a command added later cannot take `--relay` and forget $OVERLAP_RELAY. The few
 * options that share a name but not a meaning are listed below with the reason, and the list is
 * checked too: an exception that no longer applies must be removed.
 */
import { Command, type Option } from 'commander';
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../src/program.js';
import { RELAY_SERVER_SETTINGS } from '../src/relay-server-settings.js';
import { attributeOf, SETTINGS, type Setting } from '../src/settings.js';
import { WITNESS_SETTINGS } from '../src/witness-settings.js';

/** `command path|--flag` → why its option is not the setting of the same name. */
const NOT_THE_SETTING: Readonly<Record<string, string>> = {
  'crypto blind|--key': 'a blinding key as hex, for interoperability checks, not a key file',
  'relay init|--admin-public-key': "the admin key a new relay is initialized with, not a lab's pinned trust root",
  'admin enroll|--name': "the enrolled lab's display name, not a witness's name",
  'tls trial|--host': 'the names the certificate is for, not an interface to listen on',
  'simulate|--witnesses': "how many witnesses the simulation runs, not the relay's list of witnesses",
};

/**
 * Options that are the setting but do not name its sources yet, in other people's modules: each
 * must be fixed there (declared with addSettings), then removed from here.
 */
const NOT_YET: Readonly<Record<string, string>> = {
  'simulate|--reveal': 'simulate.ts declares its own option',
  'simulate|--proofs': 'simulate.ts declares its own option',
  'simulate|--region': 'simulate.ts declares its own option',
};

/** What settings.ts appends to a setting's description: `[$ENV; config: key]`. */
function sourcesOf(setting: Setting): string | undefined {
  const from = [setting.env && `$${setting.env}`, setting.config && `config: ${setting.config}`].filter(Boolean);
  return from.length > 0 ? `[${from.join('; ')}]` : undefined;
}

function everyCommand(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const here = [...path, sub.name()];
    return [{ path: here.join(' '), command: sub }, ...everyCommand(sub, here)];
  });
}

// The relay's and the witness's settings share some flags (--key, --state-dir, --port) with a lab's
// or each other: an option shows the sources of the one it is.
const settings = [
  ...Object.values(SETTINGS),
  ...Object.values(RELAY_SERVER_SETTINGS),
  ...Object.values(WITNESS_SETTINGS),
] as Setting[];
const allSources = settings.map(sourcesOf).filter((s): s is string => s !== undefined);

async function settingOptions(): Promise<{ key: string; option: Option }[]> {
  const program = await buildProgram({ out: () => {}, err: () => {} });
  return everyCommand(program).flatMap(({ path, command }) =>
    command.options
      .filter((option) => settings.some((s) => attributeOf(s) === option.attributeName()))
      .map((option) => ({ key: `${path}|${option.long}`, option })),
  );
}

describe('--help names the environment variable and config key of every setting', () => {
  test('the walk sees the whole program: every group and the settings they take', async () => {
    const keys = (await settingOptions()).map((o) => o.key);
    // A walk that loaded one group only, or no subcommand, would pass everything below vacuously.
    expect(keys).toEqual(
      expect.arrayContaining([
        'session run|--relay',
        'admin enroll|--admin-key',
        'audit verify|--admin-key',
        'key show|--key',
        'normalize|--region',
      ]),
    );
    expect(keys.length).toBeGreaterThan(40);
  });

  test('every option that is a setting shows [$ENV; config: key]', async () => {
    const missing: string[] = [];
    for (const { key, option } of await settingOptions()) {
      if (key in NOT_THE_SETTING || key in NOT_YET) continue;
      if (!allSources.some((sources) => option.description?.includes(sources)))
        missing.push(`${key}: ${option.description}`);
    }
    expect(missing).toEqual([]);
  });

  test('each exception still applies (remove it once its command is fixed)', async () => {
    const options = new Map((await settingOptions()).map(({ key, option }) => [key, option]));
    for (const key of [...Object.keys(NOT_THE_SETTING), ...Object.keys(NOT_YET)]) {
      const option = options.get(key);
      expect(option, `${key} no longer exists`).toBeDefined();
      expect(
        allSources.some((sources) => option?.description?.includes(sources)),
        `${key} is fixed now`,
      ).toBe(false);
    }
  });

  test('the check itself catches a command that forgets', () => {
    const forgetful = new Command('forgetful').option('--relay <url>', 'the relay base URL');
    const relay = forgetful.options[0] as Option;
    expect(settings.some((s) => attributeOf(s) === relay.attributeName())).toBe(true);
    expect(allSources.some((sources) => relay.description?.includes(sources))).toBe(false);
  });
});
