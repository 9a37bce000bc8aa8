/**
 * What the simulation needs to know of the labs' files before a session can be proposed: the
 * kinds they hold and the largest set (the session's cap), and which lab would join with nothing.
 * Each lab process reads its own file, once, before the session exists (simulation-lab-process.ts,
 * `prefetch`: its `session run` takes that reading) and answers only its counts, never a value;
 * they are checked here.
 *
 * A lab whose every record is rejected (or whose file has none) would join with an empty set and
 * learn nothing, while the others learn that nothing is shared with it: the simulation refuses it
 * (65) unless `allowEmpty`, and then that lab joins with an empty set on purpose (its process runs
 * with `--allow-empty`).
 */
import type { IndicatorFile } from '@overlap/client';
import { CliError } from './errors.js';
import type { LabInputReport } from './simulation-lab-processes.js';

export interface SimulationInput {
  name: string;
  file: string;
  summary: IndicatorFile['summary'];
  /** Distinct canonical values per kind. */
  distinct: Record<string, number>;
  /** Prompt templates (their bands are `distinct.prompt_template`). */
  templates?: number;
  /** The first rejected record's line and code (never its value), for a report. */
  firstRejected?: { line: number; code: string };
}

export interface SimulationInputs {
  labs: SimulationInput[];
  kinds: string[];
  /** The largest set of any kind of any lab: the session's cap. */
  maxItems: number;
  /** Labs that join with nothing (allowed). */
  empty: string[];
}

/** A session holds at most this many kinds (spec/protocol.md §4). */
const MAX_SESSION_KINDS = 16;

/** The labs' reports on their files (in the labs' order), checked: refusals are 65 naming the lab. */
export function checkSimulationInputs(
  labs: readonly { name: string; file: string }[],
  reports: readonly LabInputReport[],
  options: { allowEmpty?: boolean },
): SimulationInputs {
  const inputs: SimulationInput[] = labs.map((lab, i) => {
    const report = reports[i] as LabInputReport;
    if ('error' in report) throw new CliError('DATA', `${lab.name}: ${report.error}`);
    return {
      name: lab.name,
      file: lab.file,
      summary: report.summary,
      distinct: report.distinct,
      ...(report.templates !== undefined && { templates: report.templates }),
      ...(report.first_rejected !== undefined && { firstRejected: report.first_rejected }),
    };
  });
  const empty = inputs.filter((input) => input.summary.accepted === 0);
  if (empty.length > 0 && options.allowEmpty !== true) {
    throw new CliError(
      'DATA',
      `${empty.map(emptyReason).join('; ')}; nothing was run (--allow-empty runs the exchange with ${empty.length === 1 ? 'that lab' : 'those labs'} joining with nothing)`,
    );
  }
  const kinds = [...new Set(inputs.flatMap((input) => Object.keys(input.distinct)))].sort();
  if (kinds.length === 0)
    throw new CliError('DATA', `no lab has any accepted indicator: ${inputs.map(emptyReason).join('; ')}`);
  if (kinds.length > MAX_SESSION_KINDS) {
    throw new CliError(
      'DATA',
      `the labs hold ${kinds.length} kinds (${kinds.join(', ')}); a session holds at most ${MAX_SESSION_KINDS}`,
    );
  }
  const maxItems = Math.max(1, ...inputs.flatMap((input) => Object.values(input.distinct)));
  return { labs: inputs, kinds, maxItems, empty: empty.map((input) => input.name) };
}

/** "lab-a: every one of the 11 records of FILE was rejected (first: line 2, BAD_EMAIL)". */
export function emptyReason(input: SimulationInput): string {
  const { records, rejected } = input.summary;
  if (records === 0) return `${input.name}: ${input.file} has no records`;
  const first =
    input.firstRejected === undefined ? '' : ` (first: line ${input.firstRejected.line}, ${input.firstRejected.code})`;
  if (rejected === records)
    return `${input.name}: every one of the ${records} records of ${input.file} was rejected${first}`;
  return `${input.name}: ${input.file} has ${records} records, 0 accepted, ${rejected} rejected${first}`;
}
