/**
 * `overlap session abort --session ID --reason TEXT [--state-dir DIR] [--json]`: ends a session for
 * every lab in it. Any lab of the session may abort it (spec/protocol.md §5): the abort is an
 * envelope of this lab's chain in the session, so the lab is named in it, and denial of service is
 * attributed, not prevented. With a state directory that holds the session's running state, the
 * abort continues that chain; the state (its session key, its outbox) is erased afterwards, since
 * nothing can be resumed from it.
 *
 * Exit 0 once the relay logged the abort; 1 when it cannot be (the session is already done or
 * aborted: SESSION_FINISHED; this lab joined and its state is not in this state directory:
 * STATE_MISSING), 64 for a bad id, an empty reason or a session this lab is not in. A session
 * already over leaves no state behind here either (session-files.ts `settleFinished`): it is
 * erased and the refusal says so, except the resumable state of a session done at the relay,
 * which is kept and named (`session run` fetches this lab's results from it; it holds no key).
 */
import { ClientError, type OverlapClient } from '@overlap/client';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall, sessionArgument } from '../lab-context.js';
import { readSettings, SETTINGS } from '../settings.js';
import { type SessionFiles, sessionFiles, settleFinished } from './session-files.js';

/** The spec's limit on an abort's reason (spec/protocol.md §3: at most 1024 code points). */
const MAX_REASON = 1024;

interface AbortFlags extends Record<string, unknown> {
  session: string;
  reason: string;
  json?: boolean;
}

export function addSessionAbortCommand(session: Command, io: ProgramIo): void {
  addLabOptions(session.command('abort'))
    .description('abort a session this lab is in, for every lab (this lab is named as the one that aborted)')
    .requiredOption('--session <id>', 'the session id')
    .requiredOption('--reason <text>', 'why, for the other labs and the transcript (no secrets: it is logged)')
    .option('--json', 'print {"session": ID, "state": "aborted", …}')
    .action(async (flags: AbortFlags) => {
      const id = sessionArgument(flags.session);
      const reason = flags.reason.trim();
      if (reason === '') throw new CliError('USAGE', '--reason must say why the session is aborted');
      if ([...reason].length > MAX_REASON)
        throw new CliError('USAGE', `--reason is longer than ${MAX_REASON} characters`);
      const settings = await readSettings(flags);
      const stateDir = settings.require(SETTINGS.stateDir);
      const { client, warnings } = await connectLab(settings, { stateDir });
      for (const warning of warnings) io.err(`overlap: warning: ${warning}\n`);
      const files = sessionFiles(stateDir, id);
      const done = await sdkCall(() => client.abort(id, reason)).catch(async (error: unknown) => {
        const cause = error instanceof CliError ? error.cause : undefined;
        if (cause instanceof ClientError && cause.code === 'SESSION_FINISHED') {
          throw await finishedRefusal(error as CliError, files, client);
        }
        throw error;
      });
      const summary = { session: id, state: 'aborted', reason, index: done.index, state_erased: done.stateErased };
      if (flags.json) await io.out(`${JSON.stringify(summary)}\n`);
      else {
        const erased = done.stateErased ? `; its state in ${files.state} was erased` : '';
        await io.out(`session ${id} aborted (log index ${done.index})${erased}\n`);
      }
    });
}

/** The refusal of an abort of a session already over, saying what became of this lab's state for it. */
async function finishedRefusal(error: CliError, files: SessionFiles, client: OverlapClient): Promise<CliError> {
  const { state } = (await sdkCall(() => client.terms(files.session))).status;
  if (state !== 'done' && state !== 'aborted') return error;
  const left = await settleFinished(files, state);
  const said =
    left === 'erased'
      ? `; the state left for it in ${files.state} was erased`
      : left === 'resumable'
        ? `; this lab's results are still to be fetched from its state in ${files.state}: run its \`overlap session run\` again`
        : '';
  return new CliError('FAILURE', `${error.message}${said}`, { cause: error.cause });
}
