/**
 * `overlap audit export|verify|evidence`: what auditors run. Flags, a call and a display: the transcript
 * comes from `RelayClient.transcript` (@overlap/client), the checks from `verifyTranscript`
 * (@overlap/audit, spec/audit.md).
 *
 *   overlap audit export --session ID --out FILE [--relay URL] [--admin-key FILE] [--log-key VKEY]
 *                        [--state-dir DIR] [--witness-keys VKEYS [--witness-quorum K] [--witness-wait S]] [--json]
 *   overlap audit verify --transcript FILE [--admin-key HEX|FILE] [--witness-keys VKEYS [--witness-quorum K]] [--json]
 *   overlap audit evidence --file FILE [--log-key VKEY] [--json]
 *
 * `evidence` checks what a lab wrote when the relay's log contradicted the checkpoint it remembered
 * (spec/relay-api.md §7): both checkpoints signed by the log key, and whether the file alone proves
 * the fork (two roots for one size) or shows the relay signed two trees it did not prove consistent.
 *
 * `--admin-key` means two things, as each command's --help says: for `export` it is the forum
 * admin key FILE, the secret (`--admin-key`, $OVERLAP_ADMIN_KEY, `admin.key`); for `verify` it is
 * the admin PUBLIC key to pin (`--admin-key` as 64 hex digits or the admin key file to take it from,
 * else $OVERLAP_ADMIN_PUBLIC_KEY or `trust.admin_key`, where a lab pins it too).
 *
 * `export` fetches a session's transcript with the forum admin's key (only the admin may: it holds
 * every set's final tags) and writes it atomically to a new file, 0600 (in a folder made 0700 if it
 * is new), never over an existing one; `--json` prints `{session, out, bytes}`. Like a lab, it pins
 * the relay's roots and remembers the last checkpoint it verified in `<state dir>/trust` (the
 * transcript's largest checkpoint is proven against it: a fork or a rollback is `LOG_INCONSISTENT`,
 * with evidence); with a witness policy it waits for a transcript whose log the quorum cosigned,
 * and `verify` with the policy fails one that is not (check 21). `verify` needs nothing but the file and, ideally, the
 * admin's public key to pin: one line per
 * check with counts, exit 0 only when every check holds, 1 when one fails — with the party at
 * fault (a lab, or the relay) and what it did, when the failing check can tell; `--json` prints the
 * report as `verifyTranscript` returns it (each check with its `code` and, where one applies, the
 * log `index` and the `culprit`'s key id).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AuditReport, checkTranscriptWitnesses, verifyTranscript } from '@overlap/audit';
import { checkLogEvidence, connectTrustedRelay, type RelayClient } from '@overlap/client';
import { fromHex } from '@overlap/crypto';
import { type WitnessPolicy, witnessPolicy } from '@overlap/log';
import { decodeTranscript, type Transcript } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { readKeys, sdkCall, sessionArgument } from '../lab-context.js';
import { addSettings, commaList, readSettings, SETTINGS, type Setting, type Settings } from '../settings.js';
import { refuseExisting, writeNewFile } from './new-file.js';
import { pinnedLogVerifier, settingName } from './trust-roots.js';

/**
 * `audit verify --admin-key`: the admin public key to pin, where a lab pins it (settings.ts'
 * `adminPublicKey`), under the flag auditors know; as a flag it may also name the admin key file.
 */
const VERIFY_ADMIN_KEY: Setting = {
  ...SETTINGS.adminPublicKey,
  flags: '--admin-key <hex|file>',
  description:
    "the forum admin's PUBLIC key to pin: 64 hex digits (overlap key show --admin-key FILE prints it), or the admin key file itself",
};

export function addAuditCommands(program: Command, io: ProgramIo): void {
  const audit = program.command('audit');

  const exportCommand = audit
    .command('export')
    .description("write a session's self-contained transcript (membership, envelopes, receipts, checkpoints, proofs)");
  exportCommand
    .requiredOption('--session <id>', 'the session id')
    .requiredOption('--out <file>', 'where to write the transcript (CBOR; 0600; never overwritten)');
  addSettings(
    exportCommand,
    SETTINGS.relay,
    SETTINGS.adminKeyFile,
    SETTINGS.logKey,
    SETTINGS.auditStateDir,
    SETTINGS.witnessKeys,
    SETTINGS.witnessQuorum,
    SETTINGS.witnessWait,
  )
    .option('--json', 'print {session, out, bytes} as JSON')
    .action(async (flags: { session: string; out: string; json?: boolean }) => {
      const session = sessionArgument(flags.session);
      const settings = await readSettings(flags);
      const url = settings.require(SETTINGS.relay);
      const keyPath = settings.require(SETTINGS.adminKeyFile);
      pinnedLogVerifier(settings); // a bad --log-key is a usage error before anything is read
      const logKey = settings.get(SETTINGS.logKey);
      const trustDir = join(settings.require(SETTINGS.auditStateDir), 'trust');
      const policy = witnessPolicyOf(settings);
      const waitMs = (settings.integer(SETTINGS.witnessWait) ?? 600) * 1000;
      const target = { what: 'the transcript', flag: '--out' };
      await refuseExisting(flags.out, target); // before the passphrase is asked and the transcript fetched
      const keys = await readKeys(keyPath, 'admin key file');
      try {
        const { relay, warnings } = await sdkCall(() =>
          connectTrustedRelay({
            relayUrl: url,
            signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
            adminKey: Uint8Array.from(keys.signing.publicKey),
            trustDir,
            ...(logKey !== undefined && { logKey }),
          }),
        );
        for (const warning of warnings) io.err(`overlap: ${warning}\n`);
        const bytes = await witnessedTranscript(relay, session, policy, waitMs, io);
        await writeNewFile(flags.out, bytes, target); // 0600: it holds every set's final tags
        if (flags.json) {
          io.out(`${JSON.stringify({ session, out: flags.out, bytes: bytes.length })}\n`);
          return;
        }
        io.out(
          `session ${session}: transcript of ${bytes.length.toLocaleString('en-US')} bytes written to ${flags.out}\n`,
        );
      } finally {
        keys.dispose();
      }
    });

  const verify = audit
    .command('verify')
    .description(
      'check a transcript: signatures, chains, receipts, checkpoints, hops, the hop proofs and the results recomputed, naming who is at fault',
    )
    .requiredOption('--transcript <file>', 'the transcript from overlap audit export (or simulate)');
  addSettings(verify, VERIFY_ADMIN_KEY, SETTINGS.witnessKeys, SETTINGS.witnessQuorum)
    .option('--json', 'print the report as JSON')
    .action(async (flags: { transcript: string; json?: boolean }) => {
      const settings = await readSettings(flags);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(flags.transcript));
      } catch (cause) {
        throw new CliError('NO_INPUT', `cannot read the transcript ${flags.transcript}: ${(cause as Error).message}`, {
          cause,
        });
      }
      const adminKey = await adminKeyToPin(settings);
      const witnesses = witnessPolicyOf(settings);
      const report = verifyTranscript(bytes, { ...(adminKey && { adminKey }), ...(witnesses && { witnesses }) });
      if (flags.json) io.out(`${JSON.stringify(report)}\n`);
      else printAuditReport(io, report, flags.transcript);
      if (!report.ok) throw new CliError('FAILURE', `the audit failed: ${report.failed ?? 'a check did not run'}`);
    });

  const evidence = audit
    .command('evidence')
    .description(
      "check a lab's evidence that the relay's log contradicts itself (a fork or a rollback), as the lab wrote it",
    )
    .requiredOption('--file <file>', "the evidence file (named in the lab's LOG_INCONSISTENT error)");
  addSettings(evidence, SETTINGS.logKey)
    .option('--json', 'print the verdict as JSON')
    .action(async (flags: { file: string; json?: boolean }) => {
      const settings = await readSettings(flags);
      const logKey = settings.get(SETTINGS.logKey);
      const verdict = await sdkCall(() => checkLogEvidence(flags.file, logKey));
      if (flags.json) {
        io.out(`${JSON.stringify(verdict)}\n`);
        return;
      }
      const head =
        verdict.verdict === 'proven'
          ? `PROVEN: the log ${verdict.origin} forked`
          : `SIGNED, NOT PROVEN CONSISTENT: the log ${verdict.origin}`;
      io.out(`${head}: ${verdict.explanation}.\n`);
      if (logKey === undefined)
        io.out('(checked against the log key the file names; give --log-key to pin your own)\n');
    });
}

/**
 * The session's transcript; with a witness policy, one whose log the policy's quorum cosigned
 * (check 21), fetched again every 2 s while the relay's witnesses catch up, for at most `waitMs`.
 * Its largest checkpoint is proven against the one this auditor remembers, and remembered.
 */
async function witnessedTranscript(
  relay: RelayClient,
  session: string,
  policy: WitnessPolicy | undefined,
  waitMs: number,
  io: ProgramIo,
): Promise<Uint8Array> {
  const deadline = Date.now() + waitMs;
  for (let told = false; ; ) {
    const bytes = await sdkCall(() => relay.transcript(session));
    let transcript: Transcript;
    try {
      transcript = decodeTranscript(bytes);
    } catch (cause) {
      throw new CliError(
        'FAILURE',
        `the relay's transcript of ${session} is not a transcript: ${(cause as Error).message}`,
        { cause },
      );
    }
    const largest = transcript.checkpoints.at(-1);
    if (largest !== undefined) await sdkCall(() => relay.checkCheckpoint(largest.note));
    if (policy === undefined) return bytes;
    const verdict = checkTranscriptWitnesses(transcript, policy);
    const waiting =
      verdict.code === 'WITNESSED_MISSING' ||
      verdict.code === 'WITNESSED_STALE' ||
      verdict.code === 'WITNESS_QUORUM_UNMET';
    if (verdict.ok === true) return bytes;
    if (!waiting)
      throw new CliError('FAILURE', `the relay's transcript of ${session} fails the witness check: ${verdict.detail}`);
    if (Date.now() >= deadline) {
      throw new CliError(
        'FAILURE',
        `no transcript of ${session} whose log the witness quorum cosigned within ${Math.round(waitMs / 1000)} s: ${verdict.detail} (without --witness-keys the transcript is exported as it is)`,
      );
    }
    if (!told) io.err(`overlap: waiting for the relay's witnesses: ${verdict.detail}\n`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** The witness policy the settings give (`--witness-keys`, `--witness-quorum`), if any; a usage error if bad. */
function witnessPolicyOf(settings: Settings): WitnessPolicy | undefined {
  const keys = settings.get(SETTINGS.witnessKeys);
  const quorum = settings.integer(SETTINGS.witnessQuorum);
  if (keys === undefined) {
    if (quorum !== undefined) throw new CliError('USAGE', '--witness-quorum needs --witness-keys');
    return undefined;
  }
  try {
    return witnessPolicy(commaList(keys), quorum);
  } catch (cause) {
    throw new CliError('USAGE', `${settingName(settings, SETTINGS.witnessKeys)}: ${(cause as Error).message}`, {
      cause,
    });
  }
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

/**
 * The admin public key `verify` pins, if the settings give one: hex from any source, or, given as
 * the flag, the admin key file to take it from. A bad value is a usage error naming where it came from.
 */
async function adminKeyToPin(settings: Settings): Promise<Uint8Array | undefined> {
  const given = settings.resolve(VERIFY_ADMIN_KEY);
  if (given === undefined) return undefined;
  if (/^[0-9a-f]{64}$/i.test(given.value)) return fromHex(given.value.toLowerCase());
  if (given.source !== 'flag') {
    throw new CliError(
      'USAGE',
      `${settingName(settings, VERIFY_ADMIN_KEY)} must be 64 hex digits (an Ed25519 public key)`,
    );
  }
  const keys = await readKeys(given.value, 'admin key file');
  const publicKey = Uint8Array.from(keys.signing.publicKey);
  keys.dispose();
  return publicKey;
}
