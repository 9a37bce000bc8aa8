/**
 * `overlap witness init|serve|vkey`: a witness of the relay's log (packages/witness). A lab, an auditor
 * or the forum runs one; the relay submits each new checkpoint to it (C2SP tlog-witness), and it
 * cosigns only a checkpoint consistent with every one it cosigned before.
 *
 *   overlap witness vkey   --name NAME --key FILE            print its cosigner verifier key
 *   overlap witness init   --name NAME --key FILE [--state-dir DIR]   make its state, once
 *   overlap witness serve  --name NAME --key FILE --log-keys VKEY[,VKEY…] [--state-dir DIR]
 *                          [--host 127.0.0.1] [--port 7380] [--json]
 *
 * `serve` refuses a state directory `init` did not make for the same name and key: a witness
 * restarted on an empty directory would cosign any history.
 *
 * Each setting also comes from `$OVERLAP_WITNESS_*` or `[witness]` in overlap.toml (--help names
 * them). `serve` prints its URL and vkey once listening, one JSON line on stderr per refused
 * request (never more than the request said), and stops on SIGINT or SIGTERM, letting its state
 * directory go.
 */
import { LogError } from '@overlap/log';
import { startWitnessServer, trustedLogs, Witness, WitnessError, WitnessState, witnessVkey } from '@overlap/witness';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { readKeys } from '../lab-context.js';
import { addSettings, commaList, readSettings, type Settings } from '../settings.js';
import { WITNESS_SETTINGS as S } from '../witness-settings.js';

export function addWitnessCommands(program: Command, io: ProgramIo): void {
  const witness = program
    .command('witness')
    .description("a witness of the relay's log: cosigns each checkpoint consistent with all it cosigned before");

  addSettings(
    witness.command('vkey').description("print the witness's verifier key, for the relay and the labs' policy"),
    S.name,
    S.key,
  ).action(async (flags: Record<string, unknown>) => {
    const settings = await readSettings(flags);
    const name = settings.require(S.name);
    const keys = await readKeys(settings.require(S.key), 'witness key file');
    try {
      io.out(`${witnessCall(() => witnessVkey(name, keys.signing.secretKey))}\n`);
    } finally {
      keys.dispose();
    }
  });

  addSettings(
    witness
      .command('init')
      .description("make the witness's state directory, once: serve refuses one init did not make for its key"),
    S.name,
    S.key,
    S.stateDir,
  ).action(async (flags: Record<string, unknown>) => {
    const settings = await readSettings(flags);
    const name = settings.require(S.name);
    const keys = await readKeys(settings.require(S.key), 'witness key file');
    const stateDir = settings.require(S.stateDir);
    try {
      const vkey = witnessCall(() => witnessVkey(name, keys.signing.secretKey));
      await witnessCall(() => WitnessState.init(stateDir, vkey));
      io.out(
        `witness state made in ${stateDir}\n  vkey       ${vkey}\nkeep it, and back it up: a witness that forgets may cosign a fork\n`,
      );
    } finally {
      keys.dispose();
    }
  });

  addSettings(
    witness.command('serve').description('serve C2SP tlog-witness add-checkpoint over HTTP until SIGINT or SIGTERM'),
    S.name,
    S.key,
    S.logKeys,
    S.stateDir,
    S.host,
    S.port,
  )
    .option('--json', 'print one JSON object once listening: the URL, name, vkey, state directory, logs')
    .action(async (flags: Record<string, unknown>) => {
      const settings = await readSettings(flags);
      const name = settings.require(S.name);
      const logs = witnessCall(() => trustedLogs(logKeys(settings)));
      const port = settings.integer(S.port, 0) as number;
      if (port > 65535) throw new CliError('USAGE', '--port must be a number from 0 to 65535');
      const keys = await readKeys(settings.require(S.key), 'witness key file');
      const stateDir = settings.require(S.stateDir);
      const state = await witnessCall(() => WitnessState.open(stateDir));
      let running: Awaited<ReturnType<typeof startWitnessServer>>;
      let served: Witness;
      try {
        served = witnessCall(
          () =>
            new Witness({
              name,
              secretKey: keys.signing.secretKey,
              logs,
              state,
              onRefusal: (refusal) => io.err(`${JSON.stringify({ event: 'refused', ...refusal })}\n`),
            }),
        );
        running = await startWitnessServer(served, { host: settings.require(S.host), port });
      } catch (error) {
        await state.close();
        keys.dispose();
        throw error;
      }
      const stopped = new Promise<void>((done) => {
        const stop = (signal: string) => {
          io.err(`overlap witness: ${signal}: stopping\n`);
          void running
            .close()
            .then(() => served.close())
            .then(() => state.close())
            .finally(() => {
              keys.dispose();
              done();
            });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      const origins = logs.map((log) => log.origin);
      const sizes = state.sizes();
      if (flags.json === true) {
        await io.out(`${JSON.stringify({ url: running.url, name, vkey: served.vkey, stateDir, logs: origins })}\n`);
      } else {
        const lines = [
          `witness listening on ${running.url}`,
          `  name       ${name}`,
          `  vkey       ${served.vkey}`,
          `  state      ${stateDir}`,
          ...origins.map((origin) => `  log        ${origin} (last cosigned size ${sizes.get(origin) ?? 'none'})`),
        ];
        await io.out(`${lines.join('\n')}\n`);
      }
      await stopped;
    });
}

function logKeys(settings: Settings): string[] {
  return commaList(settings.require(S.logKeys));
}

function witnessCall<T>(run: () => T): T {
  try {
    const result = run();
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        throw asCliError(error);
      }) as T;
    }
    return result;
  } catch (error) {
    throw asCliError(error);
  }
}

function asCliError(error: unknown): unknown {
  if (error instanceof LogError && error.code === 'BAD_KEY')
    return new CliError('USAGE', error.message, { cause: error });
  if (!(error instanceof WitnessError)) return error;
  const code =
    error.code === 'STATE_DAMAGED'
      ? 'DATA'
      : ['BAD_CONFIG', 'STATE_MISSING', 'STATE_EXISTS', 'STATE_MISMATCH'].includes(error.code)
        ? 'USAGE'
        : 'FAILURE';
  return new CliError(code, error.message, { cause: error });
}
