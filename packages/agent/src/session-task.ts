/**
 * One session the agent joined, from its suspects to its delivered results, in named steps:
 * `readSuspects` (each kind's configured source, read afresh for this session), `run` (the SDK's
 * `OverlapClient.run`, resumable from `<state dir>/sessions/<id>.state/`, on a worker pool that
 * lives only as long as the session), `deliver` (the results directory first, then the webhook
 * and the command), then the session's state is erased.
 *
 * What ends a task, and what the agent does then (the task answers an `Ending`, never throws):
 * - delivered: results written; or aborted (by a lab, the relay, a deadline): nothing delivered;
 * - declined: a source failed or gave nothing before this lab joined: the agent declines the
 *   session (an abort with the reason) rather than join with an empty set;
 * - set aside: the relay stayed unreachable past the retry budget, or the witnesses' quorum was
 *   not met in time: the state is kept and the agent tries again later (agent.ts backs off);
 * - stopped: the agent is stopping (SIGTERM): the state is kept, and the next start resumes it;
 * - failed: anything else (a relay caught lying, a trust root changed): the state is kept for an
 *   engineer, the code and message logged.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ClientError,
  type LabProgress,
  LabStateStore,
  type OverlapClient,
  type SessionResults,
  type SessionTerms,
  type TemplateOfFile,
  templateResults,
} from '@overlap/client';
import { BatchPool } from '@overlap/crypto/node';
import type { AgentConfig, SourceConfig } from './agent-config.js';
import type { AgentLog } from './agent-log.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { Clock } from './clock.js';
import { AgentError } from './errors.js';
import { type DeliveryReport, deliverResults } from './result-delivery.js';
import { eraseTemplates, loadTemplates, saveTemplates } from './session-templates.js';
import { readSuspectSource } from './suspect-source.js';

export type Ending =
  | { outcome: 'delivered'; shared: number; undelivered: string[] }
  | { outcome: 'aborted'; reason: string }
  /** `reason` goes to the other labs (in the abort); `detail`, to this lab's log only. */
  | { outcome: 'declined'; reason: string; detail?: string }
  | { outcome: 'set-aside'; reason: string }
  | { outcome: 'stopped' }
  | { outcome: 'failed'; code: string; reason: string };

export interface SessionTaskContext {
  config: AgentConfig;
  stateDir: string;
  clock: Clock;
  log: AgentLog;
  metrics: AgentMetrics;
  signal: AbortSignal;
  /** A client for this session's run: its own pool, its progress reported. */
  connect: (extra: { pool: BatchPool; onProgress: (event: LabProgress) => void }) => Promise<OverlapClient>;
  /** The webhook's HMAC key, read when a delivery needs it (zeroed by the caller after). */
  webhookSecret?: () => Promise<Uint8Array>;
}

/** Codes that mean "the relay (or the witnesses) cannot be reached now": tried again later. */
const OUTAGE_CODES = new Set(['RELAY_UNREACHABLE', 'RELAY_UNAVAILABLE', 'WITNESS_QUORUM_UNMET']);

export async function runSessionTask(
  terms: SessionTerms,
  resuming: boolean,
  context: SessionTaskContext,
): Promise<Ending> {
  const { signal } = context;
  const session = terms.session;
  // A resumed run has its values in its state (the secret order holds them): the sources are not
  // read again, and a source changed since cannot change what the session committed.
  let sets: Record<string, string[]> = {};
  let templates: TemplateOfFile[] | undefined;
  // A session over before this lab ran it (a restart after its state was erased): nothing is read.
  if (!resuming && (terms.status.state === 'done' || terms.status.state === 'aborted')) {
    // No resumable state, but maybe what a run that died before its first progress left: its
    // secrets (the session key, the values) and the templates (the lab's prompts). Erased.
    await eraseLeftovers(context.stateDir, session);
    return { outcome: 'aborted', reason: `the session is ${terms.status.state}, and this lab has no state for it` };
  }
  if (!resuming) {
    try {
      ({ sets, templates } = await readSuspects(terms, context));
      if (templates !== undefined) await saveTemplates(context.stateDir, session, templates);
    } catch (error) {
      if (signal.aborted) return { outcome: 'stopped' };
      // The other labs are told that a list could not be had, not the lab's paths and programs.
      // Quoted text in a reader's message may be a record's content (a CSV header that was data).
      const detail = (error instanceof Error ? error.message : String(error)).replace(/"[^"]*"/g, '"…"');
      return { outcome: 'declined', reason: 'its suspect list could not be read', detail };
    }
    const items = Object.values(sets).reduce((n, s) => n + s.length, 0);
    if (items === 0) {
      await eraseTemplates(context.stateDir, session);
      const kinds = terms.kinds.join(', ');
      return {
        outcome: 'declined',
        reason: `no suspects of kind${terms.kinds.length > 1 ? 's' : ''} ${kinds} to share`,
      };
    }
  }
  const pool = new BatchPool(context.config.workers === undefined ? {} : { workers: context.config.workers });
  try {
    const client = await context.connect({ pool, onProgress: (event) => progressOf(session, event, context) });
    const run = await client.run(session, sets, { keepState: true, terms });
    void pool.close();
    if (resuming) templates = await loadTemplates(context.stateDir, session);
    // Bands come back one by one: gathered into the lab's templates before anything is delivered.
    const outcome = templateResults({ templates }, run);
    if (outcome.abortReason !== undefined) {
      await client.eraseState(session);
      await eraseTemplates(context.stateDir, session);
      return { outcome: 'aborted', reason: outcome.abortReason };
    }
    const doc: SessionResults = {
      session,
      lab: (terms.labs.find((l) => l.keyId === client.keyId) ?? { lab: client.keyId }).lab,
      relay: client.info.origin,
      policy: outcome.policy,
      finished: new Date(context.clock.now()).toISOString(),
      results: outcome.results,
    };
    const report = await deliver(doc, context);
    await client.eraseState(session);
    await eraseTemplates(context.stateDir, session);
    return { outcome: 'delivered', shared: doc.results.length, undelivered: undeliveredOf(report) };
  } catch (error) {
    if (signal.aborted) return { outcome: 'stopped' };
    const code = (error as { code?: string }).code ?? 'INTERNAL';
    const reason = (error as Error).message;
    if (error instanceof ClientError && OUTAGE_CODES.has(error.code)) return { outcome: 'set-aside', reason };
    if (error instanceof ClientError && error.code === 'SESSION_FINISHED') {
      await eraseLeftovers(context.stateDir, session);
      return { outcome: 'aborted', reason };
    }
    return { outcome: 'failed', code, reason };
  } finally {
    await pool.close();
  }
}

/** What a session over for this lab may have left in the state folder, secrets first; nothing if none. */
async function eraseLeftovers(stateDir: string, session: string): Promise<void> {
  const store = new LabStateStore(join(stateDir, 'sessions', `${session}.state`));
  if (await store.present()) await store.erase();
  await eraseTemplates(stateDir, session);
}

/**
 * Each kind's values from its source, read now (a kind whose source also serves another kind is
 * read once). A source that fails is an error naming the kind; values of kinds the session does
 * not name are dropped.
 */
async function readSuspects(terms: SessionTerms, context: SessionTaskContext): Promise<Suspects> {
  try {
    return await readEach(terms, context);
  } finally {
    // A command's output (suspect data) never outlives the reading, whatever happened.
    await rm(join(context.stateDir, 'agent', 'work', terms.session), { recursive: true, force: true });
  }
}

/** Each kind's values, and the prompt templates whose bands are the `prompt_template` values. */
interface Suspects {
  sets: Record<string, string[]>;
  templates?: TemplateOfFile[];
}

async function readEach(terms: SessionTerms, context: SessionTaskContext): Promise<Suspects> {
  const readings = new Map<string, Promise<Awaited<ReturnType<typeof readSuspectSource>>>>();
  const sets: Record<string, string[]> = {};
  let templates: TemplateOfFile[] | undefined;
  for (const kind of terms.kinds) {
    const source = context.config.sources.get(kind);
    if (source === undefined) throw new AgentError('SOURCE_FAILED', `no source configured for kind ${kind}`);
    const key = sourceKey(source);
    let reading = readings.get(key);
    if (reading === undefined) {
      reading = readSuspectSource(source, {
        workDir: join(context.stateDir, 'agent', 'work', terms.session),
        signal: context.signal,
        describe: `kind ${kind}`,
      });
      readings.set(key, reading);
    }
    const { source: from, reading: file } = await reading;
    const values = file.sets[kind] ?? [];
    sets[kind] = values;
    if (kind === 'prompt_template') templates = file.templates ?? [];
    context.log.log('info', 'suspects_read', {
      session: terms.session,
      kind,
      source: from,
      values: values.length,
      rejected: file.summary.rejected,
    });
    context.metrics.itemsRead(values.length);
  }
  return templates === undefined ? { sets } : { sets, templates };
}

function sourceKey(source: SourceConfig): string {
  return JSON.stringify(source);
}

async function deliver(doc: SessionResults, context: SessionTaskContext): Promise<DeliveryReport> {
  const { results } = context.config;
  let secret: Uint8Array | undefined;
  let secretProblem: string | undefined;
  try {
    if (results.webhook !== undefined && context.webhookSecret !== undefined) {
      // A key that cannot be read fails the webhook only: the directory is written all the same.
      secret = await context.webhookSecret().catch((error: unknown) => {
        secretProblem = (error as Error).message;
        return undefined;
      });
    }
    const report = await deliverResults(
      doc,
      {
        directory: { path: results.dir, formats: results.formats, csvGuard: results.csvGuard },
        ...(results.webhook !== undefined &&
          secret !== undefined && {
            webhook: {
              url: results.webhook.url,
              secret,
              ...(results.webhook.caFile !== undefined && { caFile: results.webhook.caFile }),
              timeoutMs: results.webhook.timeoutMs,
              attempts: results.webhook.attempts,
            },
          }),
        ...(results.command !== undefined && { command: results.command }),
      },
      { clock: context.clock, log: context.log, signal: context.signal },
    );
    if (secretProblem === undefined) return report;
    context.log.log('error', 'delivery_failed', { session: doc.session, destination: 'webhook', error: secretProblem });
    return { ...report, webhook: { ok: false, error: `BAD_CONFIG: ${secretProblem}` } };
  } finally {
    secret?.fill(0);
  }
}

function undeliveredOf(report: DeliveryReport): string[] {
  const failed: string[] = [];
  if (report.webhook !== undefined && !report.webhook.ok) failed.push('webhook');
  if (report.command !== undefined && !report.command.ok) failed.push('command');
  return failed;
}

/** The run's progress as metrics and debug logs (counts only, never values). */
function progressOf(session: string, event: LabProgress, context: SessionTaskContext): void {
  context.metrics.progress(event);
  if (event.phase === 'resuming')
    context.log.log('info', 'session_resuming', { session, unacknowledged: event.unacknowledged });
  else if (event.phase === 'hashing') context.log.log('info', 'session_hashing', { session, items: event.items });
  else if (event.phase === 'proving') context.log.log('debug', 'session_proving', { session, proofs: event.proofs });
}
