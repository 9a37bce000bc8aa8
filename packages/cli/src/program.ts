/**
 * The `overlap` command line: one commander program, with one module per command group under
 * commands/. `runProgram` is separate from `main` so tests can drive it in-process with their own
 * streams; it returns the exit code instead of exiting.
 *
 * Each group's module (and with it the relay, the SDK, zod, the field libraries) is loaded only
 * when one of its commands runs: the others are listed with their one-line description, from the
 * table below, for `overlap --help`. So `overlap --version` or `overlap crypto hash` does not load
 * SQLite or the phone metadata.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { ProgramIo } from './io.js';

type AddCommands = (program: Command, io: ProgramIo) => void;

interface CommandGroup {
  /** The top-level commands the module adds, with the description `overlap --help` shows. */
  commands: Readonly<Record<string, string>>;
  load: () => Promise<AddCommands>;
}

/** Every top-level command, in the order `overlap --help` lists them. */
const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    commands: { crypto: 'the OVERLAP-V1 ciphersuite as line filters, for interoperability checks' },
    load: async () => (await import('./commands/crypto.js')).addCryptoCommands,
  },
  {
    commands: { normalize: 'canonicalize a suspect list; one JSON line per record on stdout, a summary on stderr' },
    load: async () => (await import('./commands/normalize.js')).addNormalizeCommand,
  },
  {
    commands: {
      keygen: "create a lab's keys (Ed25519 signing, X25519 sealing) in a 0600 key file; print its public identity",
      key: "show a key file's public keys (for the forum admin key file: the admin public key labs pin)",
      admin: "the forum admin's membership actions (signed by the admin key)",
    },
    load: async () => (await import('./commands/keys-admin.js')).addKeysAndAdminCommands,
  },
  {
    commands: { relay: "run the forum's relay: init its keys, serve, check its storage" },
    load: async () => (await import('./commands/relay.js')).addRelayCommands,
  },
  {
    commands: { witness: "witness the relay's log: cosign each checkpoint consistent with all it cosigned before" },
    load: async () => (await import('./commands/witness.js')).addWitnessCommands,
  },
  {
    commands: { tls: 'a private CA and relay certificate for a trial over HTTPS (no openssl needed)' },
    load: async () => (await import('./commands/tls.js')).addTlsCommands,
  },
  {
    commands: { session: "a lab's sessions: propose, inspect, run, follow" },
    load: async () => (await import('./commands/session.js')).addSessionCommands,
  },
  {
    commands: {
      simulate: 'run a complete exchange locally and for real: a relay, the forum admin, one process per lab over HTTP',
      demo: 'the README demo: three labs over examples/data, who shares which suspects, then the transcript check',
    },
    load: async () => (await import('./commands/simulate.js')).addSimulationCommands,
  },
  {
    commands: { agent: "run this lab's agent: join what its policy allows, deliver results, propose schedules" },
    load: async () => (await import('./commands/agent.js')).addAgentCommands,
  },
  {
    commands: { results: "write a finished session's shared indicators as CSV, JSON lines or a STIX 2.1 bundle" },
    load: async () => (await import('./commands/results.js')).addResultsCommand,
  },
  {
    commands: { config: 'check the config file (overlap.toml) and show where each setting comes from' },
    load: async () => (await import('./commands/config.js')).addConfigCommands,
  },
  {
    commands: { audit: "auditors' commands: export a session's transcript, verify it" },
    load: async () => (await import('./commands/audit.js')).addAuditCommands,
  },
];

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const CLI_VERSION: string = packageJson.version;

/**
 * The program for `argv`: the group of the command it names (`overlap session …`, `overlap help
 * session`) is loaded in full, every other top-level command is only listed. Without `argv`, every
 * group is loaded (the whole program, as a test or a completion script would want it).
 */
export async function buildProgram(io: ProgramIo, argv?: readonly string[]): Promise<Command> {
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
      `\nExit codes: ${EXIT.OK} ok, ${EXIT.FAILURE} failure, ${EXIT.USAGE} usage error, ${EXIT.DATA} bad input data, ${EXIT.NO_INPUT} unreadable input file, ${EXIT.INTERRUPTED} interrupted (Ctrl-C).`,
    );
  // The top-level program takes no option with a value: its first word is the command.
  const words = argv?.filter((arg) => !arg.startsWith('-')) ?? [];
  const named = words[0] === 'help' ? words[1] : words[0];
  for (const group of COMMAND_GROUPS) {
    const names = Object.keys(group.commands);
    if (argv === undefined || (named !== undefined && names.includes(named))) {
      (await loadGroup(group, named))(program, io);
    } else {
      for (const name of names) {
        // Listed only: the module is loaded when argv names the command, so this never runs.
        program.command(name).action(() => {
          throw new CliError('FAILURE', `the ${name} command was not loaded`);
        });
      }
    }
    for (const [name, description] of Object.entries(group.commands)) {
      program.commands.find((command) => command.name() === name)?.description(description);
    }
  }
  // Subcommands inherit the output and exit behaviour.
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: (text) => void io.out(text), writeErr: io.err }).exitOverride();
    command.showHelpAfterError('(run with --help for usage)');
  }
  return program;
}

/** Runs the program on `argv` (without the node and script entries) and returns the exit code. */
export async function runProgram(argv: readonly string[], io: ProgramIo): Promise<ExitCode> {
  try {
    const program = await buildProgram(io, argv);
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

/**
 * Loads a command group. The relay's SQLite driver is left out of a lab's install (it compiles from
 * source, ~2 minutes): a command that needs it says how to add it instead of Node's module error.
 */
async function loadGroup(group: CommandGroup, named: string | undefined): Promise<AddCommands> {
  try {
    return await group.load();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && /'better-sqlite3'/.test(e.message)) {
      const command = named === undefined ? 'this command' : `overlap ${named}`;
      throw new CliError(
        'FAILURE',
        `${command} runs a relay, which needs better-sqlite3 12.x, and this install has none (a lab's install leaves it out): install it beside overlap, e.g. npm install -g ./dist/overlap-${CLI_VERSION}.tgz better-sqlite3@12`,
        { cause: error },
      );
    }
    throw error;
  }
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}
