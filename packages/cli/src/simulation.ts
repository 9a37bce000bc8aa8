/**
 * A complete exchange on one machine, for real: a relay on a free loopback port with a fresh SQLite
 * database, the forum admin, one key per lab enrolled over HTTP, a session, and one `overlap
 * session run` process per lab talking HTTP to the relay. Writes `DIR/NAME.results.jsonl` for each
 * lab and `DIR/transcript.cbor` (fetched with the admin key), and answers what happened.
 *
 * `overlap simulate` and `overlap demo` run it; a lab's or the forum's own tests and benchmarks can
 * too: `import { runSimulation } from '@overlap/cli/simulation'`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForumAdmin, type IndicatorFile, labIdentityOf, OverlapClient, readIndicatorFile } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { LAB_ID_PATTERN, parseRevealPolicyText, type RevealPolicy } from '@overlap/protocol';
import { initRelay, startRelayServer } from '@overlap/relay';
import { CliError } from './errors.js';

export interface SimulationLab {
  name: string;
  file: string;
}

export interface SimulationOptions {
  labs: SimulationLab[];
  reveal: string;
  /** Which positions each hop proves (spec/protocol.md §5.2; default spot). */
  proofs?: 'spot' | 'full';
  region?: string;
  kind?: string;
  out: string;
  log: (line: string) => void;
}

export interface SimulationLabOutcome {
  name: string;
  input: IndicatorFile['summary'];
  /** Distinct canonical values per kind. */
  distinct: Record<string, number>;
  /** Lines of DIR/NAME.results.jsonl. */
  results: { kind: string; value: string; labs?: string[]; count?: number }[];
  /** What the lab process reported: wall time per phase and its peak memory. */
  process: { phases_ms?: Record<string, number>; peak_rss_mb?: number; peak_rss_mb_by_phase?: Record<string, number> };
}

export interface SimulationOutcome {
  session: string;
  policy: RevealPolicy;
  kinds: string[];
  labs: SimulationLabOutcome[];
  transcript: string;
  /** The forum admin's public key (auditors pin it). */
  adminPublicKey: Uint8Array;
  relayOrigin: string;
  seconds: number;
  /** Peak memory of this process (the relay ran in it), MB. */
  relayPeakRssMb: number;
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationOutcome> {
  const started = performance.now();
  const { log } = options;
  // Child processes may run from another directory: every path they get is absolute.
  const labs = options.labs.map((lab) => ({ ...lab, file: resolve(lab.file) }));
  options = { ...options, out: resolve(options.out) };
  if (labs.length < 2) throw new CliError('USAGE', 'a simulation needs at least two --lab NAME=FILE');
  if (labs.length > 64) throw new CliError('USAGE', 'at most 64 labs');
  const names = new Set<string>();
  for (const lab of labs) {
    if (!LAB_ID_PATTERN.test(lab.name))
      throw new CliError('USAGE', `lab name ${JSON.stringify(lab.name)}: lowercase letters, digits, -`);
    if (names.has(lab.name)) throw new CliError('USAGE', `lab ${lab.name} is given twice`);
    names.add(lab.name);
    if (!existsSync(lab.file)) throw new CliError('NO_INPUT', `${lab.name}: cannot read ${lab.file}`);
  }
  let policy: RevealPolicy;
  try {
    policy = parseRevealPolicyText(options.reveal);
  } catch (cause) {
    throw new CliError('USAGE', `--reveal: ${(cause as Error).message}`, { cause });
  }
  if (policy.kind === 'threshold' && policy.t > labs.length) {
    throw new CliError('USAGE', `threshold:${policy.t} needs at least ${policy.t} labs`);
  }

  // Each lab's file, read here too: the session's kinds and cap come from what the labs hold. Only
  // the counts are kept (one file at a time), not the values: the lab processes read their own.
  const inputs: { summary: IndicatorFile['summary']; distinct: Record<string, number> }[] = [];
  for (const lab of labs) {
    const input = await readIndicatorFile(lab.file, {
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.region !== undefined && { region: options.region }),
    }).catch((cause) => {
      throw new CliError('DATA', `${lab.name}: ${(cause as Error).message}`, { cause });
    });
    const distinct = Object.fromEntries(Object.entries(input.sets).map(([kind, set]) => [kind, set.length]));
    inputs.push({ summary: input.summary, distinct });
  }
  const kinds = [...new Set(inputs.flatMap((input) => Object.keys(input.distinct)))].sort();
  if (kinds.length === 0) throw new CliError('DATA', 'no lab has any accepted indicator');
  if (kinds.length > 16) throw new CliError('DATA', `${kinds.length} kinds; a session holds at most 16`);
  const maxItems = Math.max(1, ...inputs.flatMap((input) => Object.values(input.distinct)));

  await makePrivateDirectory(options.out); // the labs' results and the transcript: 0600 files in a 0700 folder
  const work = await mkdtemp(join(tmpdir(), 'overlap-simulate-'));
  const init = await initRelay({ db: join(work, 'relay', 'relay.db') });
  const relay = await startRelayServer({ db: init.db, port: 0 });
  log(`relay ${relay.url} (log ${relay.origin}), fresh database in ${work}`);
  try {
    const adminKeys = await readKeyFile(init.adminKeyFile as string);
    const adminPublicKey = Uint8Array.from(adminKeys.signing.publicKey);
    const admin = new ForumAdmin(relay.url, adminKeys);
    const keys: LabKeys[] = [];
    for (const lab of labs) {
      const k = generateLabKeys();
      await writeKeyFile(join(work, `${lab.name}.key`), k);
      await admin.enroll({ signingKey: k.signing.publicKey, sealingKey: k.sealing.publicKey }, lab.name);
      keys.push(k);
      log(`enrolled ${lab.name} (key ${labIdentityOf(k).key_id})`);
    }
    const proposer = await OverlapClient.connect({ relayUrl: relay.url, keys: keys[0] as LabKeys, logKey: relay.vkey });
    const session = await proposer.createSession({
      labs: labs.map((l) => l.name),
      kinds,
      policy,
      maxItemsPerKind: maxItems,
      deadline: Date.now() + 60 * 60_000,
      ...(options.proofs !== undefined && { proofs: options.proofs }),
    });
    log(
      `session ${session}: kinds ${kinds.join(', ')}; reveal ${options.reveal}; proofs ${options.proofs ?? 'spot'}; ${labs.length} lab processes`,
    );

    const workers = Math.max(1, Math.floor(availableParallelism() / labs.length));
    const runs = labs.map((lab, i) =>
      runLabProcess(
        [
          'session',
          'run',
          '--relay',
          relay.url,
          '--key',
          join(work, `${lab.name}.key`),
          '--log-key',
          relay.vkey,
          '--session',
          session,
          '--input',
          lab.file,
          '--out',
          join(options.out, `${lab.name}.results.jsonl`),
          '--state-dir',
          join(work, `state-${i}`),
          '--workers',
          String(workers),
          '--json',
          ...(options.kind !== undefined ? ['--kind', options.kind] : []),
          ...(options.region !== undefined ? ['--region', options.region] : []),
        ],
        lab.name,
      ),
    );
    const exits = await Promise.all(runs);
    const failed = exits.filter((e) => e.code !== 0);
    for (const f of failed) log(`${f.name} failed (exit ${f.code}):\n${f.stderr.trim()}`);

    const transcript = join(options.out, 'transcript.cbor');
    await writeFileAtomic(transcript, await admin.relay.transcript(session), { replace: true });
    if (failed.length > 0) throw new CliError('FAILURE', `${failed.map((f) => f.name).join(', ')} did not finish`);

    const outcomes: SimulationLabOutcome[] = [];
    for (const [i, lab] of labs.entries()) {
      const text = await readFile(join(options.out, `${lab.name}.results.jsonl`), 'utf8');
      const input = inputs[i] as (typeof inputs)[number];
      outcomes.push({
        name: lab.name,
        input: input.summary,
        distinct: input.distinct,
        results: text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
        process: lastJsonLine((exits[i] as { stdout: string }).stdout),
      });
    }
    for (const k of keys) k.dispose();
    return {
      session,
      policy,
      kinds,
      labs: outcomes,
      transcript,
      adminPublicKey,
      relayOrigin: relay.origin,
      seconds: (performance.now() - started) / 1000,
      relayPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await relay.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * How to start the `overlap` command in a child process: the built `main.js` with plain node, or,
 * in a source checkout, `main.ts` through tsx (as `pnpm overlap` does), from the repository root
 * where tsx is installed.
 */
function cliCommand(): { args: string[]; cwd: string | undefined } {
  const built = fileURLToPath(new URL('./main.js', import.meta.url));
  if (existsSync(built)) return { args: [built], cwd: undefined };
  const source = fileURLToPath(new URL('./main.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return { args: ['--import', 'tsx', '--conditions=@overlap/source', source], cwd: root };
}

function lastJsonLine(text: string): SimulationLabOutcome['process'] {
  const line = text.trim().split('\n').at(-1);
  try {
    return line ? (JSON.parse(line) as SimulationLabOutcome['process']) : {};
  } catch {
    return {};
  }
}

function runLabProcess(
  args: string[],
  name: string,
): Promise<{ name: string; code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const command = cliCommand();
    const child = spawn(process.execPath, [...command.args, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(command.cwd !== undefined && { cwd: command.cwd }),
      env: { ...process.env, OVERLAP_KEY_PASSPHRASE: '' },
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    child.on('error', (error) => resolve({ name, code: -1, stderr: error.message, stdout }));
    child.on('close', (code) => resolve({ name, code, stderr, stdout }));
  });
}
