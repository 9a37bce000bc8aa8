/**
 * `overlap key show`: the public half of a key file — its key id, Ed25519 signing key and X25519
 * sealing key, as hex. For the forum admin key file the signing key is the admin public key that
 * labs pin (`trust.admin_key`, `--admin-public-key`) and auditors give `audit verify --admin-key`.
 *
 *   overlap key show [--key lab.key | --admin-key admin.key] [--json]
 *
 * Which file: the one a flag names (not both); else the lab's key ($OVERLAP_KEY, `key`); else the
 * admin key ($OVERLAP_ADMIN_KEY, `admin.key`). An encrypted file takes its passphrase from
 * $OVERLAP_KEY_PASSPHRASE or asks on the terminal (lab-context.ts). Nothing secret is printed.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { readKeys } from '../lab-context.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';

type KeyShowFlags = {
  key?: string;
  adminKey?: string;
  json?: boolean;
};

export function addKeyCommands(program: Command, io: ProgramIo): void {
  const key = program.command('key');
  const show = key
    .command('show')
    .description(
      "print a key file's key id, signing key and sealing key (public, hex); for the admin key file, the admin public key",
    );
  addSettings(show, SETTINGS.key, SETTINGS.adminKeyFile)
    .option('--json', 'print {file, role, key_id, signing_key, sealing_key} as JSON')
    .action(async (flags: KeyShowFlags) => {
      const settings = await readSettings(flags);
      if (flags.key !== undefined && flags.adminKey !== undefined) {
        throw new CliError('USAGE', 'give --key (a lab key file) or --admin-key (the admin key file), not both');
      }
      const lab = flags.adminKey === undefined ? settings.get(SETTINGS.key) : undefined;
      const admin = lab === undefined ? settings.get(SETTINGS.adminKeyFile) : undefined;
      const file = lab ?? admin;
      if (file === undefined) {
        throw new CliError(
          'USAGE',
          'no key file: give --key FILE (or set $OVERLAP_KEY, or key in overlap.toml), or --admin-key FILE for the forum admin key',
        );
      }
      const role = admin === undefined ? 'lab' : 'admin';
      const keys = await readKeys(file, role === 'admin' ? 'admin key file' : 'key file');
      const shown = {
        file,
        role,
        key_id: keys.keyId,
        signing_key: Buffer.from(keys.signing.publicKey).toString('hex'),
        sealing_key: Buffer.from(keys.sealing.publicKey).toString('hex'),
      };
      keys.dispose();
      if (flags.json) {
        io.out(`${JSON.stringify(shown)}\n`);
      } else if (role === 'admin') {
        io.out(`admin key file    ${file}\nkey id            ${shown.key_id}\n`);
        io.out(`admin public key  ${shown.signing_key}\nsealing key       ${shown.sealing_key}\n`);
        io.out(
          'Labs pin the admin public key as trust.admin_key (or --admin-public-key); auditors pass it to audit verify --admin-key.\n',
        );
      } else {
        io.out(`key file     ${file}\nkey id       ${shown.key_id}\n`);
        io.out(`signing key  ${shown.signing_key}\nsealing key  ${shown.sealing_key}\n`);
      }
    });
}
