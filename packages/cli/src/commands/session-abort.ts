/**
 * `overlap session abort --session ID --reason TEXT [--state-dir DIR] [--json]`: ends a session for
 * every lab in it. Any lab of the session may abort it (spec/protocol.md §5): the abort is an
 * envelope of this lab's chain in the session, so the lab is named in it, and denial of service is
 * attributed, not prevented. With a state directory that holds the session's running state, the
 * abort continues that chain; the state (its session key, its outbox) is erased afterwards, since
 * nothing can be resumed from it.
 *
 * Exit 0 once the relay logged the abort; 1 when it refused (the session already done or aborted:
 * SESSION_FINISHED), 64 for a bad id or an empty reason.
 */
import type { OverlapClient } from '@overlap/client';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall, sessionArgument } from '../lab-context.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';
import { eraseState, sessionFiles } from './session-files.js';

/** The spec's limit on an abort's reason (spec/protocol.md §3: at most 1024 code points). */
const MAX_REASON = 1024;

interface AbortFlags extends Record<string, unknown> {
  session: string;
  reason: string;
  json?: boolean;
}

/** The SDK's abort (OverlapClient.abort), as this module calls it. */
type Aborting = OverlapClient & { abort?: (session: string, reason: string) => Promise<unknown> };

export function addSessionAbortCommand(session: Command, io: ProgramIo): void {
  addSettings(addLabOptions(session.command('abort')), SETTINGS.stateDir)
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
      const aborting = client as Aborting;
      if (typeof aborting.abort !== 'function') {
        throw new CliError('FAILURE', 'this build of @overlap/client cannot abort a session');
      }
      const abort = aborting.abort.bind(client);
      await sdkCall(() => abort(id, reason));
      const erased = await eraseState(sessionFiles(stateDir, id));
      const summary = { session: id, state: 'aborted', reason, ...(erased && { state_erased: true }) };
      if (flags.json) await io.out(`${JSON.stringify(summary)}\n`);
      else await io.out(`session ${id} aborted${erased ? '; its state in this state directory was erased' : ''}\n`);
    });
}
