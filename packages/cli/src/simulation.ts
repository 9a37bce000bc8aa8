/**
 * A complete exchange on one machine, for real: a relay on a free loopback port with a fresh SQLite
 * database, the forum admin, one key per lab enrolled over HTTP, a session, and one `overlap
 * session run` process per lab talking HTTP to the relay. Writes `DIR/NAME.results.jsonl` for each
 * lab and `DIR/transcript.cbor` (fetched with the admin key), and answers what happened.
 *
 * `overlap simulate` and `overlap demo` run it; a lab's or the forum's own tests and benchmarks can
 * too: `import { runSimulation } from '@overlap/cli/simulation'`.
 *
 * In this order, with what can overlap overlapping, so that a small exchange costs little more than
 * its crypto:
 *   1. the lab processes start at once, load their packages and read their own files, once
 *      (simulation-lab-process.ts: their runs take that reading), answering only the counts;
 *   2. meanwhile the relay starts and enrolls each lab's fresh key, and the counts are checked
 *      (simulation-inputs.ts: the kinds, the cap; a lab with every record rejected is refused, 65,
 *      unless `allowEmpty`);
 *   3. the first lab proposes the session, and each process is told to run it;
 *   4. if a lab fails, the others are stopped (they would wait for it until the deadline);
 *   5. the transcript is fetched and every result file read back.
 * Each step is said through `log`, and each lab's own progress lines with its name.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ForumAdmin, type IndicatorFile, labIdentityOf, OverlapClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { LAB_ID_PATTERN, LAB_ID_RULE, parseRevealPolicyText, type RevealPolicy } from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { CliError } from './errors.js';
import { checkSimulationInputs, emptyReason, type SimulationInputs } from './simulation-inputs.js';
import type { LabProcess, LabProcessExit, LabProcessReady } from './simulation-lab-processes.js';
import { type StartedSimulationLabs, startSimulationLabs, stopSimulationLabs } from './simulation-start.js';
import { type SimulationWitnesses, startSimulationWitnesses } from './simulation-witnesses.js';

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
  /** Run even if a lab's every record is rejected: that lab joins with an empty set. */
  allowEmpty?: boolean;
  /** Witnesses of the relay's log to run (simulation-witnesses.ts); every lab requires them all. Default 0. */
  witnesses?: number;
  out: string;
  log: (line: string) => void;
  /**
   * The lab processes, already started for these labs, kind and region (startSimulationLabs, as
   * `overlap simulate` does before it loads this module); default: started here, first.
   */
  started?: StartedSimulationLabs;
}

export interface SimulationLabOutcome {
  name: string;
  input: IndicatorFile['summary'];
  /** Distinct canonical values per kind. */
  distinct: Record<string, number>;
  /** Prompt templates (their bands are `distinct.prompt_template`). */
  templates?: number;
  /** Lines of DIR/NAME.results.jsonl. */
  results: { kind: string; value: string; labs?: string[]; count?: number }[];
  /** What the lab process reported: wall time per phase and its peak memory. */
  process: { phases_ms?: Record<string, number>; peak_rss_mb?: number; peak_rss_mb_by_phase?: Record<string, number> };
  /** Its start-up: node's own, the packages' loading, and from spawn to ready as the simulation saw it. */
  startup: LabProcessReady;
}

/** When each step of the simulation ended, in ms from the start of `runSimulation`. */
export interface SimulationTimeline {
  /** ms this process had run before `runSimulation` (node's start-up and the CLI's loading). */
  before_ms: number;
  inputs_read: number;
  relay_started: number;
  labs_enrolled: number;
  session_created: number;
  /** Every lab process has loaded its packages. */
  labs_ready: number;
  labs_finished: number;
  transcript_fetched: number;
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
  timeline: SimulationTimeline;
  /** Peak memory of this process (the relay ran in it), MB. */
  relayPeakRssMb: number;
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationOutcome> {
  const beforeMs = Math.round(process.uptime() * 1000);
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  const { log } = options;
  const begun = options.started ?? startSimulationLabs(options.labs, options);
  const { labs, work, config, processes } = begun;
  const readyAt: number[] = [];
  for (const p of processes)
    void p.ready.then(
      () => readyAt.push(since()),
      () => {},
    );
  let relay: RelayServer | undefined;
  let witnesses: SimulationWitnesses | undefined;
  const timeline: Partial<SimulationTimeline> = { before_ms: beforeMs };
  try {
    checkStarted(begun, options);
    const policy = checkNamesAndPolicy(labs, options.reveal);
    const out = resolve(options.out);
    await makePrivateDirectory(out); // the labs' results and the transcript: 0600 files in a 0700 folder
    const [read, forum] = await Promise.allSettled([
      Promise.all(processes.map((p) => p.input)).then((reports) => {
        timeline.inputs_read = since();
        return checkSimulationInputs(labs, reports, options);
      }),
      startForum(work, labs, {
        log,
        witnesses: options.witnesses ?? 0,
        onWitnesses: (started) => {
          witnesses = started;
        },
        onRelay: (server) => {
          relay = server;
          timeline.relay_started = since();
        },
      }),
    ]);
    if (read.status === 'rejected') throw read.reason;
    if (forum.status === 'rejected') throw forum.reason;
    const inputs = read.value;
    const { admin, adminPublicKey, keys } = forum.value;
    const server = relay as unknown as RelayServer;
    timeline.labs_enrolled = since();
    for (const name of inputs.empty) {
      const input = inputs.labs.find((lab) => lab.name === name);
      if (input !== undefined) log(`${emptyReason(input)}: it joins with an empty set (--allow-empty)`);
    }

    const session = await proposeSession(server, keys[0] as LabKeys, labs, inputs, policy, options.proofs);
    timeline.session_created = since();
    log(
      `session ${session} created: kinds ${inputs.kinds.join(', ')}; reveal ${options.reveal}; proofs ${options.proofs ?? 'spot'}`,
    );
    const workers = workersPerLab(labs.length);
    for (const [i, lab] of labs.entries()) {
      (processes[i] as LabProcess).run([
        'session',
        'run',
        '--config',
        config,
        '--relay',
        server.url,
        '--key',
        join(work, `${lab.name}.key`),
        '--log-key',
        server.vkey,
        '--admin-public-key',
        server.adminPublicKey,
        '--session',
        session,
        '--input',
        lab.file,
        '--out',
        join(out, `${lab.name}.results.jsonl`),
        '--state-dir',
        join(work, `state-${i}`),
        '--workers',
        String(workers),
        '--json',
        ...(options.kind !== undefined ? ['--kind', options.kind] : []),
        ...(options.region !== undefined ? ['--region', options.region] : []),
        ...(inputs.empty.includes(lab.name) ? ['--allow-empty'] : []),
        ...(witnesses?.labArgs ?? []),
      ]);
    }
    const threads = workers === 0 ? 'each hashing on its own main thread' : `${workers} workers each`;
    log(`${labs.length} lab processes running session ${session} (${threads})`);

    const exits = await untilAllExit(processes, log);
    timeline.labs_ready = Math.max(0, ...readyAt);
    timeline.labs_finished = since();
    const transcript = join(out, 'transcript.cbor');
    await writeFileAtomic(transcript, await admin.relay.transcript(session), { replace: true });
    timeline.transcript_fetched = since();
    log(`transcript fetched: ${transcript}`);
    const failure = failureOf(exits);
    if (failure !== undefined) throw new CliError('FAILURE', failure);

    const outcomes: SimulationLabOutcome[] = [];
    for (const [i, lab] of labs.entries()) {
      const text = await readFile(join(out, `${lab.name}.results.jsonl`), 'utf8');
      const input = inputs.labs[i] as SimulationInputs['labs'][number];
      outcomes.push({
        name: lab.name,
        input: input.summary,
        distinct: input.distinct,
        ...(input.templates !== undefined && { templates: input.templates }),
        results: text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
        process: lastJsonLine((exits[i] as LabProcessExit).stdout),
        startup: await (processes[i] as LabProcess).ready,
      });
    }
    for (const k of keys) k.dispose();
    return {
      session,
      policy,
      kinds: inputs.kinds,
      labs: outcomes,
      transcript,
      adminPublicKey,
      relayOrigin: server.origin,
      seconds: (performance.now() - started) / 1000,
      timeline: timeline as SimulationTimeline,
      relayPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    // Those still running (after a failure, or before the session), then the relay, then the folder.
    await stopSimulationLabs(begun, async () => {
      await (relay as RelayServer | undefined)?.close();
      await witnesses?.close();
    });
  }
}

/** `started` must be for exactly these labs and options (a caller's mistake otherwise, not a user's). */
function checkStarted(started: StartedSimulationLabs, options: SimulationOptions): void {
  const same =
    started.labs.length === options.labs.length &&
    started.labs.every(
      (lab, i) => lab.name === options.labs[i]?.name && lab.file === resolve(options.labs[i]?.file ?? ''),
    ) &&
    started.kind === options.kind &&
    started.region === options.region;
  if (!same) throw new Error('runSimulation: `started` was started for other labs, or another kind or region');
}

/**
 * Worker threads per lab process: the cores shared among the labs, or none when that is one core
 * or less. One worker is no faster than the lab's own thread, which only waits while its set is
 * hashed, and its start-up (a thread that loads the crypto packages: ~0.2 s of CPU on a 2-core
 * machine) is pure cost on cores the labs and the relay already fill.
 */
export function workersPerLab(labs: number, cores = availableParallelism()): number {
  const share = Math.floor(cores / labs);
  return share >= 2 ? share : 0;
}

/**
 * Refuses (64) a lab name that is no lab id, or a policy no run could do (the labs' count and files
 * were checked before their processes started: checkSimulationLabs).
 */
function checkNamesAndPolicy(labs: readonly SimulationLab[], reveal: string): RevealPolicy {
  for (const lab of labs) {
    if (!LAB_ID_PATTERN.test(lab.name))
      throw new CliError('USAGE', `lab name ${JSON.stringify(lab.name)} is not a lab id: ${LAB_ID_RULE}`);
  }
  let policy: RevealPolicy;
  try {
    policy = parseRevealPolicyText(reveal);
  } catch (cause) {
    throw new CliError('USAGE', `--reveal: ${(cause as Error).message}`, { cause });
  }
  if (policy.kind === 'threshold' && policy.t > labs.length) {
    throw new CliError('USAGE', `threshold:${policy.t} needs at least ${policy.t} labs`);
  }
  return policy;
}

/** A fresh relay in WORK/relay, its admin, and one fresh key per lab, enrolled. */
async function startForum(
  work: string,
  labs: readonly SimulationLab[],
  hooks: {
    log: (line: string) => void;
    witnesses: number;
    onWitnesses: (witnesses: SimulationWitnesses) => void;
    onRelay: (relay: RelayServer) => void;
  },
): Promise<{ admin: ForumAdmin; adminPublicKey: Uint8Array; keys: LabKeys[] }> {
  const init = await initRelay({ db: join(work, 'relay', 'relay.db') });
  const witnesses = await startSimulationWitnesses(work, hooks.witnesses, init.vkey);
  hooks.onWitnesses(witnesses);
  const relay = await startRelayServer({ db: init.db, port: 0, controlSocket: false, witnesses: witnesses.relay });
  hooks.onRelay(relay);
  hooks.log(`relay started at ${relay.url} (log ${relay.origin}), fresh database in ${work}`);
  if (hooks.witnesses > 0)
    hooks.log(
      `${hooks.witnesses} witnesses of its log: ${witnesses.relay.map((w) => w.url).join(', ')}; every lab requires them all`,
    );
  const adminKeys = await readKeyFile(init.adminKeyFile as string);
  const adminPublicKey = Uint8Array.from(adminKeys.signing.publicKey);
  const admin = new ForumAdmin(relay.url, adminKeys);
  const keys: LabKeys[] = [];
  // One at a time: each enrollment is the next envelope of the admin's chain.
  for (const lab of labs) {
    const k = generateLabKeys();
    await writeKeyFile(join(work, `${lab.name}.key`), k);
    await admin.enroll({ signingKey: k.signing.publicKey, sealingKey: k.sealing.publicKey }, lab.name);
    keys.push(k);
  }
  hooks.log(
    `labs enrolled: ${labs.map((lab, i) => `${lab.name} (key ${labIdentityOf(keys[i] as LabKeys).key_id})`).join(', ')}`,
  );
  return { admin, adminPublicKey, keys };
}

/** The first lab proposes the session: the labs, the kinds they hold, their largest set as the cap. */
async function proposeSession(
  relay: RelayServer,
  proposerKeys: LabKeys,
  labs: readonly SimulationLab[],
  inputs: SimulationInputs,
  policy: RevealPolicy,
  proofs: SimulationOptions['proofs'],
): Promise<string> {
  const proposer = await OverlapClient.connect({ relayUrl: relay.url, keys: proposerKeys, logKey: relay.vkey });
  return proposer.createSession({
    labs: labs.map((l) => l.name),
    kinds: inputs.kinds,
    policy,
    maxItemsPerKind: inputs.maxItems,
    deadline: Date.now() + 60 * 60_000,
    ...(proofs !== undefined && { proofs }),
  });
}

/** Waits for every lab process; once one fails, the others are stopped (they would wait for it). */
async function untilAllExit(processes: readonly LabProcess[], log: (line: string) => void): Promise<LabProcessExit[]> {
  return Promise.all(
    processes.map((p) =>
      p.exited.then((exit) => {
        if (exit.stopped) return exit;
        if (exit.code === 0) {
          log(`${exit.name} finished`);
          return exit;
        }
        const others = processes.filter((other) => other !== p);
        log(`${exit.name} failed (${exitText(exit)}); stopping ${others.map((o) => o.name).join(', ')}`);
        for (const other of others) other.stop();
        return exit;
      }),
    ),
  );
}

/** "lab-a exited with 65 (its last line: …); lab-b was stopped", or undefined if every lab finished. */
function failureOf(exits: readonly LabProcessExit[]): string | undefined {
  const failed = exits.filter((exit) => exit.code !== 0 && !exit.stopped);
  if (failed.length === 0) return undefined;
  const stopped = exits.filter((exit) => exit.stopped).map((exit) => exit.name);
  const what = failed.map(
    (exit) => `${exit.name} ${exitText(exit)} (its last line: ${exit.lastLines.at(-1) ?? 'none'})`,
  );
  return `${what.join('; ')}${stopped.length > 0 ? `; ${stopped.join(', ')} stopped` : ''}`;
}

function exitText(exit: LabProcessExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
}

function lastJsonLine(text: string): SimulationLabOutcome['process'] {
  const line = text.trim().split('\n').at(-1);
  try {
    return line ? (JSON.parse(line) as SimulationLabOutcome['process']) : {};
  } catch {
    return {};
  }
}
