/**
 * `overlap config check`: reads the config file (config-file.ts) the way every command does, checks
 * it against the schema, and prints what each setting resolves to and where the value came from
 * (flag, environment, file, default), and whether the files it names can be read. Prints no secret:
 * the file holds none, and a key file is only checked to exist.
 *
 *   overlap config check [--config FILE] [--json]
 */
import { access, constants } from 'node:fs/promises';
import type { Command } from 'commander';
import { osReason } from '../config-file.js';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { RELAY_SERVER_SETTINGS } from '../relay-server-settings.js';
import { addSettings, readSettings, SETTINGS, type Setting, type SettingSource, type Settings } from '../settings.js';
import { WITNESS_SETTINGS } from '../witness-settings.js';

const CHECKED: readonly Setting[] = [
  ...Object.values(SETTINGS).filter((s) => s !== SETTINGS.config),
  ...Object.values(RELAY_SERVER_SETTINGS),
  ...Object.values(WITNESS_SETTINGS),
];

/** Files a setting names that must be readable. */
const FILES: ReadonlySet<Setting> = new Set([SETTINGS.key, SETTINGS.adminKeyFile, WITNESS_SETTINGS.key]);

export function addConfigCommands(program: Command, io: ProgramIo): void {
  const config = program.command('config');
  addSettings(
    config
      .command('check')
      .description('check the config file and print what every setting resolves to, and from where'),
  )
    .option('--json', 'print {file, settings: {name: {value, source}}, problems} as JSON')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const settings: Settings = await readSettings(flags);
      const rows: { name: string; value: string; source: SettingSource }[] = [];
      const problems: string[] = [];
      for (const setting of CHECKED) {
        const resolved = settings.resolve(setting);
        if (resolved === undefined) continue;
        const name = setting.config ?? setting.flags.split(' ')[0] ?? '';
        rows.push({ name, ...resolved });
        if (FILES.has(setting)) {
          await access(resolved.value, constants.R_OK).catch((cause) => {
            problems.push(`${name}: cannot read ${resolved.value}: ${osReason(cause)}`);
          });
        }
      }
      const file = settings.config?.path;
      if (flags.json) {
        const byName = Object.fromEntries(rows.map(({ name, ...rest }) => [name, rest]));
        io.out(`${JSON.stringify({ file: file ?? null, settings: byName, problems })}\n`);
      } else {
        io.out(
          file
            ? `config file ${file}: valid\n`
            : 'no config file (give --config, set $OVERLAP_CONFIG, or create ./overlap.toml)\n',
        );
        const width = Math.max(0, ...rows.map((r) => r.name.length));
        for (const row of rows) io.out(`  ${row.name.padEnd(width)}  ${row.value}  (${row.source})\n`);
        for (const problem of problems) io.out(`problem: ${problem}\n`);
      }
      if (problems.length > 0)
        throw new CliError('NO_INPUT', `${problems.length} setting(s) name files that cannot be read`);
    });
}
