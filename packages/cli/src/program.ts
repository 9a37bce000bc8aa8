/**
 * The `overlap` command line: one commander program, with one module per command group under
 * commands/. `runProgram` is separate from `main` so tests can drive it in-process with their own
 * streams; it returns the exit code instead of exiting.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addAuditCommands } from './commands/audit.js';
import { addCryptoCommands } from './commands/crypto.js';
import { addKeysAndAdminCommands } from './commands/keys-admin.js';
import { addNormalizeCommand } from './commands/normalize.js';
import { addRelayCommands } from './commands/relay.js';
import { addSessionCommands } from './commands/session.js';
import { addSimulationCommands } from './commands/simulate.js';
import { CliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { ProgramIo } from './io.js';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const CLI_VERSION: string = packageJson.version;

export function buildProgram(io: ProgramIo): Command {
  const program = new Command('overlap')
    .description(
      'Find the suspected model-distillation actors your lab shares with other labs, without revealing anything else.',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => void io.out(text), writeErr: io.err })
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit codes: ${EXIT.OK} ok, ${EXIT.FAILURE} failure, ${EXIT.USAGE} usage error, ${EXIT.DATA} bad input data, ${EXIT.NO_INPUT} unreadable input file.`,
    );
  addCryptoCommands(program, io);
  addNormalizeCommand(program, io);
  addKeysAndAdminCommands(program, io);
  addRelayCommands(program, io);
  addSessionCommands(program, io);
  addSimulationCommands(program, io);
  addAuditCommands(program, io);
  // Subcommands inherit the output and exit behaviour.
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: (text) => void io.out(text), writeErr: io.err }).exitOverride();
    command.showHelpAfterError('(run with --help for usage)');
  }
  return program;
}

/** Runs the program on `argv` (without the node and script entries) and returns the exit code. */
export async function runProgram(argv: readonly string[], io: ProgramIo): Promise<ExitCode> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (argv.length === 0) program.outputHelp();
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; commander printed the message.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (error instanceof CliError) {
      io.err(`overlap: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}
