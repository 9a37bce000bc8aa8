/**
 * `overlap session run`: all of this lab's work in a session, until its results or its abort.
 *
 *   overlap session run --session ID --input FILE [--format F] [--kind K] [--region CC] [--out FILE]
 *                       [--allow-empty] [--expect-reveal POLICY] [--expect-kinds K1,K2]
 *                       [--retry-for MINUTES] [--state-dir DIR] [--workers N] [--json]
 *
 * In this order, so that a mistake costs nothing and nothing is sent by mistake:
 *   1. the session is done for this lab (its result document is in the state directory): say so, exit 0;
 *   2. the input file can be opened (else 66, with the OS's reason);
 *   3. the key, the relay, this lab's enrollment and the session's terms; a session the relay
 *      reports done or aborted is refused (1), and any state left for it erased, except a session
 *      done at the relay with this lab's resumable state here: the run goes on from it and fetches
 *      this lab's results (the relay is done before every lab read them); terms that differ
 *      from `--expect-reveal` / `--expect-kinds` are refused (1); a session this lab joined whose
 *      state is not in this state directory is refused (1);
 *   4. the input is read (its format said, and why) and what will not be sent is said; an input
 *      with nothing of the session's kinds is refused (65) unless `--allow-empty`;
 *   5. the run, with progress (progress.ts) and, with state found, where it resumes from; the relay's outages are waited out for `--retry-for`
 *      minutes (session-outage.ts); Ctrl-C stops it and says what was kept: a state to resume from
 *      (once the lab's join is sealed, which is sent before its set is hashed), or nothing
 *      (interrupted before: a run starts over) (interrupt.ts, exit 130);
 *   6. the results: `--out` (default `<state-dir>/<session>.results.jsonl`) and the result document
 *      `<state-dir>/<session>.json` for `overlap results` (results-files.ts).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  collectGarbage,
  type ResultSources,
  type SessionOutcome,
  type SessionResults,
  type SessionTerms,
  sourcesOfReading,
  templateResults,
  traceResults,
} from '@overlap/client';
import { BatchPool } from '@overlap/crypto/node';
import { makePrivateDirectory } from '@overlap/files';
import { IMPORT_FORMATS, type ImportFormat } from '@overlap/indicators';
import { type HashedSets, hashSets } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { InterruptWatch } from '../interrupt.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall, sessionArgument } from '../lab-context.js';
import { phaseClock } from '../phase-clock.js';
import { ProgressDisplay } from '../progress.js';
import { type SourceAt, sourceAtOf, writeResultsDocument, writeResultsJsonl } from '../results-files.js';
import { addSettings, readSettings, SETTINGS, type Settings } from '../settings.js';
import { checkExpectations, expectations, refuseFinished } from './session-checks.js';
import { doneHere, eraseState, resumableSync, type SessionFiles, sessionFiles, stateHere } from './session-files.js';
import {
  assertReadableFile,
  formatExplanation,
  formatOption,
  inputReport,
  readLabInput,
  refuseEmptyInput,
} from './session-input.js';
import { OutageReporter } from './session-outage.js';

interface RunFlags extends Record<string, unknown> {
  session: string;
  input: string;
  format?: string;
  kind?: string;
  out?: string;
  allowEmpty?: boolean;
  expectReveal?: string;
  expectKinds?: string;
  json?: boolean;
}

export function addSessionRunCommand(session: Command, io: ProgramIo): void {
  const run = session.command('run');
  addSettings(addLabOptions(run), SETTINGS.region, SETTINGS.workers, SETTINGS.retryFor)
    .description("do all of this lab's work in a session until results or abort (the first run joins it)")
    .requiredOption('--session <id>', 'the session id')
    .requiredOption(
      '--input <file>',
      "this lab's suspects: CSV, TSV, JSON lines, a STIX 2.1 bundle, a chat-completions request log (its prompts), or one value per line",
    )
    .option(
      '--format <format>',
      `the input's format: ${IMPORT_FORMATS.join(', ')} (default: from the file name's extension, else its content)`,
    )
    .option('--kind <kind>', 'kind of records that name none (plain lines, CSV without a kind column)')
    .option(
      '--out <file>',
      'where to write the shared indicators as JSON lines (default: <state-dir>/<session>.results.jsonl)',
    )
    .option('--allow-empty', "join even when the input has nothing of the session's kinds (every record rejected)")
    .option(
      '--expect-reveal <policy>',
      'refuse the session unless its reveal policy is this one (labs, count, threshold:T)',
    )
    .option('--expect-kinds <kinds>', 'refuse the session unless its kinds are exactly these (comma-separated)')
    .option('--json', 'print a JSON summary at the end')
    .action((flags: RunFlags) => runSession(flags, io));
}

async function runSession(flags: RunFlags, io: ProgramIo): Promise<void> {
  const id = sessionArgument(flags.session);
  const settings = await readSettings(flags);
  const stateDir = settings.require(SETTINGS.stateDir);
  const workers = settings.integer(SETTINGS.workers, 0);
  const retryForMs = retryBudgetMs(settings);
  const relayUrl = settings.require(SETTINGS.relay);
  formatOption(flags.format);
  const expected = expectations(flags);
  const files = sessionFiles(stateDir, id);

  if (await doneHere(files)) {
    await eraseState(files); // left only by a run stopped between writing the results and erasing it
    if (flags.json)
      await io.out(`${JSON.stringify({ session: id, already_done: true, results: files.resultsDocument })}\n`);
    io.err(
      `overlap: session ${id} is already done for this lab; see \`overlap results --session ${id} --format csv|jsonl|stix\` (${files.resultsDocument})\n`,
    );
    return;
  }
  await assertReadableFile(flags.input);

  const display = new ProgressDisplay({ tty: io.stderrIsTTY === true, write: io.err });
  const phases = phaseClock();
  const interrupt = new InterruptWatch({ onGiveUp: () => io.err(`overlap: ${interruptedMessage(files)}\n`) });
  const startup = new AbortController();
  const outage = new OutageReporter({
    relayUrl,
    retryForMs,
    note: (text) => display.note(text),
    onStartupFailure: (message) => startup.abort(new CliError('FAILURE', message)),
  });
  const pool = new BatchPool(workers === undefined ? {} : { workers });
  // The worker threads start, and the input is read, while the relay is asked who this lab is and
  // what the session's terms are; the input's errors come after those checks (a session this lab
  // is not in, or one already finished, is said first).
  pool.start();
  const reading = readLabInput(flags.input, {
    ...(flags.format !== undefined && { format: flags.format }),
    ...(flags.kind !== undefined && { kind: flags.kind }),
    ...(settings.get(SETTINGS.region) !== undefined && { region: settings.get(SETTINGS.region) as string }),
  });
  reading.catch(() => {}); // awaited below, after the checks
  // The own sets are hashed onto the group meanwhile (it does not depend on the session), unless
  // this run resumes (it hashed before) or the sets are large (their points would stay in memory).
  // (The checks below leave a kept state as it is, or throw: `resumed` holds for the whole run.)
  const resumed = await stateHere(files);
  const hashingAhead = new AbortController();
  const hashing =
    resumed === undefined
      ? hashAhead(reading, pool, AbortSignal.any([hashingAhead.signal, interrupt.signal]))
      : undefined;
  try {
    const { client, warnings } = await connectLab(settings, {
      pool,
      stateDir,
      signal: AbortSignal.any([interrupt.signal, startup.signal]),
      retry: { maxElapsedMs: retryForMs, onRetry: outage.onRetry },
      onProgress: (event) => {
        if (event.phase === 'resuming') {
          const n = event.unacknowledged;
          display.note(
            `resuming session ${id} from ${files.state} (${n} envelope${n === 1 ? '' : 's'} not yet acknowledged)`,
          );
          return;
        }
        phases.mark(event.phase);
        display.update(event);
        // The lab's crypto is over (its key is erased before 'done'): the workers' memory goes
        // before the results are mapped and written.
        if (event.phase === 'done') void pool.close();
      },
    });
    outage.connected();
    for (const warning of warnings) display.note(`warning: ${warning}`);
    const me = await sdkCall(() => client.me());
    const terms = await sdkCall(() => client.terms(id));
    if (!terms.labs.some((lab) => lab.keyId === client.keyId)) {
      throw new CliError('USAGE', `this lab (${me.lab}) is not in session ${id}: its labs are ${labNames(terms)}`);
    }
    if ((await refuseFinished(terms, files)) === 'resume') {
      display.note(
        `session ${id} is done at the relay: this lab's results are fetched from its state in ${files.state}`,
      );
    }
    checkExpectations(terms, expected);
    if (!resumed && terms.status.joined.includes(client.keyId)) {
      throw new CliError(
        'FAILURE',
        `this lab already joined session ${id}, and the state that continues it is not in ${stateDir}: ` +
          `run again with the --state-dir of the first run, or end the session with \`overlap session abort --session ${id}\``,
      );
    }
    const input = await reading;
    display.note(`${flags.input}: read as ${formatExplanation(input)}`);
    for (const line of inputReport(flags.input, input, terms.kinds)) display.note(line);
    if (!resumed && !flags.allowEmpty) refuseEmptyInput(flags.input, input, terms.kinds);

    // The state stays (without the session key) until the results are written below: a crash in
    // between is resumed from it, and the results fetched again, instead of lost.
    const hashed = await hashing;
    const run = await runUntilEnd(
      () => client.run(id, input.sets, { keepState: true, terms, ...(hashed !== undefined && { hashed }) }),
      files,
    );
    // Prompt templates were sent as bands: their results are gathered back into the templates.
    const outcome = templateResults(input, run);
    display.stop();
    // An aborted session has no results: no file is written that a pipeline could read as "none shared".
    if (outcome.abortReason !== undefined) {
      await eraseState(files);
      throw new CliError('FAILURE', `session ${id} was aborted: ${outcome.abortReason}; no results were written`);
    }
    const doc: SessionResults = {
      session: id,
      lab: me.lab,
      relay: client.info.origin,
      policy: outcome.policy,
      finished: new Date().toISOString(),
      results: outcome.results,
    };
    // Each result's line from this reading; only records with ids or labels need the file read
    // again, and the input's values go before that.
    const fromReading = sourcesOfReading(input, outcome.results);
    if (fromReading !== undefined && fromReading.missingCount > 0) {
      display.note(
        `${flags.input}: ${fromReading.missingCount} of the ${outcome.results.length} results are not in the file as read for this run (changed since the session began?): written without their line`,
      );
    }
    input.sets = {};
    input.lines = {};
    // The session's state and the input's values are garbage now: collected before the writing adds to them.
    collectGarbage();
    const sourceAt: SourceAt | undefined =
      fromReading !== undefined
        ? (i) => (fromReading.lines[i] ? { line: fromReading.lines[i] as number } : undefined)
        : sourceAtOf(
            doc,
            await traceBack(flags.input, outcome, input.format, flags.kind, settings, (text) => display.note(text)),
          );
    const out = flags.out ?? files.resultsJsonl;
    await makePrivateDirectory(dirname(out));
    await writeResultsJsonl(out, doc, sourceAt);
    await makePrivateDirectory(stateDir);
    await writeResultsDocument(files.resultsDocument, doc, sourceAt);
    await eraseState(files);
    if (flags.json) {
      const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      const summary = { session: id, lab: me.lab, shared: outcome.results.length, out, results: files.resultsDocument };
      await io.out(`${JSON.stringify({ ...summary, ...phases.done(), peak_rss_mb: peakRssMb })}\n`);
    } else {
      await io.out(`session ${id}: ${outcome.results.length} of this lab's indicators are shared; written to ${out}\n`);
    }
  } catch (error) {
    if (interrupt.interrupted) throw new CliError('INTERRUPTED', await interruptedOutcome(files), { cause: error });
    if (startup.signal.aborted) throw startup.signal.reason;
    throw error;
  } finally {
    hashingAhead.abort();
    display.stop();
    outage.stop();
    interrupt.dispose();
    await pool.close();
  }
}

/**
 * Sets of at most this many values in all are hashed while the relay is asked for the terms
 * (their points, 32 bytes each, wait in memory for the session, which keeps a shuffled copy until
 * it has blinded them: 16 MiB at most); a larger set
 * takes long enough that those round trips do not matter, and is hashed as it is uploaded.
 */
const HASH_AHEAD_MAX_ITEMS = 262_144;

/**
 * The input's sets hashed onto the group once it is read, or undefined (too large, or a failure:
 * the run then hashes, and says any error itself, where it would have without this).
 */
async function hashAhead(
  reading: Promise<{ sets: Record<string, readonly string[]> }>,
  pool: BatchPool,
  signal: AbortSignal,
): Promise<HashedSets | undefined> {
  try {
    const { sets } = await reading;
    const items = Object.values(sets).reduce((n, set) => n + set.length, 0);
    if (items > HASH_AHEAD_MAX_ITEMS) return undefined;
    return await hashSets(sets, { pool, signal });
  } catch {
    return undefined;
  }
}

/** The run; a session the relay reports finished meanwhile leaves no state behind. */
async function runUntilEnd(run: () => Promise<SessionOutcome>, files: SessionFiles): Promise<SessionOutcome> {
  try {
    return await sdkCall(run);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'SESSION_FINISHED') await eraseState(files);
    throw error;
  }
}

/**
 * Where each result's first record is in the input (its line, id and label), from a second read of
 * the file in the format and with the options of the first. A result the file no longer gives (it
 * changed during the session) is said, not hidden; a file that cannot be read again leaves the
 * results without their lines, and says so.
 */
async function traceBack(
  path: string,
  outcome: SessionOutcome,
  format: ImportFormat,
  kind: string | undefined,
  settings: Settings,
  note: (text: string) => void,
): Promise<ResultSources | undefined> {
  if (outcome.results.length === 0) return undefined;
  const region = settings.get(SETTINGS.region);
  try {
    const trace = await traceResults(path, outcome.results, {
      format,
      ...(kind !== undefined && { kind }),
      ...(region !== undefined && { region }),
    });
    if (trace.missingCount > 0) {
      note(
        `${path}: ${trace.missingCount} of the ${outcome.results.length} results are no longer in the file (changed since it was read?): written without their line`,
      );
    }
    return trace.sources;
  } catch (error) {
    note(`${path}: cannot read it again for the results' lines (${(error as Error).message}): written without them`);
    return undefined;
  }
}

/** `--retry-for` in ms: minutes, a number ≥ 0. */
function retryBudgetMs(settings: Settings): number {
  const text = settings.get(SETTINGS.retryFor) as string;
  const minutes = Number(text);
  if (text.trim() === '' || !Number.isFinite(minutes) || minutes < 0) {
    throw new CliError('USAGE', `--retry-for must be a number of minutes ≥ 0, got ${JSON.stringify(text)}`);
  }
  return Math.round(minutes * 60_000);
}

/**
 * What an interrupted run kept, said when it gives up waiting (synchronously, just before exit 130).
 * Progress is recorded once the lab's join is sealed, before it is sent (and before the lab's own
 * sets are hashed, unless they were hashed ahead): without it nothing was sent, and a run starts
 * over (replacing what was written).
 */
function interruptedMessage(files: SessionFiles): string {
  if (resumableSync(files)) {
    return (
      `interrupted: state kept in ${files.state}; run the same command again to resume, ` +
      `or \`overlap session abort --session ${files.session} --reason TEXT\` to end the session`
    );
  }
  if (existsSync(files.state)) {
    return (
      'interrupted before this lab sent anything (its indicators were being read or hashed): nothing can be ' +
      `resumed from ${files.state}; run the same command again to start over`
    );
  }
  return 'interrupted before this lab sent anything: nothing was kept; run the same command again to start over';
}

/** The same once the run has stopped: a state nothing can resume from is erased first (it holds the session key). */
async function interruptedOutcome(files: SessionFiles): Promise<string> {
  if (!resumableSync(files)) await eraseState(files);
  return interruptedMessage(files);
}

function labNames(terms: SessionTerms): string {
  return terms.labs.map((lab) => lab.lab).join(', ');
}
