/**
 * `overlap session create|join|run|status`: a lab's sessions.
 *
 *   overlap session create --labs a,b,c --kinds email,ip [--reveal labs|count|threshold:T] [--max-items N]
 *                          [--deadline-minutes M] [--proofs spot|full] [--chunk-size N]
 *   overlap session join   --session ID          the terms, checked (proposal signature, membership),
 *                                                proof mode and chunk size included
 *   overlap session run    --session ID --input FILE [--kind K] [--region CC] [--out FILE]
 *   overlap session status --session ID
 *
 * plus `--relay`, `--key`, `--log-key` (lab-context.ts) and `--json`. `run` does all of the lab's
 * work until results or abort, shows progress on a TTY (plain lines otherwise), writes the shared
 * indicators as JSON lines to `--out` (default `<state-dir>/<session>.results.jsonl`) and the
 * session's result document to `<state-dir>/<session>.json` for `overlap results`. Exit 0 with
 * results, 1 when the session was aborted or the relay failed, 64 usage, 65 bad input, 66 unreadable.
 */
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SessionResults } from '@overlap/client';
import { type LabProgress, readIndicatorFile } from '@overlap/client';
import { BatchPool } from '@overlap/crypto/node';
import { makePrivateDirectory } from '@overlap/files';
import { INDICATOR_KIND_NAMES } from '@overlap/indicators';
import { DEFAULT_CHUNK_SIZE, formatRevealPolicy, MAX_TAGS_PER_CHUNK, MIN_CHUNK_SIZE } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall, sessionArgument } from '../lab-context.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';

type LabFlags = Record<string, unknown>;

import { writeResultsDocument, writeResultsJsonl } from '../results-files.js';

export function addSessionCommands(program: Command, io: ProgramIo): void {
  const session = program.command('session');

  addLabOptions(session.command('create'))
    .description('propose a session among enrolled labs (this lab among them); prints its id')
    .requiredOption('--labs <names>', 'comma-separated lab ids (or key ids), this lab included')
    .requiredOption('--kinds <kinds>', `comma-separated indicator kinds (${INDICATOR_KIND_NAMES.join(', ')})`)
    .option('--reveal <policy>', 'labs, count or threshold:T', 'labs')
    .option('--max-items <n>', 'most items a lab may commit per kind', '1000000')
    .option('--deadline-minutes <m>', "abort if not done within this many minutes (default: the relay's)")
    .option(
      '--proofs <mode>',
      'which positions each hop proves: spot (135 per chunk) or full (every tag: ~7x the blinding cost)',
      'spot',
    )
    .option(
      '--chunk-size <n>',
      `tags per chunk, ${MIN_CHUNK_SIZE} to ${MAX_TAGS_PER_CHUNK}`,
      String(DEFAULT_CHUNK_SIZE),
    )
    .option('--json', 'print {"session": ID}')
    .action(
      async (
        flags: LabFlags & {
          labs: string;
          kinds: string;
          reveal: string;
          maxItems: string;
          deadlineMinutes?: string;
          proofs: string;
          chunkSize: string;
          json?: boolean;
        },
      ) => {
        const kinds = list(flags.kinds);
        for (const kind of kinds) {
          if (!(INDICATOR_KIND_NAMES as readonly string[]).includes(kind))
            throw new CliError('USAGE', `unknown kind ${kind}`);
        }
        const maxItems = Number(flags.maxItems);
        if (!Number.isInteger(maxItems) || maxItems < 1)
          throw new CliError('USAGE', '--max-items must be a positive integer');
        const minutes = flags.deadlineMinutes === undefined ? undefined : Number(flags.deadlineMinutes);
        if (minutes !== undefined && !(minutes > 0)) throw new CliError('USAGE', '--deadline-minutes must be positive');
        const proofs = flags.proofs;
        if (proofs !== 'spot' && proofs !== 'full') throw new CliError('USAGE', '--proofs must be spot or full');
        const chunkSize = Number(flags.chunkSize);
        if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_TAGS_PER_CHUNK) {
          throw new CliError(
            'USAGE',
            `--chunk-size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_TAGS_PER_CHUNK}`,
          );
        }
        const { client, warnings } = await connectLab(await readSettings(flags));
        for (const w of warnings) io.err(`overlap: warning: ${w}\n`);
        const id = await sdkCall(() =>
          client.createSession({
            labs: list(flags.labs),
            kinds,
            policy: flags.reveal,
            maxItemsPerKind: maxItems,
            ...(minutes !== undefined && { deadline: Date.now() + minutes * 60_000 }),
            proofs,
            chunkSize,
          }),
        );
        io.out(flags.json ? `${JSON.stringify({ session: id })}\n` : `${id}\n`);
      },
    );

  addLabOptions(session.command('join'))
    .description("show a session's terms, checked against its signed proposal and the membership")
    .requiredOption('--session <id>', 'the session id')
    .option('--json', 'print the terms as JSON')
    .action(async (flags: LabFlags & { session: string; json?: boolean }) => {
      const id = sessionArgument(flags.session);
      const { client, warnings } = await connectLab(await readSettings(flags));
      for (const w of warnings) io.err(`overlap: warning: ${w}\n`);
      const terms = await sdkCall(() => client.terms(id));
      const mine = terms.labs.some((lab) => lab.keyId === client.keyId);
      const summary = {
        session: id,
        proposer: terms.labs.find((l) => l.keyId === terms.proposer)?.lab ?? terms.proposer,
        labs: terms.labs.map((l) => l.lab),
        kinds: terms.kinds,
        reveal: formatRevealPolicy(terms.policy),
        max_items_per_kind: terms.maxItemsPerKind,
        proofs: terms.proofs,
        chunk_size: terms.chunkSize,
        state: terms.status.state,
        this_lab_is_in_it: mine,
      };
      if (flags.json) io.out(`${JSON.stringify(summary)}\n`);
      else
        for (const [k, v] of Object.entries(summary))
          io.out(`${k.padEnd(20)} ${Array.isArray(v) ? v.join(', ') : v}\n`);
      if (!mine) throw new CliError('USAGE', 'this lab is not in that session');
    });

  addSettings(addLabOptions(session.command('run')), SETTINGS.region, SETTINGS.stateDir, SETTINGS.workers)
    .description("do all of this lab's work in a session until results or abort")
    .requiredOption('--session <id>', 'the session id')
    .requiredOption('--input <file>', 'suspects: .csv, .jsonl, .json (STIX 2.1) or one value per line with --kind')
    .option('--kind <kind>', 'kind of records that name none')
    .option('--out <file>', 'where to write the shared indicators (JSON lines)')
    .option('--json', 'print a JSON summary at the end')
    .action(
      async (
        flags: LabFlags & {
          session: string;
          input: string;
          kind?: string;
          out?: string;
          json?: boolean;
        },
      ) => {
        const id = sessionArgument(flags.session);
        const settings = await readSettings(flags);
        const region = settings.get(SETTINGS.region);
        const stateDir = settings.require(SETTINGS.stateDir);
        const workers = settings.integer(SETTINGS.workers);
        const phases = phaseClock();
        const input = await sdkCall(() =>
          readIndicatorFile(flags.input, {
            ...(flags.kind !== undefined && { kind: flags.kind }),
            ...(region !== undefined && { region }),
          }),
        );
        for (const r of input.rejected)
          io.err(`overlap: ${flags.input}:${r.line}: rejected (${r.code}): ${r.message}\n`);
        const { summary } = input;
        io.err(
          `overlap: ${flags.input}: ${summary.records} records, ${summary.accepted} accepted (${summary.duplicates} duplicates), ${summary.rejected} rejected\n`,
        );
        const pool = new BatchPool(workers === undefined ? {} : { workers });
        const progress = progressReporter(io);
        try {
          const { client, warnings } = await connectLab(settings, {
            pool,
            stateDir,
            onProgress: (event) => {
              phases.mark(event.phase);
              progress(event);
              // The lab's crypto is over (its key is erased before 'done'): the workers' memory
              // goes before the results are mapped and written.
              if (event.phase === 'done') void pool.close();
            },
          });
          for (const w of warnings) io.err(`overlap: warning: ${w}\n`);
          const me = await sdkCall(() => client.me());
          const outcome = await sdkCall(() => client.run(id, input.sets));
          progress.end();
          const doc: SessionResults = {
            session: id,
            lab: me.lab,
            relay: client.info.origin,
            policy: outcome.policy,
            finished: new Date().toISOString(),
            results: outcome.results,
          };
          // An aborted session has no results: no file is written that a pipeline could read as "none shared".
          if (outcome.abortReason !== undefined) {
            throw new CliError('FAILURE', `session ${id} was aborted: ${outcome.abortReason}; no results were written`);
          }
          const out = flags.out ?? join(stateDir, `${id}.results.jsonl`);
          await makePrivateDirectory(dirname(out));
          await writeResultsJsonl(out, doc);
          await makePrivateDirectory(stateDir);
          await writeResultsDocument(join(stateDir, `${id}.json`), doc);
          if (flags.json) {
            const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
            const summary = { session: id, lab: me.lab, shared: outcome.results.length, out };
            io.out(`${JSON.stringify({ ...summary, ...phases.done(), peak_rss_mb: peakRssMb })}\n`);
          } else
            io.out(`session ${id}: ${outcome.results.length} of this lab's indicators are shared; written to ${out}\n`);
        } finally {
          await pool.close();
        }
      },
    );

  addLabOptions(session.command('status'))
    .description("a session's state: who joined, whom it waits on, the abort if any")
    .requiredOption('--session <id>', 'the session id')
    .option('--json', 'print the status as JSON')
    .action(async (flags: LabFlags & { session: string; json?: boolean }) => {
      const id = sessionArgument(flags.session);
      const { client } = await connectLab(await readSettings(flags));
      const terms = await sdkCall(() => client.terms(id));
      const name = (keyId: string) => terms.labs.find((l) => l.keyId === keyId)?.lab ?? keyId;
      const s = terms.status;
      const status = {
        session: id,
        state: s.state,
        proofs: terms.proofs,
        chunk_size: terms.chunkSize,
        labs: terms.labs.map((l) => l.lab),
        joined: s.joined.map(name),
        waiting_on: s.waiting_on.map(name),
        ...(s.deadline !== undefined && { deadline: new Date(s.deadline).toISOString() }),
        ...(s.abort && { abort: s.abort.reason }),
      };
      if (flags.json) io.out(`${JSON.stringify(status)}\n`);
      else
        for (const [k, v] of Object.entries(status)) io.out(`${k.padEnd(12)} ${Array.isArray(v) ? v.join(', ') : v}\n`);
    });
}

/**
 * Wall time of each phase of a lab's run (reading the input, hashing, uploading, the exchange
 * until results — the proof round within it —, writing them) and the peak resident memory seen in each, sampled every 100 ms.
 */
function phaseClock() {
  const started = performance.now();
  const at: Partial<Record<LabProgress['phase'], number>> = {};
  const peakMb: Record<string, number> = {};
  let current = 'reading';
  // OVERLAP_MEMORY_TRACE=FILE appends every sample (phase, resident, heap, buffers) as a JSON line.
  const trace = process.env.OVERLAP_MEMORY_TRACE;
  const sample = () => {
    const mb = Math.round(process.memoryUsage.rss() / 1048576);
    if (mb > (peakMb[current] ?? 0)) peakMb[current] = mb;
    if (trace) {
      const m = process.memoryUsage();
      const line = { t: Math.round(performance.now() - started), pid: process.pid, phase: current, rss: mb };
      const more = { heap: Math.round(m.heapUsed / 1048576), buffers: Math.round(m.arrayBuffers / 1048576) };
      appendFileSync(trace, `${JSON.stringify({ ...line, ...more })}\n`);
    }
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  const phaseName: Record<LabProgress['phase'], string> = {
    hashing: 'hashing_and_blinding',
    uploading: 'uploading',
    blinding: 'exchange',
    waiting: 'exchange',
    proving: 'proving',
    done: 'writing',
  };
  return {
    mark(phase: LabProgress['phase']) {
      sample();
      current = phaseName[phase];
      at[phase] ??= performance.now();
    },
    done(): { phases_ms: Record<string, number>; peak_rss_mb_by_phase: Record<string, number> } {
      sample();
      clearInterval(timer);
      const end = at.done ?? performance.now();
      const uploading = at.uploading ?? end;
      const waiting = at.waiting ?? end;
      return {
        phases_ms: {
          hashing_and_blinding: Math.round(uploading - (at.hashing ?? started)),
          uploading: Math.round(waiting - uploading),
          exchange: Math.round(end - waiting),
          // Part of the exchange: from the relay's proof request to the results.
          proving: Math.round(end - (at.proving ?? end)),
          total: Math.round(end - started),
        },
        peak_rss_mb_by_phase: peakMb,
      };
    },
  };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Progress: one rewritten line on a TTY (with rates), plain lines otherwise. */
function progressReporter(io: ProgramIo): ((event: LabProgress) => void) & { end(): void } {
  const started = Date.now();
  let lastPlain = '';
  let shownOnTty = false;
  const report = (event: LabProgress) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    let text: string;
    switch (event.phase) {
      case 'hashing':
        text = `hashing and blinding ${event.items.toLocaleString('en-US')} indicators`;
        break;
      case 'uploading': {
        const eta = event.sent > 0 ? ((seconds / event.sent) * (event.total - event.sent)).toFixed(0) : '?';
        text = `uploading chunks ${event.sent}/${event.total} (ETA ${eta} s)`;
        break;
      }
      case 'blinding':
        text = `blinding other labs' sets: ${event.tasks} tasks, ${event.tags.toLocaleString('en-US')} tags (${(event.tags / seconds).toFixed(0)} tags/s)`;
        break;
      case 'waiting':
        text = 'waiting for the other labs';
        break;
      case 'proving':
        text =
          event.proofs === 0
            ? 'every hop is in: coin revealed, waiting for the challenge'
            : `proving: ${event.proofs} hop proofs sent, waiting for the relay to verify them`;
        break;
      default:
        text = event.aborted ? 'aborted' : 'results received';
    }
    if (io.stderrIsTTY) {
      io.err(`\r\x1b[2K${text}`);
      shownOnTty = true;
    } else if (text.split(' ')[0] !== lastPlain.split(' ')[0] || event.phase === 'done') {
      io.err(`overlap: ${text}\n`);
      lastPlain = text;
    }
  };
  return Object.assign(report, {
    end() {
      if (shownOnTty) io.err('\n');
    },
  });
}
