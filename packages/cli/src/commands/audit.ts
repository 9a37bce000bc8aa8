/**
 * `overlap audit export|verify`: what auditors run. Flags, a call and a display: the transcript
 * comes from `RelayClient.transcript` (@overlap/client), the checks from `verifyTranscript`
 * (@overlap/audit, spec/audit.md).
 *
 *   overlap audit export --session ID --relay URL --admin-key FILE --out FILE [--log-key VKEY]
 *   overlap audit verify --transcript FILE [--admin-key KEY] [--json]
 *
 * `export` fetches a session's transcript with the forum admin's key (only the admin may: it holds
 * every set's final tags) and writes it atomically. `verify` needs nothing but the file and,
 * ideally, the admin's public key to pin (64 hex digits, or the admin key file): one line per
 * check with counts, exit 0 only when every check holds, 1 when one fails — with the party at
 * fault (a lab, or the relay) and what it did, when the failing check can tell; `--json` prints the
 * report as `verifyTranscript` returns it (each check with its `code` and, where one applies, the
 * log `index` and the `culprit`'s key id).
 */
import { readFile } from 'node:fs/promises';
import { type AuditReport, verifyTranscript } from '@overlap/audit';
import { RelayClient } from '@overlap/client';
import { fromHex } from '@overlap/crypto';
import { writeFileAtomic } from '@overlap/files';
import { parseVerifierKey } from '@overlap/log';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { readKeys, sdkCall, sessionArgument } from '../lab-context.js';

export function addAuditCommands(program: Command, io: ProgramIo): void {
  const audit = program.command('audit');

  audit
    .command('export')
    .description("write a session's self-contained transcript (membership, envelopes, receipts, checkpoints, proofs)")
    .requiredOption('--session <id>', 'the session id')
    .requiredOption('--out <file>', 'where to write the transcript (CBOR)')
    .option('--relay <url>', 'the relay base URL (default: $OVERLAP_RELAY)')
    .option('--admin-key <file>', 'the forum admin key file (default: $OVERLAP_ADMIN_KEY)')
    .option('--log-key <vkey>', "the relay log's verifier key: every checkpoint the relay sends is checked against it")
    .action(async (flags: { session: string; out: string; relay?: string; adminKey?: string; logKey?: string }) => {
      const session = sessionArgument(flags.session);
      const url = flags.relay ?? process.env.OVERLAP_RELAY;
      const keyPath = flags.adminKey ?? process.env.OVERLAP_ADMIN_KEY;
      if (!url) throw new CliError('USAGE', 'no relay: give --relay URL or set OVERLAP_RELAY');
      if (!keyPath) throw new CliError('USAGE', 'no admin key: give --admin-key FILE or set OVERLAP_ADMIN_KEY');
      const keys = await readKeys(keyPath, 'admin key file');
      let logVerifier: ReturnType<typeof parseVerifierKey> | undefined;
      try {
        logVerifier = flags.logKey === undefined ? undefined : parseVerifierKey(flags.logKey);
      } catch (cause) {
        throw new CliError('USAGE', `--log-key: ${(cause as Error).message}`, { cause });
      }
      const relay = new RelayClient({
        url,
        signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
        ...(logVerifier && { logVerifier }),
      });
      try {
        const bytes = await sdkCall(() => relay.transcript(session));
        try {
          await writeFileAtomic(flags.out, bytes, { replace: true }); // 0600: it holds every set's final tags
        } catch (cause) {
          throw new CliError('FAILURE', `cannot write ${flags.out}: ${(cause as Error).message}`, { cause });
        }
        io.out(
          `session ${session}: transcript of ${bytes.length.toLocaleString('en-US')} bytes written to ${flags.out}\n`,
        );
      } finally {
        keys.dispose();
      }
    });

  audit
    .command('verify')
    .description(
      'check a transcript: signatures, chains, receipts, checkpoints, hops, the hop proofs and the results recomputed, naming who is at fault',
    )
    .requiredOption('--transcript <file>', 'the transcript from overlap audit export (or simulate)')
    .option('--admin-key <key>', "the forum admin's public key to pin: 64 hex digits, or the admin key file")
    .option('--json', 'print the report as JSON')
    .action(async (flags: { transcript: string; adminKey?: string; json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(flags.transcript));
      } catch (cause) {
        throw new CliError('NO_INPUT', `cannot read the transcript ${flags.transcript}`, { cause });
      }
      const adminKey = flags.adminKey === undefined ? undefined : await adminPublicKey(flags.adminKey);
      const report = verifyTranscript(bytes, adminKey ? { adminKey } : {});
      if (flags.json) io.out(`${JSON.stringify(report)}\n`);
      else printAuditReport(io, report, flags.transcript);
      if (!report.ok) throw new CliError('FAILURE', `the audit failed: ${report.failed ?? 'a check did not run'}`);
    });
}

/** The report, one line per check. */
export function printAuditReport(io: ProgramIo, report: AuditReport, file: string): void {
  io.out(`Audit of ${file}${report.session ? ` (session ${report.session})` : ''}:\n`);
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) {
    const mark = c.ok === true ? 'ok  ' : c.ok === false ? 'FAIL' : 'skip';
    io.out(`  ${mark} ${c.name.padEnd(width)}  ${c.detail}\n`);
  }
  if (report.ok) {
    io.out('Every check holds: the transcript is complete, consistent and its results are right.\n');
    return;
  }
  const caught = report.checks.find((c) => c.ok === false);
  const where = caught?.index === undefined ? '' : ` at log index ${caught.index}`;
  io.out(
    `The audit FAILED: caught by the ${report.failed ?? '(unknown)'} check (${report.code ?? 'NOT_CHECKED'}${where}).\n`,
  );
  if (report.culprit !== undefined) {
    const who = report.culpritName === 'the relay' ? 'the relay' : `lab ${report.culpritName ?? '(not enrolled)'}`;
    io.out(`At fault: ${who} (key ${report.culprit}): ${caught?.detail ?? ''}\n`);
  }
}

async function adminPublicKey(text: string): Promise<Uint8Array> {
  if (/^[0-9a-f]{64}$/i.test(text)) return fromHex(text.toLowerCase());
  const keys = await readKeys(text, 'admin key file');
  const publicKey = Uint8Array.from(keys.signing.publicKey);
  keys.dispose();
  return publicKey;
}
