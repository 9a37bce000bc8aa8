/**
 * `overlap simulate` and `overlap demo`.
 *
 *   overlap simulate --lab NAME=FILE --lab NAME=FILE [...] [--reveal labs|count|threshold:T] [--proofs spot|full]
 *                    [--region CC] [--kind K] [--allow-empty] [--witnesses N] [--out DIR] [--json]
 *
 * Progress goes to stderr: the simulation's own steps and each lab's lines with its name. A lab
 * whose every record is rejected makes it exit 65 before anything runs, unless `--allow-empty`:
 * then that lab joins with an empty set (and learns nothing), as `session run --allow-empty` does.
 *   overlap demo [--out DIR]           simulate over examples/data, the overlap report, the transcript check
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
// Types only: the simulation itself (the relay, the client, the crypto) is loaded once the lab
// processes are started, so that they load on the other cores meanwhile (simulation-start.ts).
import type { SimulationLab, SimulationOptions, SimulationOutcome } from '../simulation.js';
import { startSimulationLabs, stopSimulationLabs } from '../simulation-start.js';

/** runSimulation, loaded while the lab processes `startSimulationLabs` just started load theirs. */
/** Witnesses `simulate --witnesses` runs at most (each one more HTTP round per checkpoint). */
const MAX_SIMULATION_WITNESSES = 8;

async function simulate(options: Omit<SimulationOptions, 'started'>): Promise<SimulationOutcome> {
  const started = startSimulationLabs(options.labs, options);
  let runSimulation: typeof import('../simulation.js').runSimulation;
  try {
    ({ runSimulation } = await import('../simulation.js'));
  } catch (error) {
    await stopSimulationLabs(started); // runSimulation would have (it stops them on every path)
    throw error;
  }
  return runSimulation({ ...options, started });
}

export function addSimulationCommands(program: Command, io: ProgramIo): void {
  program
    .command('simulate')
    .option(
      '--lab <name=file>',
      'a lab and its suspect file (.csv, .jsonl, .json STIX, a chat-completions log, .txt with --kind); two or more',
      collect,
      [],
    )
    .option('--reveal <policy>', 'labs, count or threshold:T', 'labs')
    .option(
      '--proofs <mode>',
      'which positions each hop proves: spot or full (every tag: ~7x the blinding cost)',
      'spot',
    )
    .option('--region <cc>', 'region for phone numbers without a country code')
    .option('--kind <kind>', 'kind of records that name none (plain lines)')
    .option(
      '--allow-empty',
      'run even if a lab has every record rejected (or none): it joins with an empty set (default: refuse, 65)',
    )
    .option(
      '--witnesses <n>',
      `witnesses of the relay's log to run, all required by every lab (0–${MAX_SIMULATION_WITNESSES})`,
      '0',
    )
    .option('--out <dir>', 'where the results and the transcript go', '.overlap/simulate')
    .option('--json', 'print the outcome as JSON')
    .action(
      async (flags: {
        lab: string[];
        reveal: string;
        proofs: string;
        region?: string;
        kind?: string;
        allowEmpty?: boolean;
        witnesses: string;
        out: string;
        json?: boolean;
      }) => {
        const labs = flags.lab.map(parseLab);
        const proofs = flags.proofs;
        if (proofs !== 'spot' && proofs !== 'full') throw new CliError('USAGE', '--proofs must be spot or full');
        const witnesses = Number(flags.witnesses);
        if (!/^[0-9]$/.test(flags.witnesses) || witnesses > MAX_SIMULATION_WITNESSES)
          throw new CliError('USAGE', `--witnesses must be a whole number from 0 to ${MAX_SIMULATION_WITNESSES}`);
        const outcome = await simulate({
          labs,
          reveal: flags.reveal,
          proofs,
          witnesses,
          out: flags.out,
          log: (line) => io.err(`overlap: ${line}\n`),
          ...(flags.region !== undefined && { region: flags.region }),
          ...(flags.kind !== undefined && { kind: flags.kind }),
          ...(flags.allowEmpty === true && { allowEmpty: true }),
        });
        if (flags.json) io.out(`${JSON.stringify(summaryJson(outcome, await revealText(outcome)))}\n`);
        else await printSummary(io, outcome, flags.out);
      },
    );

  program
    .command('demo')
    .option('--out <dir>', 'where the results and the transcript go', '.overlap/demo')
    .action(async (flags: { out: string }) => {
      const data = exampleData();
      const labs: SimulationLab[] = [
        { name: 'lab-a', file: join(data, 'lab-a.csv') },
        { name: 'lab-b', file: join(data, 'lab-b.jsonl') },
        { name: 'lab-c', file: join(data, 'lab-c.json') },
      ];
      io.out(
        'Overlap demo: three labs, their suspect lists in three formats, a relay, the forum admin, one process per lab.\n\n',
      );
      const outcome = await simulate({
        labs,
        reveal: 'labs',
        out: flags.out,
        log: (line) => io.err(`overlap: ${line}\n`),
      });
      await printSummary(io, outcome, flags.out);
      io.out("\nWho shares which suspects (from each lab's own results):\n");
      printOverlapReport(io, outcome);
      const adminKey = Buffer.from(outcome.adminPublicKey).toString('hex');
      io.out(`\n$ overlap audit verify --transcript ${outcome.transcript} --admin-key ${adminKey}\n`);
      // Loaded here: only the demo audits, and `simulate` need not load the auditor.
      const [{ verifyTranscript }, { printAuditReport }] = await Promise.all([
        import('@overlap/audit'),
        import('./audit.js'),
      ]);
      const report = verifyTranscript(new Uint8Array(await readFile(outcome.transcript)), {
        adminKey: outcome.adminPublicKey,
      });
      printAuditReport(io, report, outcome.transcript);
      if (!report.ok) throw new CliError('FAILURE', `the audit failed: ${report.failed ?? 'a check did not run'}`);
      io.out(
        `\nDemo done in ${outcome.seconds.toFixed(1)} s: every result came from a real exchange, and the audit passed.\n`,
      );
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseLab(text: string): SimulationLab {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1)
    throw new CliError('USAGE', `--lab wants NAME=FILE, got ${JSON.stringify(text)}`);
  return { name: text.slice(0, at), file: text.slice(at + 1) };
}

/** The policy as `--reveal` spells it (the protocol package is loaded by then: this costs nothing). */
async function revealText(outcome: SimulationOutcome): Promise<string> {
  const { formatRevealPolicy } = await import('@overlap/protocol');
  return formatRevealPolicy(outcome.policy);
}

function summaryJson(outcome: SimulationOutcome, reveal: string) {
  return {
    session: outcome.session,
    reveal,
    kinds: outcome.kinds,
    transcript: outcome.transcript,
    seconds: Number(outcome.seconds.toFixed(1)),
    timeline_ms: outcome.timeline,
    relay_process_peak_rss_mb: outcome.relayPeakRssMb,
    labs: outcome.labs.map((lab) => ({
      name: lab.name,
      records: lab.input.records,
      accepted: lab.input.accepted,
      rejected: lab.input.rejected,
      revealed: lab.results.length,
      startup_ms: lab.startup,
      ...lab.process,
    })),
  };
}

async function printSummary(io: ProgramIo, outcome: SimulationOutcome, out: string): Promise<void> {
  io.out(`session ${outcome.session} (reveal ${await revealText(outcome)}), ${outcome.seconds.toFixed(1)} s\n\n`);
  const names = outcome.labs.map((lab) => lab.name);
  table(
    io,
    ['input', ...names],
    [
      ['records', ...outcome.labs.map((lab) => String(lab.input.records))],
      ['accepted', ...outcome.labs.map((lab) => String(lab.input.accepted))],
      ['duplicates', ...outcome.labs.map((lab) => String(lab.input.duplicates))],
      ['rejected', ...outcome.labs.map((lab) => String(lab.input.rejected))],
    ],
  );
  io.out('\n');
  table(
    io,
    ['revealed / held', ...names],
    outcome.kinds.map((kind) => [
      kind,
      // A template is held as its bands: its results are counted against the templates.
      ...outcome.labs.map(
        (lab) =>
          `${lab.results.filter((r) => r.kind === kind).length} / ${kind === 'prompt_template' ? `${lab.templates ?? 0} templates` : (lab.distinct[kind] ?? 0)}`,
      ),
    ]),
  );
  io.out(
    `\nresults: ${outcome.labs.map((l) => join(out, `${l.name}.results.jsonl`)).join(', ')}\ntranscript: ${outcome.transcript}\n`,
  );
}

function table(io: ProgramIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    io.out(
      `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')}\n`,
    );
  }
}

/** Per kind, how many suspects each group of labs shares (read from lab-a's and the others' rows). */
function printOverlapReport(io: ProgramIo, outcome: SimulationOutcome): void {
  for (const kind of outcome.kinds) {
    // holders → the reporting lab → the values it reported. Other kinds' values are the same in
    // every lab; a template's value is each lab's own text, so templates are counted per lab.
    const groups = new Map<string, Map<string, Set<string>>>();
    for (const lab of outcome.labs) {
      for (const row of lab.results.filter((r) => r.kind === kind)) {
        const holders = [lab.name, ...(row.labs ?? [])].sort().join(' + ');
        const byLab = groups.get(holders) ?? new Map<string, Set<string>>();
        groups.set(holders, byLab);
        const values = byLab.get(lab.name) ?? new Set<string>();
        byLab.set(lab.name, values.add(row.value));
      }
    }
    const parts = [...groups].sort((a, b) => b[0].length - a[0].length || a[0].localeCompare(b[0]));
    const counted = ([holders, byLab]: [string, Map<string, Set<string>>]) => {
      if (kind !== 'prompt_template') return `${holders}: ${new Set([...byLab.values()].flatMap((v) => [...v])).size}`;
      const counts = [...byLab].map(([lab, values]) => [lab, values.size] as const);
      return counts.every(([, n]) => n === counts[0]?.[1])
        ? `${holders}: ${counts[0]?.[1]} templates`
        : `${holders}: ${counts.map(([lab, n]) => `${n} templates of ${lab}`).join(', ')}`;
    };
    io.out(`  ${kind.padEnd(20)} ${parts.map(counted).join('; ') || 'nothing shared'}\n`);
  }
}

/**
 * examples/data of the checkout or of the installed package: the nearest above this module, which
 * is in src/commands/, dist/commands/ or bundle/ (scripts/bundle-cli.mjs).
 */
function exampleData(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const data = join(dir, 'examples', 'data');
    if (existsSync(join(data, 'lab-a.csv'))) return data;
    const parent = dirname(dir);
    if (parent === dir) throw new CliError('NO_INPUT', 'the demo data (examples/data) is not in this install');
    dir = parent;
  }
}
