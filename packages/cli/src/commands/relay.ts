/**
 * `overlap relay init|serve|fsck`: the forum's relay (packages/relay).
 *
 *   overlap relay init  [--db FILE] [--origin NAME] [--admin-public-key HEX] [--json]
 *   overlap relay serve [--db FILE] [--host 127.0.0.1] [--port 8787] [--public-url URL]
 *   overlap relay fsck  [--db FILE] [--json]
 *
 * `serve` with no home initializes one first (so `overlap relay serve` alone works), prints the URL,
 * the log's origin and verifier key, and stops cleanly on SIGINT or SIGTERM.
 */
import { existsSync } from 'node:fs';
import { fromHex } from '@overlap/crypto';
import { DEFAULT_DB_PATH, fsckRelay, homePaths, initRelay, RelayError, startRelayServer } from '@overlap/relay';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';

export function addRelayCommands(program: Command, io: ProgramIo): void {
  const relay = program.command('relay');

  relay
    .command('init')
    .description('create the relay database, its log key and the forum admin key (or use an existing admin key)')
    .option('--db <file>', 'the relay database; keys and blobs go beside it', DEFAULT_DB_PATH)
    .option('--origin <name>', "the log's origin line (default: overlap-relay/<key id prefix>)")
    .option('--admin-public-key <hex>', 'use this Ed25519 admin public key (64 hex digits) instead of generating one')
    .option('--json', 'print the result as JSON')
    .action(async (options: { db: string; origin?: string; adminPublicKey?: string; json?: boolean }) => {
      let adminPublicKey: Uint8Array | undefined;
      if (options.adminPublicKey !== undefined) {
        try {
          adminPublicKey = fromHex(options.adminPublicKey, 32);
        } catch (cause) {
          throw new CliError('USAGE', '--admin-public-key must be 64 lowercase hex digits', { cause });
        }
      }
      const result = await relayCall(() =>
        initRelay({
          db: options.db,
          ...(options.origin !== undefined && { origin: options.origin }),
          ...(adminPublicKey && { adminPublicKey }),
        }),
      );
      if (options.json) {
        io.out(`${JSON.stringify(result)}\n`);
        return;
      }
      io.out(`relay initialized: ${result.db}\n`);
      io.out(
        `  origin        ${result.origin}\n  relay key id  ${result.relayKeyId}\n  admin key id  ${result.adminKeyId}\n`,
      );
      if (result.adminKeyFile) {
        io.out(`  admin key     ${result.adminKeyFile} (mode 0600; keep it offline, away from the relay)\n`);
      }
    });

  relay
    .command('serve')
    .description('serve the relay API over HTTP until SIGINT or SIGTERM')
    .option('--db <file>', 'the relay database (initialized on first use)', DEFAULT_DB_PATH)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: any free port)', '8787')
    .option('--public-url <url>', 'the base URL clients use and sign (default: http://HOST:PORT)')
    .action(async (options: { db: string; host: string; port: string; publicUrl?: string }) => {
      if (!/^\d{1,5}$/.test(options.port)) throw new CliError('USAGE', '--port must be a number from 0 to 65535');
      if (!existsSync(homePaths(options.db).db)) {
        const init = await relayCall(() => initRelay({ db: options.db }));
        io.err(`overlap relay: initialized a new relay at ${init.db}\n`);
        if (init.adminKeyFile) io.err(`overlap relay: the forum admin key is ${init.adminKeyFile}; keep it offline\n`);
      }
      const server = await relayCall(() =>
        startRelayServer({
          db: options.db,
          host: options.host,
          port: Number(options.port),
          ...(options.publicUrl !== undefined && { publicUrl: options.publicUrl }),
        }),
      );
      io.out(`relay listening on ${server.url}\n  origin        ${server.origin}\n  log key       ${server.vkey}\n`);
      io.out(`  relay key id  ${server.relayKeyId}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          io.err(`overlap relay: ${signal}: finishing open writes and stopping\n`);
          server.close().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  relay
    .command('fsck')
    .description('check the stored log: hashes, blobs, chains, checkpoints (stop the relay first); exit 1 on findings')
    .option('--db <file>', 'the relay database', DEFAULT_DB_PATH)
    .option('--json', 'print the report as JSON')
    .action(async (options: { db: string; json?: boolean }) => {
      if (!existsSync(homePaths(options.db).db)) {
        throw new CliError('NO_INPUT', `no relay database at ${homePaths(options.db).db}`);
      }
      const report = await relayCall(async () =>
        fsckRelay(options.db, ({ checked, total }) => {
          if (!options.json && io.stderrIsTTY) io.err(`\rchecked ${checked}/${total} entries`);
        }),
      );
      if (options.json) io.out(`${JSON.stringify(report)}\n`);
      else {
        io.out(`entries ${report.entries}, checkpoints ${report.checkpoints}, blob files ${report.blobs}\n`);
        for (const note of report.notes) io.out(`note: ${note}\n`);
        for (const finding of report.findings) io.out(`FINDING: ${finding}\n`);
        io.out(report.findings.length === 0 ? 'fsck: clean\n' : `fsck: ${report.findings.length} finding(s)\n`);
      }
      if (report.findings.length > 0) throw new CliError('FAILURE', `fsck found ${report.findings.length} problem(s)`);
    });
}

/** Relay errors become CLI errors: operator mistakes are usage errors, the rest failures. */
async function relayCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RelayError) {
      const usage = ['BAD_CONFIG', 'BAD_LISTEN_ADDRESS', 'ALREADY_INITIALIZED', 'NOT_INITIALIZED'].includes(error.code);
      throw new CliError(usage ? 'USAGE' : 'FAILURE', error.message, { cause: error });
    }
    throw error;
  }
}
