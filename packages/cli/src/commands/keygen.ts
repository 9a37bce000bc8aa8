/**
 * `overlap keygen`: a lab's keys (Ed25519 signing, X25519 sealing) in a new key file, 0600 in a
 * folder made 0700 if it is new, and its public identity, for the forum (spec/ciphersuite.md §7).
 *
 *   overlap keygen --out lab.key [--public lab.identity.json] [--passphrase | --no-passphrase] [--json]
 *
 * The passphrase that encrypts the key file:
 *   --passphrase       encrypt: $OVERLAP_KEY_PASSPHRASE if set, else asked twice on the terminal
 *                      (without a terminal: a usage error, nothing written);
 *   --no-passphrase    write the key in clear, deliberately (a service whose disk is the protection);
 *   neither            $OVERLAP_KEY_PASSPHRASE if set (an empty value: in clear); else, on a
 *                      terminal, asked twice; else (a script) in clear, with a one-line warning
 *                      that says how to encrypt.
 * The identity file holds only public keys and is 0644. Neither file is ever written over an
 * existing one; both are written atomically; if the identity cannot be written, the new key file
 * is removed again, so a failed run leaves nothing behind.
 *
 * Threat: a key file left readable (by mode, or in clear on a shared disk) lets anyone act as the
 * lab; the passphrase never appears in argv (`ps`) and is never echoed.
 */
import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { labIdentityOf } from '@overlap/client';
import { encodeKeyFile, generateLabKeys } from '@overlap/crypto';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { askPassphrase, PASSPHRASE_ENV, type PassphraseSource, processPassphraseSource } from '../passphrase.js';
import { refuseExisting, writeNewFile } from './new-file.js';

interface KeygenFlags {
  out: string;
  public?: string;
  /** true: --passphrase, false: --no-passphrase, undefined: neither. */
  passphrase?: boolean;
  json?: boolean;
}

export function addKeygenCommand(program: Command, io: ProgramIo): void {
  program
    .command('keygen')
    .requiredOption('--out <file>', 'where to write the key file (0600; never overwritten)')
    .option('--public <file>', 'also write the public identity (JSON, 0644) to this file, for the forum')
    .option(
      '--passphrase',
      `encrypt the key file: with $${PASSPHRASE_ENV} if set, else asked twice on the terminal (the default on a terminal)`,
    )
    .option('--no-passphrase', 'write the key file in clear, without asking (its disk must protect it)')
    .option('--json', 'print {key_file, encrypted, identity_file, key_id, signing_key, sealing_key} as JSON')
    .addHelpText(
      'after',
      `\nWithout --passphrase or --no-passphrase: $${PASSPHRASE_ENV} if set (empty: in clear), else asked on a terminal, else (no terminal) written in clear with a warning.`,
    )
    .action(async (flags: KeygenFlags) => {
      const identityPath = flags.public;
      if (identityPath !== undefined && resolve(identityPath) === resolve(flags.out)) {
        throw new CliError('USAGE', '--public must name another file than --out (the key file)');
      }
      await refuseExisting(flags.out, { what: 'the key file', flag: '--out' });
      if (identityPath !== undefined)
        await refuseExisting(identityPath, { what: 'the identity file', flag: '--public' });

      const passphrase = await choosePassphrase(flags, processPassphraseSource());

      const keys = generateLabKeys();
      let identity: ReturnType<typeof labIdentityOf>;
      try {
        const text = encodeKeyFile(keys, passphrase.value === undefined ? {} : { passphrase: passphrase.value });
        identity = labIdentityOf(keys);
        await writeNewFile(flags.out, text, { what: 'the key file', flag: '--out' });
      } finally {
        keys.dispose();
      }
      if (identityPath !== undefined) {
        try {
          await writeNewFile(identityPath, `${JSON.stringify(identity, null, 2)}\n`, {
            mode: 0o644,
            what: 'the identity file',
            flag: '--public',
          });
        } catch (error) {
          // The key was never shown to anyone: remove it, so the run can simply be repeated.
          await unlink(flags.out);
          if (error instanceof CliError) {
            throw new CliError(error.code, `${error.message} (the new key file ${flags.out} was removed)`, {
              cause: error,
            });
          }
          throw error;
        }
      }
      if (passphrase.warning) io.err(`overlap: warning: ${passphrase.warning}\n`);
      const encrypted = passphrase.value !== undefined;
      if (flags.json) {
        io.out(
          `${JSON.stringify({ key_file: resolve(flags.out), encrypted, identity_file: identityPath === undefined ? null : resolve(identityPath), ...identity })}\n`,
        );
        return;
      }
      io.out(`key file     ${flags.out} (mode 0600, ${encrypted ? 'encrypted' : 'NOT encrypted'})\n`);
      io.out(`key id       ${identity.key_id}\n`);
      io.out(`signing key  ${identity.signing_key}\nsealing key  ${identity.sealing_key}\n`);
      if (identityPath !== undefined) io.out(`identity     ${identityPath} (send this to the forum to be enrolled)\n`);
    });
}

interface PassphraseChoice {
  /** undefined: the key file is written in clear. */
  value?: string;
  /** One line for stderr when the key is written in clear without having been told to. */
  warning?: string;
}

/** Which passphrase encrypts the new key file, by the rules in the module comment. */
export async function choosePassphrase(
  flags: Pick<KeygenFlags, 'out' | 'passphrase'>,
  source: PassphraseSource,
): Promise<PassphraseChoice> {
  if (flags.passphrase === false) return {};
  const fromEnv = source.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv };
  const ask = () =>
    askPassphrase(source, `passphrase for the new key file ${flags.out} (--no-passphrase for none)`, {
      confirm: true,
    });
  if (flags.passphrase === true) return { value: await ask() };
  if (fromEnv === '') return {}; // set and empty: "no passphrase", as when reading a key file
  if (source.terminal) return { value: await ask() };
  return {
    warning: `the key file ${flags.out} is not encrypted (no terminal to ask for a passphrase): to encrypt it, set $${PASSPHRASE_ENV} or run overlap keygen --passphrase on a terminal`,
  };
}
