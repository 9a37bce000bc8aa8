/**
 * `overlap relay init|serve|fsck|backup`: the forum's relay (packages/relay).
 *
 *   overlap relay init   [--db FILE] [--origin NAME] [--admin-public-key HEX] [--json]
 *   overlap relay serve  [--db FILE] [--init] [--host 127.0.0.1] [--port 8787] [--public-url URL]
 *                        [--tls-cert FILE --tls-key FILE] [--access-log FILE|-] [--json]
 *   overlap relay fsck   [--db FILE] [--json]
 *   overlap relay backup [--db FILE] --out DIR [--json]
 *
 * Every option but the flags of one run is also an environment variable and a key of the config
 * file's `[relay_server]` section (--help names both). `serve` never creates a relay silently: a
 * database that does not exist is refused (a typo in --db would otherwise start a new log with a
 * new admin key) unless `--init` asks for one. `init` and `serve` print the forum admin's public key
 * (what labs and `overlap audit verify --admin-key` pin). `serve` stops cleanly on SIGINT or SIGTERM.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromHex, toHex } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import {
  type AccessLogTarget,
  backupRelay,
  fsckRelay,
  homePaths,
  type InitResult,
  initRelay,
  RelayError,
  type RelayServer,
  type RelayTls,
  startRelayServer,
} from '@overlap/relay';
import type { Command } from 'commander';
import { osReason } from '../config-file.js';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { RELAY_SERVER_SETTINGS } from '../relay-server-settings.js';
import { addSettings, commaList, readSettings, type Settings } from '../settings.js';

const S = RELAY_SERVER_SETTINGS;

export function addRelayCommands(program: Command, io: ProgramIo): void {
  const relay = program.command('relay').description("the forum's relay: init its keys, serve, check, back up");

  addSettings(
    relay
      .command('init')
      .description('create the relay database, its log key and the forum admin key (or use an existing admin key)'),
    S.db,
  )
    .option('--origin <name>', "the log's origin line (default: overlap-relay/<key id prefix>)")
    .option('--admin-public-key <hex>', 'use this Ed25519 admin public key (64 hex digits) instead of generating one')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { origin?: string; adminPublicKey?: string; json?: boolean }) => {
      const db = (await readSettings(flags)).require(S.db);
      let adminPublicKey: Uint8Array | undefined;
      if (flags.adminPublicKey !== undefined) {
        try {
          adminPublicKey = fromHex(flags.adminPublicKey, 32);
        } catch (cause) {
          throw new CliError('USAGE', '--admin-public-key must be 64 lowercase hex digits', { cause });
        }
      }
      const result = await initialize(db, flags.origin, adminPublicKey);
      if (flags.json) {
        io.out(`${JSON.stringify(result)}\n`);
        return;
      }
      io.out(`relay initialized: ${result.db}\n${describeInit(result)}`);
    });

  addSettings(
    relay.command('serve').description('serve the relay API over HTTP or HTTPS until SIGINT or SIGTERM'),
    S.db,
    S.host,
    S.port,
    S.publicUrl,
    S.tlsCert,
    S.tlsKey,
    S.accessLog,
    S.witnesses,
    S.metricsPort,
    S.metricsHost,
  )
    .option('--init', 'create the relay first if the database does not exist (a new log key and admin key)')
    .option('--json', 'print one JSON object once listening: the URL, origin, log key, admin public key, …')
    .action(async (flags: { init?: boolean; json?: boolean }) => {
      const settings = await readSettings(flags);
      const db = settings.require(S.db);
      const port = settings.integer(S.port, 0) as number;
      if (port > 65535) throw new CliError('USAGE', '--port must be a number from 0 to 65535');
      const tls = await readTls(settings);
      const accessLog = accessLogTarget(settings, io);
      let initialized: InitResult | undefined;
      if (!existsSync(homePaths(db).db)) {
        if (!flags.init) {
          const path = homePaths(db).db;
          throw new CliError(
            'NO_INPUT',
            `no relay database at ${path}; run \`overlap relay init --db ${path}\` first, or serve with --init`,
          );
        }
        initialized = await initialize(db);
        io.err(`overlap relay: initialized a new relay at ${initialized.db}\n`);
        if (initialized.adminKeyFile) {
          io.err(`overlap relay: the forum admin key is ${initialized.adminKeyFile}; move it offline\n`);
        }
      }
      const publicUrl = settings.get(S.publicUrl);
      const witnesses = witnessList(settings.get(S.witnesses));
      const metricsPort = settings.integer(S.metricsPort, 0);
      if (metricsPort !== undefined && metricsPort > 65535)
        throw new CliError('USAGE', '--metrics-port must be a number from 0 to 65535');
      const server = await relayCall(() =>
        startRelayServer({
          witnesses,
          ...(metricsPort !== undefined && { metrics: { port: metricsPort, host: settings.require(S.metricsHost) } }),
          db,
          host: settings.require(S.host),
          port,
          ...(publicUrl !== undefined && { publicUrl }),
          ...(tls && { tls }),
          ...(accessLog !== undefined && { accessLog }),
        }),
      );
      // The key is in OpenSSL's hands now: this copy is not needed.
      if (tls && typeof tls.key !== 'string') tls.key.fill(0);
      // The signals are handled from the moment the relay serves, before it says so: a SIGTERM sent
      // as soon as the banner is read stops it cleanly.
      const stopped = new Promise<void>((done) => {
        const stop = (signal: string) => {
          io.err(`overlap relay: ${signal}: finishing open writes and stopping\n`);
          server.close().then(done, done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      const accessLogShown = accessLog === undefined ? undefined : typeof accessLog === 'string' ? accessLog : '-';
      await io.out(banner(server, flags.json === true, accessLogShown, initialized));
      // The relay stops on its own only when it cannot go on (its state cannot be rebuilt): exit 1.
      const failed = await Promise.race([stopped.then(() => undefined), server.failure]);
      if (failed !== undefined) await relayCall(() => Promise.reject(failed));
    });

  addSettings(
    relay
      .command('fsck')
      .description(
        'check the stored log: hashes, blobs, chains, checkpoints; exit 1 on findings (stop the relay first, or check a backup of it)',
      ),
    S.db,
  )
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const db = (await readSettings(flags)).require(S.db);
      if (!existsSync(homePaths(db).db)) throw new CliError('NO_INPUT', `no relay database at ${homePaths(db).db}`);
      const report = await relayCall(async () => {
        try {
          return fsckRelay(db, ({ checked, total }) => {
            if (!flags.json && io.stderrIsTTY) io.err(`\rchecked ${checked}/${total} entries`);
          });
        } catch (error) {
          if (!(error instanceof RelayError && error.code === 'DB_LOCKED')) throw error;
          throw new RelayError(
            'DB_LOCKED',
            `${error.message}; or check a copy: overlap relay backup --db ${db} --out DIR, then overlap relay fsck --db DIR/relay.db`,
            { cause: error },
          );
        }
      });
      if (flags.json) io.out(`${JSON.stringify(report)}\n`);
      else {
        io.out(`entries ${report.entries}, checkpoints ${report.checkpoints}, blob files ${report.blobs}\n`);
        for (const note of report.notes) io.out(`note: ${note}\n`);
        for (const finding of report.findings) io.out(`FINDING: ${finding}\n`);
        io.out(report.findings.length === 0 ? 'fsck: clean\n' : `fsck: ${report.findings.length} finding(s)\n`);
      }
      if (report.findings.length > 0) throw new CliError('FAILURE', `fsck found ${report.findings.length} problem(s)`);
    });

  addSettings(
    relay
      .command('backup')
      .description(
        "copy the relay's database, key and blobs into a new directory, consistently, while it runs (or when stopped)",
      ),
    S.db,
  )
    .requiredOption('--out <dir>', 'the backup directory to create (never an existing one); restore: docs/deploy.md')
    .option('--json', 'print what the backup holds as JSON')
    .action(async (flags: { out: string; json?: boolean }) => {
      const db = (await readSettings(flags)).require(S.db);
      if (!existsSync(homePaths(db).db)) throw new CliError('NO_INPUT', `no relay database at ${homePaths(db).db}`);
      const result = await relayCall(() =>
        backupRelay({
          db,
          out: resolve(flags.out),
          onProgress: ({ blobsCopied, blobs }) => {
            if (!flags.json && io.stderrIsTTY) io.err(`\rcopied ${blobsCopied}/${blobs} blob files`);
          },
        }),
      );
      if (!flags.json && io.stderrIsTTY && result.blobs > 0) io.err('\n');
      for (const note of result.notes) io.err(`overlap relay: note: ${note}\n`);
      if (flags.json) {
        io.out(`${JSON.stringify(result)}\n`);
        return;
      }
      io.out(
        `backup written: ${result.out} (${result.online ? 'copied by the running relay' : 'no relay was running'})\n` +
          `  entries       ${result.entries}\n  checkpoint    ${result.checkpoint.size} ${result.checkpoint.root}\n` +
          `  blob files    ${result.blobs} (${result.blobBytes} bytes)\n`,
      );
    });
}

/** `initRelay`, and the admin public key it recorded (read back from the key file it generated). */
async function initialize(
  db: string,
  origin?: string,
  adminPublicKey?: Uint8Array,
): Promise<InitResult & { adminPublicKey: string }> {
  const result = await relayCall(() =>
    initRelay({ db, ...(origin !== undefined && { origin }), ...(adminPublicKey && { adminPublicKey }) }),
  );
  if (adminPublicKey !== undefined) return { ...result, adminPublicKey: toHex(adminPublicKey) };
  const adminKeys = await readKeyFile(result.adminKeyFile as string);
  try {
    return { ...result, adminPublicKey: toHex(adminKeys.signing.publicKey) };
  } finally {
    adminKeys.dispose();
  }
}

function describeInit(result: InitResult & { adminPublicKey: string }): string {
  const lines = [
    `  origin            ${result.origin}`,
    `  relay key id      ${result.relayKeyId}`,
    `  log key           ${result.vkey}  (labs pin it: --log-key; witnesses witness it: --log-keys)`,
    `  admin key id      ${result.adminKeyId}`,
    `  admin public key  ${result.adminPublicKey}  (labs and auditors pin it: --admin-public-key, --admin-key)`,
  ];
  if (result.adminKeyFile) {
    lines.push(`  admin key file    ${result.adminKeyFile} (mode 0600; keep it offline, away from the relay)`);
  }
  return `${lines.join('\n')}\n`;
}

function banner(server: RelayServer, json: boolean, accessLog: string | undefined, initialized?: InitResult): string {
  if (json) {
    return `${JSON.stringify({
      url: server.url,
      origin: server.origin,
      vkey: server.vkey,
      ...(server.metricsUrl !== undefined && { metricsUrl: server.metricsUrl }),
      relayKeyId: server.relayKeyId,
      adminKeyId: server.adminKeyId,
      adminPublicKey: server.adminPublicKey,
      db: server.db,
      ...(server.controlSocket !== undefined && { controlSocket: server.controlSocket }),
      ...(accessLog !== undefined && { accessLog }),
      ...(initialized && { initialized }),
    })}\n`;
  }
  const lines = [
    `relay listening on ${server.url}`,
    `  origin        ${server.origin}`,
    `  log key       ${server.vkey}`,
    `  relay key id  ${server.relayKeyId}`,
    `  admin key     ${server.adminPublicKey}`,
  ];
  if (accessLog !== undefined) lines.push(`  access log    ${accessLog === '-' ? 'stdout' : accessLog}`);
  if (server.controlSocket !== undefined) lines.push(`  control       ${server.controlSocket}`);
  if (server.metricsUrl !== undefined) lines.push(`  metrics       ${server.metricsUrl}/metrics`);
  return `${lines.join('\n')}\n`;
}

/**
 * The certificate and key, read as the operator named them. The key must not be readable by other
 * users nor writable by anyone but its owner: a group may read it (Debian's ssl-cert convention,
 * 0640), no more.
 */
async function readTls(settings: Settings): Promise<RelayTls | undefined> {
  const cert = settings.get(S.tlsCert);
  const key = settings.get(S.tlsKey);
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new CliError('USAGE', 'HTTPS needs both --tls-cert and --tls-key (or neither, for plain HTTP)');
  }
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path);
    } catch (cause) {
      throw new CliError('NO_INPUT', `cannot read the TLS ${what} ${path}: ${osReason(cause)}`, { cause });
    }
  };
  const keyPem = await read(key, 'key');
  const mode = statSync(key).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o026) !== 0) {
    keyPem.fill(0);
    throw new CliError(
      'USAGE',
      `the TLS key ${key} is mode ${mode.toString(8).padStart(4, '0')}: other users may read or change it; chmod 600 ${key} (or 640 for a group such as ssl-cert)`,
    );
  }
  return { cert: await read(cert, 'certificate'), key: keyPem };
}

function accessLogTarget(settings: Settings, io: ProgramIo): AccessLogTarget | undefined {
  const value = settings.get(S.accessLog);
  if (value === undefined) return undefined;
  if (value === '-') return (line) => void io.out(line);
  return resolve(value);
}

/** Relay errors become CLI errors: operator mistakes are usage errors, the rest failures. */
async function relayCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RelayError) {
      const usage = [
        'BAD_CONFIG',
        'BAD_LISTEN_ADDRESS',
        'ALREADY_INITIALIZED',
        'NOT_INITIALIZED',
        'BAD_TLS',
        'ACCESS_LOG_FAILED',
        'BACKUP_EXISTS',
      ].includes(error.code);
      throw new CliError(usage ? 'USAGE' : 'FAILURE', error.message, { cause: error });
    }
    throw error;
  }
}

/** `--witnesses 'URL VKEY,URL VKEY'` as the relay takes them; a usage error naming the entry otherwise. */
function witnessList(text: string | undefined): { url: string; vkey: string }[] {
  if (text === undefined) return [];
  return commaList(text).map((entry, i) => {
    const [url, vkey, ...rest] = entry.split(/\s+/);
    if (url === undefined || vkey === undefined || rest.length > 0) {
      throw new CliError('USAGE', `--witnesses entry ${i + 1} must be "<url> <vkey>", got ${JSON.stringify(entry)}`);
    }
    return { url, vkey };
  });
}
