/**
 * The `overlap` configuration file: TOML, one per lab (or per forum host), checked against a
 * schema so that a typo is an error naming its key and line instead of a setting silently ignored.
 *
 * Which file: `--config FILE`, else `$OVERLAP_CONFIG`, else `overlap.toml` in the directory the
 * command runs in, if there is one. Relative paths inside the file (the key file, the state
 * directory, the relay's database, …) are relative to the file's own directory, so a lab's folder
 * works from anywhere. Flags override environment variables, which override the file
 * (settings.ts); `overlap config check` prints what each setting resolves to and from where.
 *
 * The file holds no secret: a key file's passphrase comes from `$OVERLAP_KEY_PASSPHRASE` or a prompt.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type AgentSection, agentSectionSchema } from '@overlap/agent/config';
import { parse, TomlError } from 'smol-toml';
import { z } from 'zod';
import { CliError } from './errors.js';

export const CONFIG_FILE_NAME = 'overlap.toml';

const text = z.string().min(1);
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (an Ed25519 public key)');
const port = z.int().min(0).max(65535);

/** The file's schema: every table strict, so an unknown key is an error. */
export const configSchema = z
  .object({
    /** The relay's base URL. */
    relay: z.url({ protocol: /^https?$/ }),
    /** This lab's key file (from `overlap keygen`). */
    key: text,
    /** Where a lab keeps its sessions' state and results. */
    state_dir: text,
    /** Worker threads for hashing and blinding. */
    workers: z.int().min(1).max(256),
    /** The lab's trust roots and witness policy: the one place they live. */
    trust: z
      .object({
        /** The relay log's verifier key (C2SP vkey), as the forum publishes it. */
        log_key: text,
        /** The forum admin's Ed25519 public key, hex. */
        admin_key: hex32,
        /** The witnesses this lab trusts: their cosigner verifier keys (C2SP vkeys). */
        witnesses: z.array(text).min(1),
        /** How many of them must have cosigned before the lab acts on results or an abort (default all). */
        witness_quorum: z.int().min(1),
        /** Seconds to wait for such a checkpoint before giving up (default 600). */
        witness_wait_seconds: z.int().min(1),
      })
      .strict()
      .partial(),
    /** Defaults of `session create` / `session run`. */
    session: z
      .object({
        region: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter region code such as US'),
        reveal: text,
        proofs: z.enum(['spot', 'full']),
        max_items: z.int().min(1),
        deadline_minutes: z.number().positive(),
        join_minutes: z.number().positive(),
        /** How long `session run` waits out a relay that does not answer. */
        retry_minutes: z.number().positive(),
      })
      .strict()
      .partial(),
    /** How results are written. */
    results: z
      .object({
        csv_guard: z.enum(['formulas', 'none']),
      })
      .strict()
      .partial(),
    /** The forum admin's commands (`overlap admin …`). */
    admin: z
      .object({
        /** The forum admin key file (kept offline; only on the machine that runs admin commands). */
        key: text,
      })
      .strict()
      .partial(),
    /** An auditor's (`overlap audit export`). */
    audit: z
      .object({
        /** Where it remembers the relay's trust roots and the last checkpoint it verified. */
        state_dir: text,
      })
      .strict()
      .partial(),
    /** A witness of the relay's log (`overlap witness serve`): a lab, an auditor or the forum may run one. */
    witness: z
      .object({
        /** Its name, the key name of its cosignatures, e.g. `witness.lab-a.example`. */
        name: z.string().regex(/^[^\s+]+$/, 'must be a key name: no spaces, no "+"'),
        /** Its key file (from `overlap keygen`); only its Ed25519 signing key is used. */
        key: text,
        /** Where it remembers the last checkpoint it cosigned for each log (and refused forks). */
        state_dir: text,
        host: text,
        port,
        /** The verifier keys (C2SP vkeys) of the logs it witnesses, e.g. the relay's `log key`. */
        log_keys: z.array(text).min(1),
      })
      .strict()
      .partial(),
    /** The forum's relay (`overlap relay …`). */
    relay_server: z
      .object({
        db: text,
        host: text,
        port,
        public_url: z.url({ protocol: /^https?$/ }),
        tls_cert: text,
        tls_key: text,
        access_log: text,
        metrics_port: port,
        metrics_host: text,
        /** The witnesses, each "<url> <vkey>". */
        witnesses: z.array(z.string().regex(/^\S+ \S+$/, 'must be "<url> <vkey>"')),
      })
      .strict()
      .partial(),
    /** The lab's agent (`overlap agent`): its own schema, in @overlap/agent (agent-config.ts). */
    agent: agentSectionSchema,
  })
  .strict()
  .partial();

export type ConfigFile = z.infer<typeof configSchema>;

/** Config keys (dotted) whose values are paths, resolved against the file's directory. */
export const PATH_KEYS: ReadonlySet<string> = new Set([
  'key',
  'state_dir',
  'admin.key',
  'relay_server.db',
  'relay_server.tls_cert',
  'relay_server.tls_key',
  'relay_server.access_log',
  'witness.key',
  'witness.state_dir',
]);

export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** Why this file: `--config`, `$OVERLAP_CONFIG` or found in the working directory. */
  from: 'flag' | 'env' | 'cwd';
  /** Every value, by dotted key, as text; paths already absolute. */
  values: ReadonlyMap<string, string>;
  /** The `[agent]` table, checked (its paths are resolved by @overlap/agent's agentConfigOf, against the file's directory). */
  agent?: AgentSection;
}

/**
 * The configuration for this run, or undefined when none is given and the working directory has
 * no `overlap.toml`. A file that is named (flag or env) and missing is an error; so is any file
 * that does not parse or fails the schema.
 */
export async function loadConfig(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<LoadedConfig | undefined> {
  const named = flag ?? env.OVERLAP_CONFIG;
  const from: LoadedConfig['from'] = flag !== undefined ? 'flag' : env.OVERLAP_CONFIG !== undefined ? 'env' : 'cwd';
  const path = resolve(cwd, named ?? CONFIG_FILE_NAME);
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return undefined;
    const how = from === 'flag' ? '--config' : from === 'env' ? '$OVERLAP_CONFIG' : 'the config file';
    throw new CliError('NO_INPUT', `${how} ${path}: ${osReason(cause)}`, { cause });
  }
  const { agent, ...settings } = parseConfig(source, path);
  return { path, from, values: flatten(settings, dirname(path)), ...(agent !== undefined && { agent }) };
}

/** Parses and checks a config file's text; errors name the file, and the line or the key. */
export function parseConfig(source: string, path: string): ConfigFile {
  let data: unknown;
  try {
    data = parse(source);
  } catch (cause) {
    if (cause instanceof TomlError) {
      const first = cause.message.split('\n')[0];
      throw new CliError('DATA', `${path}:${cause.line}:${cause.column}: not valid TOML: ${first}`, { cause });
    }
    throw cause;
  }
  const checked = configSchema.safeParse(data);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      const key = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (key ? `${key}.${k}` : k));
        return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      return `${key || '(top level)'}: ${issue.message}`;
    });
    throw new CliError('DATA', `${path}: ${problems.join('; ')}`);
  }
  return checked.data;
}

function flatten(config: ConfigFile, base: string): Map<string, string> {
  const values = new Map<string, string>();
  const walk = (value: unknown, prefix: string) => {
    // A list (of verifier keys, say) is one setting, its items joined by commas, as its flag takes them.
    if (Array.isArray(value)) {
      values.set(prefix, value.map(String).join(','));
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    const textValue = String(value);
    values.set(prefix, PATH_KEYS.has(prefix) && textValue !== '-' ? resolve(base, textValue) : textValue);
  };
  walk(config, '');
  return values;
}

/** `ENOENT` and friends as words, for error messages. */
export function osReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return e?.message ?? String(error);
  }
}
