/**
 * The first step of a simulation (simulation.ts): its working folder and one lab process per lab,
 * each told at once to read its file. Kept apart, with nothing but node's own modules and
 * simulation-lab-processes.ts, so that `overlap simulate` starts the lab processes before it loads
 * the relay and the client (~0.15 s on 2 cores): they load on the other core meanwhile instead of
 * after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  // Child processes run in another directory: every path they get is absolute.
  const absolute = labs.map((lab) => ({ name: lab.name, file: resolve(lab.file) }));
  const work = mkdtempSync(join(tmpdir(), 'overlap-simulate-'));
  const config = join(work, 'overlap.toml');
  writeFileSync(config, '# overlap simulate: the lab processes take every setting from their flags\n');
  const { log, kind, region } = options;
  const processes: LabProcess[] = [];
  try {
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

/** Stops what `startSimulationLabs` started and removes its folder, for a caller that cannot hand it to runSimulation. */
export async function stopSimulationLabs(started: StartedSimulationLabs): Promise<void> {
  for (const child of started.processes) child.stop();
  await Promise.all(started.processes.map((child) => child.exited));
  await rm(started.work, { recursive: true, force: true });
}
