/**
 * A lab's own delivery command, run once a session's results are written (to a SIEM, a ticket
 * queue, a case system): run-command.ts with what it needs to find them, in its environment.
 *
 *   OVERLAP_SESSION           the session's id
 *   OVERLAP_RESULTS_FILE      the JSON lines results file, already written
 *   OVERLAP_RESULTS_COUNT     how many results it holds (0 too: "nothing shared" is news as well)
 *   OVERLAP_RESULTS_DOCUMENT  the session's results document, when one was written
 *
 * Secrets rule: the command gets the agent's environment minus every variable named
 * `*PASSPHRASE*`, `*SECRET*` or `OVERLAP_WEBHOOK_*` (`commandEnvironment`): an exporter has no use
 * for the key's passphrase or the webhook's key, and a command the agent runs should not be able
 * to leak what it does not need. Variables named like the four above are replaced, never
 * inherited, so a stale `OVERLAP_RESULTS_DOCUMENT` cannot point the command at another session.
 *
 * Its stdin is closed and its stdout discarded. Its stderr is not quoted in the error either,
 * though the command only handles results the lab already has: the error goes to the agent's
 * log, which carries no indicator value (agent-log.ts), and an exporter that fails on a record
 * may well print it. The exit status and the size of its stderr are reported; the command can
 * log its own reasons where the lab keeps such things.
 *
 * Threat: secrets handed to a program that does not need them; a hung exporter holding a session
 * open (the timeout stops its whole process group); results quoted into logs.
 */
import { AgentError } from './errors.js';
import { commandEnvironment, runCommand } from './run-command.js';

export interface DeliveryCommand {
  argv: string[];
  timeoutMs: number;
  cwd?: string;
}

export interface CommandDelivery {
  session: string;
  /** The JSON lines results file, already written. */
  resultsFile: string;
  /** The session's results document, if one was written. */
  resultsDocument?: string;
  count: number;
}

export interface DeliverCommandOptions {
  signal?: AbortSignal;
  /** The agent's environment, which the command's is made from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The variables the agent sets itself: never inherited. */
const DELIVERY_VARIABLE = /^OVERLAP_(SESSION|RESULTS_FILE|RESULTS_COUNT|RESULTS_DOCUMENT)$/;

/** Runs the delivery command to its end; `DELIVERY_FAILED` if it fails, hangs or cannot start. */
export async function deliverToCommand(
  spec: DeliveryCommand,
  delivery: CommandDelivery,
  options: DeliverCommandOptions = {},
): Promise<void> {
  if (!Number.isSafeInteger(delivery.count) || delivery.count < 0)
    throw new AgentError('BAD_CONFIG', `the results count of session ${delivery.session} is ${delivery.count}`);
  const base = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter(([name]) => !DELIVERY_VARIABLE.test(name)),
  );
  const env = commandEnvironment(base, {
    OVERLAP_SESSION: delivery.session,
    OVERLAP_RESULTS_FILE: delivery.resultsFile,
    OVERLAP_RESULTS_COUNT: String(delivery.count),
    ...(delivery.resultsDocument !== undefined && { OVERLAP_RESULTS_DOCUMENT: delivery.resultsDocument }),
  });
  await runCommand(spec.argv, {
    what: `the delivery command (${spec.argv[0] ?? ''}) of session ${delivery.session}`,
    timeoutMs: spec.timeoutMs,
    failure: 'DELIVERY_FAILED',
    env,
    showStderr: false,
    ...(spec.cwd !== undefined && { cwd: spec.cwd }),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
}
