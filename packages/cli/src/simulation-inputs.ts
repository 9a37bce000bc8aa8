/**
 * What the simulation needs to know of the labs' files before a session can be proposed: the
 * kinds they hold and the largest set (the session's cap), and which lab would join with nothing.
 * The files are read here as each lab process reads its own (same options), one at a time, and
 * only the counts are kept, not the values.
 *
 * A lab whose every record is rejected (or whose file has none) would join with an empty set and
 * learn nothing, while the others learn that nothing is shared with it: the simulation refuses it
 * (65) unless `allowEmpty`, and then that lab joins with an empty set on purpose (its process runs
 * with `--allow-empty`).
 */
import { type IndicatorFile, readIndicatorFile } from '@overlap/client';
import { CliError } from './errors.js';

export interface SimulationInput {
  name: string;
  file: string;
  summary: IndicatorFile['summary'];
  /** Distinct canonical values per kind. */
  distinct: Record<string, number>;
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

export async function readSimulationInputs(
  labs: readonly { name: string; file: string }[],
  options: { kind?: string; region?: string; allowEmpty?: boolean },
): Promise<SimulationInputs> {
  const inputs: SimulationInput[] = [];
  for (const lab of labs) {
    const input = await readIndicatorFile(lab.file, {
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.region !== undefined && { region: options.region }),
    }).catch((cause) => {
      throw new CliError('DATA', `${lab.name}: ${(cause as Error).message}`, { cause });
    });
    const first = input.rejected[0];
    inputs.push({
      name: lab.name,
      file: lab.file,
      summary: input.summary,
      distinct: Object.fromEntries(Object.entries(input.sets).map(([kind, set]) => [kind, set.length])),
      ...(first !== undefined && { firstRejected: { line: first.line, code: first.code } }),
    });
  }
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
