/**
 * Settings that a command takes from its flags, the environment or the config file
 * (config-file.ts), in that order of precedence, then a default. Each one is declared once, here,
 * with its flag, its environment variable and its config key, so that every command's `--help`
 * names all three the same way and `overlap config check` can say where each value came from.
 *
 *   addSettings(command, SETTINGS.relay, SETTINGS.key)      // options, with the env var and key in --help
 *   const s = await readSettings(flags)                      // loads the config file once
 *   s.get(SETTINGS.relay)                                    // flag ?? env ?? file ?? default
 *   s.require(SETTINGS.relay)                                // …or a usage error naming all three
 *
 * Paths given as flags or variables are relative to the working directory; those in the file, and
 * a path's default when a config file is in use (the state folder, the relay's database), to the
 * file's folder.
 */
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type LoadedConfig, loadConfig } from './config-file.js';
import { CliError } from './errors.js';

export interface Setting {
  /** The commander flags, e.g. `--relay <url>`. */
  flags: string;
  description: string;
  /** The environment variable, e.g. `OVERLAP_RELAY`. */
  env?: string;
  /** The dotted key in overlap.toml, e.g. `trust.log_key`. */
  config?: string;
  /** Used when nothing else gives a value; shown in --help. */
  fallback?: string;
  /**
   * A path: relative to the working directory when given as a flag or env var; the config file's
   * own are relative to the file, and so is the default when a config file is in use (else it is
   * relative to the working directory).
   */
  path?: boolean;
}

/** Every setting that more than one command takes. */
export const SETTINGS = {
  config: {
    flags: '--config <file>',
    description: 'the config file (default: ./overlap.toml if there is one)',
    env: 'OVERLAP_CONFIG',
    path: true,
  },
  relay: { flags: '--relay <url>', description: 'the relay base URL', env: 'OVERLAP_RELAY', config: 'relay' },
  key: {
    flags: '--key <file>',
    description: "this lab's key file from overlap keygen (passphrase: $OVERLAP_KEY_PASSPHRASE, or a prompt)",
    env: 'OVERLAP_KEY',
    config: 'key',
    path: true,
  },
  logKey: {
    flags: '--log-key <vkey>',
    description: "the relay log's verifier key, as the forum publishes it",
    env: 'OVERLAP_LOG_KEY',
    config: 'trust.log_key',
  },
  adminPublicKey: {
    flags: '--admin-public-key <hex>',
    description: "the forum admin's Ed25519 public key (64 hex digits), as the forum publishes it",
    env: 'OVERLAP_ADMIN_PUBLIC_KEY',
    config: 'trust.admin_key',
  },
  witnessKeys: {
    flags: '--witness-keys <vkeys>',
    description:
      'the witnesses this lab trusts (what overlap witness vkey prints), separated by commas: results and aborts wait for their cosignatures',
    env: 'OVERLAP_WITNESS_KEYS',
    config: 'trust.witnesses',
  },
  witnessQuorum: {
    flags: '--witness-quorum <k>',
    description: 'how many of those witnesses must have cosigned (default: all of them)',
    env: 'OVERLAP_WITNESS_QUORUM',
    config: 'trust.witness_quorum',
  },
  witnessWait: {
    flags: '--witness-wait <seconds>',
    description:
      'how long to wait for a checkpoint the witness quorum cosigned before results or an abort (default 600)',
    env: 'OVERLAP_WITNESS_WAIT',
    config: 'trust.witness_wait_seconds',
  },
  auditStateDir: {
    flags: '--state-dir <dir>',
    description: "where this auditor remembers the relay's trust roots and the last checkpoint of its log it verified",
    env: 'OVERLAP_AUDIT_STATE_DIR',
    config: 'audit.state_dir',
    fallback: '.overlap/audit',
    path: true,
  },
  stateDir: {
    flags: '--state-dir <dir>',
    description:
      "where this lab's session state and results go (the default is beside the config file when one is used)",
    env: 'OVERLAP_STATE_DIR',
    config: 'state_dir',
    fallback: '.overlap/lab',
    path: true,
  },
  workers: {
    flags: '--workers <n>',
    description: 'worker threads for hashing and blinding (default: one per core; 0: on the main thread)',
    env: 'OVERLAP_WORKERS',
    config: 'workers',
  },
  region: {
    flags: '--region <cc>',
    description: 'region for phone numbers without a country code (e.g. US)',
    env: 'OVERLAP_REGION',
    config: 'session.region',
  },
  reveal: {
    flags: '--reveal <policy>',
    description: 'what each lab learns of a shared indicator: labs (who else holds it), count, or threshold:T',
    config: 'session.reveal',
    fallback: 'labs',
  },
  proofs: {
    flags: '--proofs <mode>',
    description: 'which positions each hop proves: spot (135 per chunk) or full (every tag: ~7x the blinding cost)',
    config: 'session.proofs',
    fallback: 'spot',
  },
  maxItems: {
    flags: '--max-items <n>',
    description: 'most items a lab may commit per kind',
    config: 'session.max_items',
    fallback: '1000000',
  },
  deadlineMinutes: {
    flags: '--deadline-minutes <m>',
    description: "abort the session if it is not done within this many minutes (default: the relay's)",
    config: 'session.deadline_minutes',
  },
  joinMinutes: {
    flags: '--join-minutes <m>',
    description:
      "abort the session if a lab has not joined within this many minutes (default: 60, or the deadline if sooner; at most the relay's max_join_window_ms)",
    config: 'session.join_minutes',
  },
  retryFor: {
    flags: '--retry-for <minutes>',
    description: 'how long to wait out a relay that does not answer (an outage, a restart) before giving up',
    env: 'OVERLAP_RETRY_FOR',
    config: 'session.retry_minutes',
    fallback: '10',
  },
  csvGuard: {
    flags: '--csv-guard <mode>',
    description:
      "CSV cells a spreadsheet would run as formulas: 'formulas' prefixes them with ', 'none' leaves every cell as it is",
    env: 'OVERLAP_CSV_GUARD',
    config: 'results.csv_guard',
    fallback: 'formulas',
  },
  adminKeyFile: {
    flags: '--admin-key <file>',
    description: 'the forum admin key file (keep it offline)',
    env: 'OVERLAP_ADMIN_KEY',
    config: 'admin.key',
    path: true,
  },
} as const satisfies Record<string, Setting>;

/** The commander attribute a setting's flag is stored under (`--log-key` → `logKey`). */
export function attributeOf(setting: Setting): string {
  return new Option(setting.flags).attributeName();
}

/** The --help text of a setting: its description, then where else it comes from and its default. */
export function helpOf(setting: Setting): string {
  const from = [setting.env && `$${setting.env}`, setting.config && `config: ${setting.config}`].filter(Boolean);
  const suffix = from.length > 0 ? ` [${from.join('; ')}]` : '';
  const fallback = setting.fallback !== undefined ? ` (default: ${setting.fallback})` : '';
  return `${setting.description}${suffix}${fallback}`;
}

/** Adds each setting as an option (no commander default: the config file comes first), and --config once. */
export function addSettings(command: Command, ...settings: Setting[]): Command {
  const all = command.options.some((o) => o.long === '--config') ? settings : [SETTINGS.config, ...settings];
  for (const setting of all) command.addOption(new Option(setting.flags, helpOf(setting)));
  return command;
}

export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export interface ResolvedSetting {
  value: string;
  source: SettingSource;
}

export class Settings {
  readonly config: LoadedConfig | undefined;
  readonly #flags: Readonly<Record<string, unknown>>;
  readonly #env: NodeJS.ProcessEnv;

  constructor(flags: Readonly<Record<string, unknown>>, config: LoadedConfig | undefined, env: NodeJS.ProcessEnv) {
    this.#flags = flags;
    this.config = config;
    this.#env = env;
  }

  /** The value and where it came from, or undefined when nothing sets it. */
  resolve(setting: Setting): ResolvedSetting | undefined {
    const flag = this.#flags[attributeOf(setting)];
    if (typeof flag === 'string') return { value: setting.path ? resolve(flag) : flag, source: 'flag' };
    const env = setting.env === undefined ? undefined : this.#env[setting.env];
    if (env !== undefined && env !== '') return { value: setting.path ? resolve(env) : env, source: 'env' };
    const fromFile = setting.config === undefined ? undefined : this.config?.values.get(setting.config);
    if (fromFile !== undefined) return { value: fromFile, source: 'config' };
    if (setting.fallback === undefined) return undefined;
    if (!setting.path) return { value: setting.fallback, source: 'default' };
    // A lab's (or a relay host's) folder holds its config file: a path's default goes beside the
    // file, as the paths in it do, whichever folder the command runs in.
    const base = this.config === undefined ? process.cwd() : dirname(this.config.path);
    return { value: resolve(base, setting.fallback), source: 'default' };
  }

  get(setting: Setting): string | undefined {
    return this.resolve(setting)?.value;
  }

  /** The value, or a usage error saying every way to give it. */
  require(setting: Setting): string {
    const value = this.get(setting);
    if (value !== undefined) return value;
    const name = setting.flags.split(' ')[0] as string;
    const ways = [
      `give ${name}`,
      setting.env && `set $${setting.env}`,
      setting.config && `set ${setting.config} in ${this.#configName()}`,
    ];
    throw new CliError('USAGE', `no ${name.slice(2)}: ${ways.filter(Boolean).join(', or ')}`);
  }

  /** A whole number setting, at least `min`. */
  integer(setting: Setting, min = 1): number | undefined {
    const text = this.get(setting);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new CliError(
        'USAGE',
        `${setting.flags.split(' ')[0]} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`,
      );
    }
    return n;
  }

  #configName(): string {
    return this.config?.path ?? 'overlap.toml';
  }
}

/** The settings of a command's run: its parsed flags, the environment, and the config file they name. */
export async function readSettings(
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Settings> {
  const named = typeof flags.config === 'string' ? flags.config : undefined;
  return new Settings(flags, await loadConfig(named, env), env);
}

/** A setting that is a list (labs, kinds, verifier keys): its comma-separated items, trimmed, empty ones dropped. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
