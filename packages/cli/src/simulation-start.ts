/**
 * The first step of a simulation (simulation.ts): the labs' count, names and files checked, its
 * working folder and one lab process per lab, each told at once to read its file. Kept apart, with
 * nothing but node's own modules and simulation-lab-processes.ts, so that `overlap simulate` starts the lab processes before it loads
 * the relay and the client (~0.15 s on 2 cores): they load on the other core meanwhile instead of
 * after it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { LabProcess } from './simulation-lab-processes.js';

export interface SimulationStartOptions {
  kind?: string;
  region?: string;
  log: (line: string) => void;
}

/** What `startSimulationLabs` started: `runSimulation` takes it over (and stops and removes it). */
export interface StartedSimulationLabs {
  /** The labs it was started for, their files made absolute. */
  labs: { name: string; file: string }[];
  /** The simulation's temporary folder: the relay's database, the lab keys, the lab processes' cwd. */
  work: string;
  /** The lab processes' own config file, empty: no ./overlap.toml or $OVERLAP_CONFIG applies to them. */
  config: string;
  processes: LabProcess[];
  kind: string | undefined;
  region: string | undefined;
}

export function startSimulationLabs(
  labs: readonly { name: string; file: string }[],
  options: SimulationStartOptions,
): StartedSimulationLabs {
  checkSimulationLabs(labs);
  // Child processes run in another directory: every path they get is absolute.
  const absolute = labs.map((lab) => ({ name: lab.name, file: resolve(lab.file) }));
  const work = mkdtempSync(join(tmpdir(), 'overlap-simulate-'));
  const config = join(work, 'overlap.toml');
  const { log, kind, region } = options;
  const processes: LabProcess[] = [];
  try {
    writeFileSync(config, '# overlap simulate: the lab processes take every setting from their flags\n');
    for (const lab of absolute) {
      const child = LabProcess.start(lab.name, { cwd: work, log });
      processes.push(child);
      child.prefetch(lab.file, { ...(kind !== undefined && { kind }), ...(region !== undefined && { region }) });
    }
  } catch (error) {
    for (const child of processes) child.stop();
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  log(`${labs.length} lab processes started (they load and read their files while the relay starts)`);
  return { labs: absolute, work, config, processes, kind, region };
}

/**
 * Refuses what no simulation could run, before a process is started: fewer than two labs or more
 * than 64 (64), a name given twice (64), a file that is not there (66). Whether each name is a lab
 * id is checked once the simulation is loaded (checkNamesAndPolicy in simulation.ts): the rule is
 * in @overlap/protocol, which the bundle holds in the chunk of its schemas, too heavy to load here.
 */
export function checkSimulationLabs(labs: readonly { name: string; file: string }[]): void {
  if (labs.length < 2) throw new CliError('USAGE', 'a simulation needs at least two --lab NAME=FILE');
  if (labs.length > 64) throw new CliError('USAGE', `at most 64 labs, got ${labs.length}`);
  const names = new Set<string>();
  for (const lab of labs) {
    if (names.has(lab.name)) throw new CliError('USAGE', `lab ${lab.name} is given twice`);
    names.add(lab.name);
    if (!existsSync(lab.file)) throw new CliError('NO_INPUT', `${lab.name}: cannot read ${lab.file}`);
  }
}

/**
 * Stops what `startSimulationLabs` started (the processes still running), waits for them, then
 * `closing` (runSimulation closes its relay, whose database is in the folder), and removes the folder.
 */
export async function stopSimulationLabs(
  started: StartedSimulationLabs,
  closing: () => Promise<void> = async () => {},
): Promise<void> {
  for (const child of started.processes) child.stop();
  await Promise.all(started.processes.map((child) => child.exited));
  try {
    await closing();
  } finally {
    await rm(started.work, { recursive: true, force: true });
  }
}
