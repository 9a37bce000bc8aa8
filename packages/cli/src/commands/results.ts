/**
 * `overlap results`: a finished session's shared indicators, from the result document `session run`
 * left in the state directory, as CSV, JSON lines or a STIX 2.1 bundle.
 *
 *   overlap results --session ID --format csv|jsonl|stix [--state-dir DIR] [--out FILE]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatResults, RESULT_FORMATS, type ResultFormat, type SessionResults } from '@overlap/client';
import { writeFileAtomic } from '@overlap/files';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { sdkCall, sessionArgument } from '../lab-context.js';
import { addSettings, readSettings, SETTINGS } from '../settings.js';

export function addResultsCommand(program: Command, io: ProgramIo): void {
  addSettings(program.command('results'), SETTINGS.stateDir)
    .requiredOption('--session <id>', 'the session id')
    .requiredOption('--format <format>', RESULT_FORMATS.join(', '))
    .option('--out <file>', 'write here instead of standard output')
    .action(async (flags: { session: string; format: string; out?: string }) => {
      const id = sessionArgument(flags.session);
      const stateDir = (await readSettings(flags)).require(SETTINGS.stateDir);
      if (!(RESULT_FORMATS as readonly string[]).includes(flags.format)) {
        throw new CliError('USAGE', `--format must be one of ${RESULT_FORMATS.join(', ')}`);
      }
      const path = join(stateDir, `${id}.json`);
      let doc: SessionResults;
      try {
        doc = JSON.parse(await readFile(path, 'utf8')) as SessionResults;
      } catch (cause) {
        throw new CliError('NO_INPUT', `no results for session ${id} in ${stateDir} (run overlap session run first)`, {
          cause,
        });
      }
      const text = await sdkCall(async () => formatResults(doc, flags.format as ResultFormat));
      if (flags.out) await writeFileAtomic(flags.out, text, { replace: true });
      else await io.out(text);
    });
}
