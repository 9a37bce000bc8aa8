/**
 * `overlap tls trial`: a private CA and a relay certificate signed by it (trial-certificates.ts),
 * to run a relay over HTTPS on one machine or a test network without an `openssl` binary.
 *
 *   overlap tls trial --out DIR [--host NAME …] [--days N] [--json]
 *
 * Writes DIR/ca.pem (labs: NODE_EXTRA_CA_CERTS=DIR/ca.pem), DIR/relay.pem and DIR/relay.key
 * (`relay serve --tls-cert DIR/relay.pem --tls-key DIR/relay.key`); DIR is 0700, the files 0600, and
 * an existing DIR is never written into. The CA's own key is not kept: nothing else can be signed.
 *
 * The files are written into a new temporary directory beside DIR, then renamed to DIR. Its name is
 * unpredictable (`.NAME.partial-XXXXXX`, mkdtemp) and it is created by this process, never taken
 * over: a directory another local user made in advance (at a name they guessed) would otherwise
 * receive the relay's private key, and become DIR with its owner's mode.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { makePrivateDirectory, syncDirectory, writeFileAtomic } from '@overlap/files';
import type { Command } from 'commander';
import { osReason } from '../config-file.js';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { makeTrialCertificates } from '../trial-certificates.js';

export function addTlsCommands(program: Command, io: ProgramIo): void {
  const tls = program.command('tls');
  tls
    .command('trial')
    .description('make a private CA and a relay certificate, for a trial over HTTPS (not for production)')
    .requiredOption('--out <dir>', 'a new directory for ca.pem, relay.pem and relay.key')
    .option(
      '--host <name>',
      'a host name or IP address the relay is reached by (repeatable; default 127.0.0.1, ::1, localhost)',
      collect,
      [],
    )
    .option('--days <n>', 'days the certificates are valid', '30')
    .option('--json', 'print the paths as JSON')
    .action(async (flags: { out: string; host: string[]; days: string; json?: boolean }) => {
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1 || days > 825) throw new CliError('USAGE', '--days must be 1 to 825');
      const out = resolve(flags.out);
      if (existsSync(out)) throw new CliError('USAGE', `${out} exists; give a new directory (nothing was written)`);
      const made = await makeTrialCertificates({ days, ...(flags.host.length > 0 && { hosts: flags.host }) });
      // Written into a new sibling temporary directory, then renamed: no half-made DIR is ever seen.
      await makePrivateDirectory(dirname(out));
      // mkdtemp makes a new directory (0700) at a name no one could know, or fails: never an old one.
      const temporary = await mkdtemp(join(dirname(out), `.${basename(out)}.partial-`)).catch((cause: unknown) => {
        throw new CliError('FAILURE', `cannot make a temporary directory beside ${out}: ${osReason(cause)}`, { cause });
      });
      try {
        await chmod(temporary, 0o700); // exactly, whatever the umask
        await writeFileAtomic(join(temporary, 'ca.pem'), made.caCert, { syncDirectory: false });
        await writeFileAtomic(join(temporary, 'relay.pem'), made.cert, { syncDirectory: false });
        await writeFileAtomic(join(temporary, 'relay.key'), made.key, { syncDirectory: false });
        await syncDirectory(temporary);
        // Checked again: rename would take the place of an empty directory made meanwhile.
        if (existsSync(out)) throw new CliError('USAGE', `${out} appeared meanwhile; it was left as it is`);
        await rename(temporary, out);
        await syncDirectory(dirname(out));
      } catch (error) {
        await rm(temporary, { recursive: true, force: true });
        throw error;
      }
      const paths = { ca: join(out, 'ca.pem'), cert: join(out, 'relay.pem'), key: join(out, 'relay.key') };
      if (flags.json) {
        io.out(`${JSON.stringify(paths)}\n`);
        return;
      }
      io.out(`trial CA and relay certificate in ${out} (valid ${days} days; for trials, not production)\n`);
      io.out(`  relay: overlap relay serve --tls-cert ${paths.cert} --tls-key ${paths.key} …\n`);
      io.out(`  labs:  export NODE_EXTRA_CA_CERTS=${paths.ca}\n`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
