/**
 * `overlap keygen` (a lab's keys) and `overlap admin enroll|revoke|list` (the forum's membership).
 *
 *   overlap keygen --out lab.key [--public lab.identity.json] [--json]
 *   overlap admin enroll --relay URL --admin-key FILE --identity lab.identity.json --lab NAME [--name TEXT] [--valid-days N]
 *   overlap admin revoke --relay URL --admin-key FILE --key-id ID --reason TEXT
 *   overlap admin list   --relay URL [--json]
 *
 * A key file is written 0600 and never over an existing one; the identity file holds only public
 * keys and is what a lab sends the forum to be enrolled.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ForumAdmin, labIdentityOf, OverlapClient, parseLabIdentity } from '@overlap/client';
import { CryptoError, generateLabKeys } from '@overlap/crypto';
import { writeKeyFile } from '@overlap/crypto/node';
import { LAB_ID_PATTERN } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { readKeys, sdkCall } from '../lab-context.js';

export function addKeysAndAdminCommands(program: Command, io: ProgramIo): void {
  program
    .command('keygen')
    .requiredOption('--out <file>', 'where to write the key file (never overwritten)')
    .option('--public <file>', 'also write the public identity (JSON) to this file, for the forum')
    .option('--json', 'print the identity as JSON only')
    .action(async (flags: { out: string; public?: string; json?: boolean }) => {
      const keys = generateLabKeys();
      try {
        const passphrase = process.env.OVERLAP_KEY_PASSPHRASE;
        await writeKeyFile(flags.out, keys, passphrase === undefined ? {} : { passphrase });
      } catch (cause) {
        keys.dispose();
        if (cause instanceof CryptoError) throw new CliError('FAILURE', cause.message, { cause });
        throw cause;
      }
      const identity = labIdentityOf(keys);
      keys.dispose();
      if (flags.public) await writeFile(flags.public, `${JSON.stringify(identity, null, 2)}\n`, { flag: 'wx' });
      if (flags.json) io.out(`${JSON.stringify(identity)}\n`);
      else {
        io.out(`key file     ${flags.out} (mode 0600)\nkey id       ${identity.key_id}\n`);
        io.out(`signing key  ${identity.signing_key}\nsealing key  ${identity.sealing_key}\n`);
        if (flags.public) io.out(`identity     ${flags.public} (send this to the forum to be enrolled)\n`);
      }
    });

  const admin = program.command('admin');
  admin
    .command('enroll')
    .description('enroll a lab: an enrollment envelope signed by the admin key, logged by the relay')
    .requiredOption('--relay <url>', 'the relay base URL')
    .requiredOption('--admin-key <file>', 'the forum admin key file')
    .requiredOption('--identity <file>', "the lab's public identity (overlap keygen --public)")
    .requiredOption('--lab <id>', 'the lab id other labs will see (lowercase letters, digits, -)')
    .option('--name <text>', 'display name (default: the lab id)')
    .option('--valid-days <n>', 'days the enrollment is valid', '365')
    .action(
      async (flags: {
        relay: string;
        adminKey: string;
        identity: string;
        lab: string;
        name?: string;
        validDays: string;
      }) => {
        if (!LAB_ID_PATTERN.test(flags.lab)) {
          throw new CliError(
            'USAGE',
            `--lab ${JSON.stringify(flags.lab)} is not a lab id: 1 to 63 of a-z, 0-9 and -, not starting with - (e.g. lab-a)`,
          );
        }
        const days = Number(flags.validDays);
        if (!Number.isInteger(days) || days < 1 || days > 3650)
          throw new CliError('USAGE', '--valid-days must be 1 to 3650');
        let identity: ReturnType<typeof parseLabIdentity>;
        try {
          identity = parseLabIdentity(JSON.parse(await readFile(flags.identity, 'utf8')));
        } catch (cause) {
          throw new CliError('DATA', `${flags.identity}: ${(cause as Error).message}`, { cause });
        }
        const keys = await readKeys(flags.adminKey, 'admin key file');
        try {
          const forum = new ForumAdmin(flags.relay, keys);
          const done = await sdkCall(() =>
            forum.enroll(identity, flags.lab, {
              ...(flags.name !== undefined && { name: flags.name }),
              validUntil: Date.now() + days * 86_400_000,
            }),
          );
          io.out(`enrolled ${flags.lab} (key ${done.keyId}) at log index ${done.index}\n`);
        } finally {
          keys.dispose();
        }
      },
    );

  admin
    .command('revoke')
    .description("revoke a lab's key from now on: a revocation envelope signed by the admin key")
    .requiredOption('--relay <url>', 'the relay base URL')
    .requiredOption('--admin-key <file>', 'the forum admin key file')
    .requiredOption('--key-id <id>', 'the key id to revoke')
    .requiredOption('--reason <text>', 'why (logged)')
    .action(async (flags: { relay: string; adminKey: string; keyId: string; reason: string }) => {
      if (!/^[0-9a-f]{32}$/.test(flags.keyId)) throw new CliError('USAGE', '--key-id must be 32 lowercase hex digits');
      const keys = await readKeys(flags.adminKey, 'admin key file');
      try {
        const done = await sdkCall(() => new ForumAdmin(flags.relay, keys).revoke(flags.keyId, flags.reason));
        io.out(`revoked ${flags.keyId} at log index ${done.index}\n`);
      } finally {
        keys.dispose();
      }
    });

  admin
    .command('list')
    .description('the enrolled labs, each enrollment checked against the admin key')
    .requiredOption('--relay <url>', 'the relay base URL')
    .option('--json', 'one JSON object per lab')
    .action(async (flags: { relay: string; json?: boolean }) => {
      // Reading membership needs no key of ours: a throwaway identity is enough to use the SDK.
      const keys = generateLabKeys();
      try {
        const client = await sdkCall(() => OverlapClient.connect({ relayUrl: flags.relay, keys }));
        const members = await sdkCall(() => client.members());
        for (const m of members) {
          const state = m.revoked ? 'revoked' : m.validUntil < Date.now() ? 'expired' : 'active';
          if (flags.json) io.out(`${JSON.stringify({ lab: m.lab, name: m.name, key_id: m.keyId, state })}\n`);
          else io.out(`${m.lab.padEnd(24)} ${m.keyId}  ${state}  ${m.name}\n`);
        }
      } finally {
        keys.dispose();
      }
    });
}
