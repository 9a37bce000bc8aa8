/**
 * `overlap session …`: a lab's sessions.
 *
 *   overlap session create --labs a,b,c --kinds email,ip [--reveal labs|count|threshold:T] [--max-items N]
 *                          [--deadline-minutes M] [--proofs spot|full] [--chunk-size N] [--wait]
 *   overlap session show   --session ID     its terms, checked (proposal signature, membership)
 *   overlap session join   --session ID     = show, with a note: joining is what the first `run` does
 *   overlap session run    --session ID --input FILE …   (session-run.ts)
 *   overlap session status --session ID     who joined, whom it waits on, the abort if any
 *   overlap session list                    the sessions naming this lab
 *   overlap session abort  --session ID --reason TEXT   (session-abort.ts)
 *
 * plus `--relay`, `--key`, `--log-key`, `--admin-public-key` (lab-context.ts) and `--json` on each.
 * `create` takes its defaults from the config file's `[session]` table (settings.ts). Exit codes:
 * 0 ok, 1 failure (the relay refused, the session aborted), 64 usage, 65 bad input data,
 * 66 unreadable input, 130 interrupted.
 */
import { type OverlapClient, waitForJoins } from '@overlap/client';
import { INDICATOR_KIND_NAMES } from '@overlap/indicators';
import {
  DEFAULT_CHUNK_SIZE,
  formatRevealPolicy,
  MAX_TAGS_PER_CHUNK,
  MIN_CHUNK_SIZE,
  parseRevealPolicyText,
  type RevealPolicy,
} from '@overlap/protocol';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, connectLab, sdkCall } from '../lab-context.js';
import { addSettings, commaList, readSettings, SETTINGS, type Setting, type Settings } from '../settings.js';
import { addSessionAbortCommand } from './session-abort.js';
import { addSessionInspectCommands } from './session-inspect.js';
import { addSessionRunCommand } from './session-run.js';

export function addSessionCommands(program: Command, io: ProgramIo): void {
  const session = program.command('session');
  addSessionCreateCommand(session, io);
  addSessionInspectCommands(session, io);
  addSessionRunCommand(session, io);
  addSessionAbortCommand(session, io);
}

interface CreateFlags extends Record<string, unknown> {
  wait?: boolean;
  labs: string;
  kinds: string;
  chunkSize: string;
  json?: boolean;
}

function addSessionCreateCommand(session: Command, io: ProgramIo): void {
  const create = session.command('create');
  addSettings(
    addLabOptions(create),
    SETTINGS.reveal,
    SETTINGS.maxItems,
    SETTINGS.deadlineMinutes,
    SETTINGS.joinMinutes,
    SETTINGS.proofs,
  )
    .description('propose a session among enrolled labs (this lab among them); prints its id')
    .requiredOption('--labs <names>', 'comma-separated lab ids (or key ids), this lab included')
    .requiredOption('--kinds <kinds>', `comma-separated indicator kinds (${INDICATOR_KIND_NAMES.join(', ')})`)
    .option(
      '--chunk-size <n>',
      `tags per chunk, ${MIN_CHUNK_SIZE} to ${MAX_TAGS_PER_CHUNK}`,
      String(DEFAULT_CHUNK_SIZE),
    )
    .option(
      '--wait',
      'then wait until every lab has joined (exit 0), or the session ends first — a lab declined it, the join deadline passed (exit 1, with the reason)',
    )
    .option('--json', 'print {"session": ID, …the terms proposed}')
    .action(async (flags: CreateFlags) => {
      const settings = await readSettings(flags);
      const terms = proposedTerms(flags, settings);
      const { client, warnings } = await connectLab(settings);
      for (const warning of warnings) io.err(`overlap: warning: ${warning}\n`);
      const id = await sdkCall(() => client.createSession(terms));
      if (flags.json) {
        const proposed = {
          session: id,
          labs: terms.labs,
          kinds: terms.kinds,
          reveal: formatRevealPolicy(terms.policy),
          max_items_per_kind: terms.maxItemsPerKind,
          proofs: terms.proofs,
          chunk_size: terms.chunkSize,
          ...(terms.joinBy !== undefined && { join_by: new Date(terms.joinBy).toISOString() }),
          ...(terms.deadline !== undefined && { deadline: new Date(terms.deadline).toISOString() }),
        };
        await io.out(`${JSON.stringify(proposed)}\n`);
      } else await io.out(`${id}\n`);
      if (flags.wait) await waitJoined(client, id, terms.labs, io);
    });
}

/**
 * `--wait`: the labs' joins as they come (on stderr), then exit 0 once all joined, or 1 with the
 * reason the session ended before (a decline says which lab and why).
 */
async function waitJoined(client: OverlapClient, id: string, labs: readonly string[], io: ProgramIo): Promise<void> {
  const names = new Map((await sdkCall(() => client.members())).map((m) => [m.keyId, m.lab]));
  const name = (keyId: string) => names.get(keyId) ?? keyId;
  const outcome = await sdkCall(() =>
    waitForJoins(client.relay, id, {
      onJoined: (joined) =>
        io.err(
          `overlap: session ${id}: ${joined.length} of ${labs.length} labs joined${joined.length > 0 ? ` (${joined.map(name).join(', ')})` : ''}\n`,
        ),
    }),
  );
  if (outcome.state === 'joined') return;
  // The relay's reason opens with the key id of the lab that aborted: named here.
  const reason =
    outcome.reason === undefined
      ? ''
      : `: ${outcome.reason.replace(/^([0-9a-f]{32,64}) /, (_, id: string) => `${name(id)} `)}`;
  throw new CliError(
    'FAILURE',
    `session ${id} ${outcome.how === 'aborted' ? 'was aborted before every lab joined' : 'ended'}${reason}`,
  );
}

/** The terms `create` proposes, every one checked here (64) before the key or the relay are touched. */
function proposedTerms(flags: CreateFlags, settings: Settings) {
  const labs = commaList(flags.labs);
  const kinds = commaList(flags.kinds);
  if (labs.length < 2)
    throw new CliError('USAGE', `--labs must name at least two labs, this one included; got ${labs.length}`);
  if (new Set(labs).size !== labs.length) throw new CliError('USAGE', '--labs names a lab twice');
  if (kinds.length === 0) throw new CliError('USAGE', '--kinds must name at least one kind');
  for (const kind of kinds) {
    if (!(INDICATOR_KIND_NAMES as readonly string[]).includes(kind))
      throw new CliError(
        'USAGE',
        `unknown kind ${JSON.stringify(kind)} in --kinds; known kinds: ${INDICATOR_KIND_NAMES.join(', ')}`,
      );
  }
  const policy = revealPolicy(settings.get(SETTINGS.reveal) as string, labs.length);
  const maxItems = settings.integer(SETTINGS.maxItems) as number;
  const minutes = positiveMinutes(settings, SETTINGS.deadlineMinutes, '--deadline-minutes');
  const joinMinutes = positiveMinutes(settings, SETTINGS.joinMinutes, '--join-minutes');
  const proofs = settings.get(SETTINGS.proofs);
  if (proofs !== 'spot' && proofs !== 'full')
    throw new CliError('USAGE', `--proofs must be spot or full, got ${JSON.stringify(proofs)}`);
  const chunkSize = Number(flags.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_TAGS_PER_CHUNK) {
    throw new CliError('USAGE', `--chunk-size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_TAGS_PER_CHUNK}`);
  }
  return {
    labs,
    kinds,
    policy,
    maxItemsPerKind: maxItems,
    ...(minutes !== undefined && { deadline: Date.now() + minutes * 60_000 }),
    ...(joinMinutes !== undefined && { joinBy: Date.now() + joinMinutes * 60_000 }),
    proofs,
    chunkSize,
  } as const;
}

/** A setting in minutes, if given: a positive number. */
function positiveMinutes(settings: Settings, setting: Setting, flag: string): number | undefined {
  const text = settings.get(setting);
  const minutes = text === undefined ? undefined : Number(text);
  if (minutes !== undefined && !(Number.isFinite(minutes) && minutes > 0))
    throw new CliError('USAGE', `${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return minutes;
}

/**
 * `--reveal`, checked against the number of labs: under `threshold:T` a lab learns of an indicator
 * only when at least T labs hold it, so T above the number of labs is a session where nobody ever
 * learns anything (spec/protocol.md §5).
 */
function revealPolicy(text: string, labs: number): RevealPolicy {
  let policy: RevealPolicy;
  try {
    policy = parseRevealPolicyText(text);
  } catch (cause) {
    throw new CliError('USAGE', `--reveal must be labs, count or threshold:T (T ≥ 2), got ${JSON.stringify(text)}`, {
      cause,
    });
  }
  if (policy.kind === 'threshold' && policy.t > labs) {
    throw new CliError(
      'USAGE',
      `--reveal threshold:${policy.t} needs at least ${policy.t} labs, and --labs names ${labs}: no indicator could ever be revealed`,
    );
  }
  return policy;
}
