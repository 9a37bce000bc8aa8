/**
 * `overlap admin enroll|revoke|list`: the forum's membership (spec/protocol.md §4). Enrolling and
 * revoking are envelopes signed by the forum admin key, logged by the relay; listing reads them
 * back and checks each signature against the admin key — the one the lab pins, when it gives one.
 *
 *   overlap admin enroll --identity lab.identity.json --lab ID [--name TEXT] [--valid-days N] [--json]
 *   overlap admin revoke --key-id ID --reason TEXT [--json]
 *   overlap admin list [--admin-public-key HEX] [--json]
 *
 * The relay (`--relay`, $OVERLAP_RELAY, `relay`), the admin key file (`--admin-key`,
 * $OVERLAP_ADMIN_KEY, `admin.key`) and the trust roots (`--log-key`, `--admin-public-key`) come
 * from settings.ts. Every argument is checked before the relay is contacted: a lab id that breaks
 * LAB_ID_PATTERN is a usage error naming the rule, not an answer from the relay.
 */
import { readFile } from 'node:fs/promises';
import { ForumAdmin, OverlapClient, parseLabIdentity } from '@overlap/client';
import { toHex } from '@overlap/crypto';
import { LAB_ID_PATTERN, LAB_ID_RULE } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { pinnedAdminKey, readKeys, sdkCall } from '../lab-context.js';
import { addSettings, readSettings, SETTINGS, type Settings } from '../settings.js';
import { pinnedLogVerifier } from './trust-roots.js';

export function addAdminCommands(program: Command, io: ProgramIo): void {
  const admin = program.command('admin');

  const enroll = admin
    .command('enroll')
    .description('enroll a lab: an enrollment envelope signed by the admin key, logged by the relay');
  addSettings(enroll, SETTINGS.relay, SETTINGS.adminKeyFile, SETTINGS.logKey)
    .requiredOption('--identity <file>', "the lab's public identity (overlap keygen --public)")
    .requiredOption('--lab <id>', 'the lab id other labs will see (lowercase letters, digits, -)')
    .option('--name <text>', 'display name (default: the lab id)')
    .option('--valid-days <n>', 'days the enrollment is valid', '365')
    .option('--json', 'print {lab, key_id, index} as JSON')
    .action(async (flags: { identity: string; lab: string; name?: string; validDays: string; json?: boolean }) => {
      if (!LAB_ID_PATTERN.test(flags.lab)) {
        throw new CliError('USAGE', `--lab ${JSON.stringify(flags.lab)} is not a lab id: ${LAB_ID_RULE} (e.g. lab-a)`);
      }
      const days = Number(flags.validDays);
      if (!Number.isInteger(days) || days < 1 || days > 3650)
        throw new CliError('USAGE', `--valid-days must be a whole number from 1 to 3650, got ${flags.validDays}`);
      const identity = await readIdentity(flags.identity);
      const settings = await readSettings(flags);
      await asAdmin(settings, async (forum) => {
        const done = await sdkCall(() =>
          forum.enroll(identity, flags.lab, {
            ...(flags.name !== undefined && { name: flags.name }),
            validUntil: Date.now() + days * 86_400_000,
          }),
        );
        if (flags.json) io.out(`${JSON.stringify({ lab: flags.lab, key_id: done.keyId, index: done.index })}\n`);
        else io.out(`enrolled ${flags.lab} (key ${done.keyId}) at log index ${done.index}\n`);
      });
    });

  const revoke = admin
    .command('revoke')
    .description("revoke a lab's key from now on: a revocation envelope signed by the admin key");
  addSettings(revoke, SETTINGS.relay, SETTINGS.adminKeyFile, SETTINGS.logKey)
    .requiredOption('--key-id <id>', 'the key id to revoke (32 lowercase hex digits, as admin list shows it)')
    .requiredOption('--reason <text>', 'why (logged)')
    .option('--json', 'print {key_id, index} as JSON')
    .action(async (flags: { keyId: string; reason: string; json?: boolean }) => {
      if (!/^[0-9a-f]{32}$/.test(flags.keyId)) throw new CliError('USAGE', '--key-id must be 32 lowercase hex digits');
      const settings = await readSettings(flags);
      await asAdmin(settings, async (forum) => {
        const done = await sdkCall(() => forum.revoke(flags.keyId, flags.reason));
        if (flags.json) io.out(`${JSON.stringify({ key_id: flags.keyId, index: done.index })}\n`);
        else io.out(`revoked ${flags.keyId} at log index ${done.index}\n`);
      });
    });

  const list = admin
    .command('list')
    .description(
      'the enrolled labs, each enrollment checked against the admin key; signed with the admin key file or a lab key (the relay shows its membership to enrolled keys only)',
    );
  addSettings(list, SETTINGS.relay, SETTINGS.adminKeyFile, SETTINGS.key, SETTINGS.adminPublicKey, SETTINGS.logKey)
    .option('--json', 'one JSON object per lab: {lab, name, key_id, state}')
    .action(async (flags: { json?: boolean }) => {
      const settings = await readSettings(flags);
      const relayUrl = settings.require(SETTINGS.relay);
      const pinned = pinnedAdminKey(settings);
      const logKey = settings.get(SETTINGS.logKey);
      pinnedLogVerifier(settings); // a bad log key is a usage error before the relay is contacted
      const adminFile = settings.get(SETTINGS.adminKeyFile);
      const labFile = settings.get(SETTINGS.key);
      if (adminFile === undefined && labFile === undefined) {
        throw new CliError(
          'USAGE',
          'listing the labs needs the signature of an enrolled key: give --admin-key FILE (the forum admin key file; $OVERLAP_ADMIN_KEY, admin.key) or --key FILE (a lab key file; $OVERLAP_KEY, key)',
        );
      }
      // The admin key file is its own pin: its public key is the one to check enrollments against.
      const keys =
        adminFile !== undefined ? await readKeys(adminFile, 'admin key file') : await readKeys(labFile as string);
      const adminKey = pinned ?? (adminFile !== undefined ? Uint8Array.from(keys.signing.publicKey) : undefined);
      try {
        const client = await sdkCall(() =>
          OverlapClient.connect({
            relayUrl,
            keys,
            ...(adminKey !== undefined && { adminKey }),
            ...(logKey !== undefined && { logKey }),
          }),
        );
        if (adminKey === undefined) {
          io.err(
            `overlap: warning: the admin key was not pinned (--admin-public-key, $OVERLAP_ADMIN_PUBLIC_KEY or trust.admin_key); checked against the one the relay announces: ${toHex(client.info.admin_key)}\n`,
          );
        }
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

/** A lab's identity file (attacker-controlled until the admin vouches for it): a data error naming the file. */
async function readIdentity(path: string): Promise<ReturnType<typeof parseLabIdentity>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CliError('NO_INPUT', `cannot read the identity file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseLabIdentity(JSON.parse(text));
  } catch (cause) {
    throw new CliError('DATA', `the identity file ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Runs `act` with the forum admin's keys from the settings, wiping them afterwards. */
async function asAdmin(settings: Settings, act: (forum: ForumAdmin) => Promise<void>): Promise<void> {
  const relayUrl = settings.require(SETTINGS.relay);
  const keyPath = settings.require(SETTINGS.adminKeyFile);
  const logVerifier = pinnedLogVerifier(settings);
  const keys = await readKeys(keyPath, 'admin key file');
  try {
    const forum = await sdkCall(
      async () => new ForumAdmin(relayUrl, keys, logVerifier === undefined ? {} : { logVerifier }),
    );
    await act(forum);
  } finally {
    keys.dispose();
  }
}
