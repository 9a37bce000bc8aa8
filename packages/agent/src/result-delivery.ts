/**
 * A session's results taken to every destination the lab configured, in one order: the results
 * directory first (deliver-directory.ts), so the results are on the lab's disk before anything
 * goes over a network or to a program; then the webhook (deliver-webhook.ts) and the delivery
 * command (deliver-command.ts), at the same time and each on its own: one failing neither skips
 * nor delays the other.
 *
 * A directory that cannot be written throws (`DELIVERY_FAILED`): the session is not delivered at
 * all. A webhook or command that fails is reported, not thrown, with its error's code and message,
 * and logged; the caller decides whether to try it again later. The webhook's delivery id is
 * `<session>:webhook` (`deliveryIdOf`), the same on every redelivery, so the receiver can drop a
 * repeat.
 *
 * The delivery command is promised a JSON lines file (deliver-command.ts): it is written for a
 * command even when the lab's formats do not list `jsonl`.
 *
 * Threat: results lost because the one destination tried first was down; a failure in the log
 * that quotes a value or a secret: records carry the session, the destination, counts and the
 * error's code and message, which name origins and paths only (each destination's module sees to
 * that).
 */
import type { CsvGuard, ResultFormat, SessionResults } from '@overlap/client';
import type { AgentLog } from './agent-log.js';
import type { Clock } from './clock.js';
import { type DeliveryCommand, deliverToCommand } from './deliver-command.js';
import { deliverToDirectory, resultsFileName } from './deliver-directory.js';
import { deliverToWebhook, type WebhookSpec } from './deliver-webhook.js';
import { AgentError } from './errors.js';

export interface ResultDestinations {
  directory: { path: string; formats: readonly ResultFormat[]; csvGuard?: CsvGuard };
  webhook?: WebhookSpec;
  command?: DeliveryCommand;
}

export type DeliveryOutcome<Ok> = ({ ok: true } & Ok) | { ok: false; error: string };

export interface DeliveryReport {
  /** The files written in the results directory, the result document last. */
  files: string[];
  webhook?: DeliveryOutcome<{ status: number; attempts: number }>;
  command?: DeliveryOutcome<object>;
}

export interface DeliverResultsOptions {
  clock: Clock;
  log: AgentLog;
  signal?: AbortSignal | undefined;
}

/** The receiver's idempotency key for a session at a destination: `<session>:<destination>`. */
export function deliveryIdOf(session: string, destination: 'webhook'): string {
  return `${session}:${destination}`;
}

/** Writes the directory, then runs the webhook and the command; the signal's reason when it aborts. */
export async function deliverResults(
  doc: SessionResults,
  to: ResultDestinations,
  options: DeliverResultsOptions,
): Promise<DeliveryReport> {
  const { log, signal } = options;
  const session = doc.session;
  const count = doc.results.length;
  const formats =
    to.command !== undefined && !to.directory.formats.includes('jsonl')
      ? [...to.directory.formats, 'jsonl' as const]
      : to.directory.formats;
  let files: string[];
  try {
    signal?.throwIfAborted();
    ({ files } = await deliverToDirectory(
      to.directory.path,
      doc,
      formats,
      to.directory.csvGuard === undefined ? {} : { csvGuard: to.directory.csvGuard },
    ));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    log.log('error', 'delivery_failed', { session, destination: 'directory', count, ...describe(error) });
    throw error instanceof AgentError
      ? error
      : new AgentError('DELIVERY_FAILED', `session ${session}: the results directory: ${errorText(error)}`, {
          cause: error,
        });
  }
  log.log('info', 'results_delivered', { session, destination: 'directory', count, files: files.length });

  const report: DeliveryReport = { files };
  const webhook = to.webhook;
  const command = to.command;
  await Promise.all([
    webhook &&
      deliverToWebhook(webhook, doc, { ...options, deliveryId: deliveryIdOf(session, 'webhook') }).then(
        ({ status, attempts }) => {
          report.webhook = { ok: true, status, attempts };
          log.log('info', 'results_delivered', { session, destination: 'webhook', count, status, attempts });
        },
        (error: unknown) => {
          report.webhook = { ok: false, error: errorText(error) };
          if (!signal?.aborted)
            log.log('error', 'delivery_failed', { session, destination: 'webhook', count, ...describe(error) });
        },
      ),
    command &&
      deliverToCommand(
        command,
        {
          session,
          resultsFile: resultsFileName(to.directory.path, session, 'jsonl'),
          resultsDocument: resultsFileName(to.directory.path, session, 'document'),
          count,
        },
        signal === undefined ? {} : { signal },
      ).then(
        () => {
          report.command = { ok: true };
          log.log('info', 'results_delivered', { session, destination: 'command', count });
        },
        (error: unknown) => {
          report.command = { ok: false, error: errorText(error) };
          if (!signal?.aborted)
            log.log('error', 'delivery_failed', { session, destination: 'command', count, ...describe(error) });
        },
      ),
  ]);
  // Stopped mid-way: neither destination is known to have failed, so nothing is reported as such.
  if (signal?.aborted) throw signal.reason;
  return report;
}

/** `CODE: message` of an error, as the report carries it. */
function errorText(error: unknown): string {
  const { code, error: message } = describe(error);
  return `${code}: ${message}`;
}

/** An error as log fields: its code (its name when it has none) and its message. */
function describe(error: unknown): { code: string; error: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    code: typeof code === 'string' ? code : error instanceof Error ? error.name : 'UNKNOWN',
    error: error instanceof Error ? error.message : String(error),
  };
}
