/**
 * The session commands that only read: `show` (the terms, from the signed proposal, checked against
 * the membership), `status` (who joined, whom the relay waits on, the abort), `list` (every session
 * naming this lab). `join` is `show` under its old name: it never joined anything (the first
 * `session run` does), so it says so on stderr and what to run instead.
 *
 *   overlap session show   --session ID [--json]
 *   overlap session status --session ID [--json]
 *   overlap session list   [--json]        one JSON line per session with --json
 */
import type { OverlapClient, SessionTerms } from '@overlap/client';
import { formatRevealPolicy } from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall, sessionArgument } from '../lab-context.js';
import { readSettings } from '../settings.js';

interface InspectFlags extends Record<string, unknown> {
  session: string;
  json?: boolean;
}

export function addSessionInspectCommands(session: Command, io: ProgramIo): void {
  const show = async (flags: InspectFlags) => {
    const id = sessionArgument(flags.session);
    const client = await connect(flags, io);
    const terms = await sdkCall(() => client.terms(id));
    const mine = terms.labs.some((lab) => lab.keyId === client.keyId);
    await print(io, flags.json, { ...termsSummary(terms), this_lab_is_in_it: mine });
    if (!mine) throw new CliError('USAGE', `this lab is not in session ${id}`);
  };

  addLabOptions(session.command('show'))
    .description("a session's terms, checked against its signed proposal and the membership (joins nothing)")
    .requiredOption('--session <id>', 'the session id')
    .option('--json', 'print the terms as JSON')
    .action(show);

  addLabOptions(session.command('join'))
    .description('the same as `session show` (it never joined: the first `session run` joins)')
    .requiredOption('--session <id>', 'the session id')
    .option('--json', 'print the terms as JSON')
    .action(async (flags: InspectFlags) => {
      io.err(
        "overlap: note: 'session join' only shows the terms (it is 'session show'); " +
          `the first 'overlap session run --session ${flags.session} --input FILE' joins the session\n`,
      );
      await show(flags);
    });

  addLabOptions(session.command('status'))
    .description("a session's state: who joined, whom it waits on, the abort if any")
    .requiredOption('--session <id>', 'the session id')
    .option('--json', 'print the status as JSON')
    .action(async (flags: InspectFlags) => {
      const id = sessionArgument(flags.session);
      const client = await connect(flags, io);
      await print(io, flags.json, statusSummary(await sdkCall(() => client.terms(id))));
    });

  addLabOptions(session.command('list'))
    .description('the sessions naming this lab: state, labs, kinds, reveal policy, deadline')
    .option('--json', 'print one JSON object per session, one a line')
    .action(async (flags: Omit<InspectFlags, 'session'>) => {
      const client = await connect(flags, io);
      const sessions = await sdkCall(() => client.sessions());
      if (flags.json) {
        for (const summary of sessions) await io.out(`${JSON.stringify(listEntry(summary))}\n`);
        return;
      }
      if (sessions.length === 0) {
        io.err('overlap: no session names this lab\n');
        return;
      }
      // Columns as wide as their widest cell, so every row lines up under its header.
      const rows = [
        ['session', 'state', 'reveal', 'kinds', 'labs', 'deadline'],
        ...sessions.map((summary) => {
          const e = listEntry(summary);
          return [e.session, e.state, e.reveal, e.kinds.join(','), e.labs.join(','), e.deadline];
        }),
      ];
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
      for (const row of rows) {
        await io.out(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}
`);
      }
    });
}

async function connect(flags: Record<string, unknown>, io: ProgramIo): Promise<OverlapClient> {
  const { client, warnings } = await connectLab(await readSettings(flags));
  for (const warning of warnings) io.err(`overlap: warning: ${warning}\n`);
  return client;
}

function nameOf(terms: SessionTerms, keyId: string): string {
  return terms.labs.find((lab) => lab.keyId === keyId)?.lab ?? keyId;
}

function termsSummary(terms: SessionTerms) {
  return {
    session: terms.session,
    proposer: nameOf(terms, terms.proposer),
    labs: terms.labs.map((lab) => lab.lab),
    kinds: terms.kinds,
    reveal: formatRevealPolicy(terms.policy),
    max_items_per_kind: terms.maxItemsPerKind,
    proofs: terms.proofs,
    chunk_size: terms.chunkSize,
    state: terms.status.state,
    join_by: new Date(terms.joinBy).toISOString(),
    deadline: new Date(terms.deadline).toISOString(),
  };
}

function statusSummary(terms: SessionTerms) {
  const s = terms.status;
  return {
    session: terms.session,
    state: s.state,
    proofs: terms.proofs,
    chunk_size: terms.chunkSize,
    labs: terms.labs.map((lab) => lab.lab),
    joined: s.joined.map((id) => nameOf(terms, id)),
    waiting_on: s.waiting_on.map((id) => nameOf(terms, id)),
    join_by: new Date(terms.joinBy).toISOString(),
    deadline: new Date(terms.deadline).toISOString(),
    ...(s.abort && { abort: s.abort.reason }),
    ...(s.abort?.culprit !== undefined && { abort_culprit: nameOf(terms, s.abort.culprit) }),
  };
}

/** One session of `OverlapClient.sessions()`. */
type SessionSummary = Awaited<ReturnType<OverlapClient['sessions']>>[number];

function listEntry(summary: SessionSummary) {
  return {
    session: summary.session,
    state: summary.state,
    labs: summary.labs,
    kinds: summary.kinds,
    reveal: formatRevealPolicy(summary.policy),
    proposer: summary.proposer,
    joined: summary.joined,
    waiting_on: summary.waiting_on,
    join_by: new Date(summary.joinBy).toISOString(),
    deadline: new Date(summary.deadline).toISOString(),
    ...(summary.abortReason !== undefined && { abort: summary.abortReason }),
  };
}

/** JSON on one line, or one `key  value` line per field. */
async function print(io: ProgramIo, json: boolean | undefined, summary: Record<string, unknown>): Promise<void> {
  if (json) {
    await io.out(`${JSON.stringify(summary)}\n`);
    return;
  }
  for (const [key, value] of Object.entries(summary))
    await io.out(`${key.padEnd(20)} ${Array.isArray(value) ? value.join(', ') : String(value)}\n`);
}
