/**
 * A lab's always-on agent (`overlap agent`, or embedded): it waits on the relay for proposals that
 * name its lab (the signed long-poll `GET /v1/sessions?wait=`, spec/relay-api.md §3), judges each
 * against the lab's accept rules (acceptance.ts), declines at once with the reason (an abort
 * before joining, so the proposer learns it instead of waiting for the join deadline), joins the
 * rest and runs them to their results (session-task.ts), at most `max_sessions` at a time, and
 * proposes its schedules' sessions when they fall due (schedule.ts).
 *
 * Its states, each in one place:
 * - starting: the state directory's lock and record (agent-state.ts), the relay reached (an outage
 *   is waited out, with backoff, logged), this lab's enrollment checked, the listener started;
 * - watching (`#watch`): one list request after another, each proposal judged once (the cursor and
 *   every decision are on disk before they are acted on);
 * - running sessions (`#pump`, `#runTask`): the joined sessions, the ones a previous process left
 *   (resumed from their state), and the ones set aside during an outage (tried again later);
 * - stopping (`stop`, on SIGTERM): no new work; running sessions are interrupted where they are,
 *   their state kept (a lab's progress is on disk at every step), and resumed at the next start.
 *
 * Threat: every proposal, status and result is the relay's word until the SDK has checked it (a
 * proposal's signature and inclusion, every receipt, the witnesses' cosignatures): the agent only
 * acts through `OverlapClient`, which it builds with the lab's pinned trust roots (the CLI refuses
 * to start an agent without configured roots), and logs no value, key or secret.
 */
import { join } from 'node:path';
import {
  ClientError,
  collectGarbage,
  LabStateStore,
  type OverlapClient,
  type OverlapClientOptions,
  type SessionTerms,
} from '@overlap/client';
import { toHex } from '@overlap/crypto';
import { parseRevealPolicyText, type SessionStatus } from '@overlap/protocol';
import { judgeProposal } from './acceptance.js';
import type { AgentConfig } from './agent-config.js';
import { type AgentLog, jsonLog } from './agent-log.js';
import { AgentMetrics } from './agent-metrics.js';
import { AgentState } from './agent-state.js';
import { type Clock, systemClock } from './clock.js';
import { type Health, type RunningHealthServer, startHealthServer } from './health-server.js';
import { runSchedule } from './schedule.js';
import { type Ending, runSessionTask } from './session-task.js';

export interface AgentOptions {
  config: AgentConfig;
  /** The lab's state directory: the agent's record in `agent/`, each session's in `sessions/`. */
  stateDir: string;
  /**
   * Connects as this lab, with its key and pinned trust roots (relay, log key, admin key,
   * witnesses): the agent adds its signal, retry budget, pool and progress.
   */
  connect: (extra: Partial<OverlapClientOptions>) => Promise<OverlapClient>;
  clock?: Clock;
  log?: AgentLog;
  /** The webhook's HMAC key (config.results.webhook), read when a delivery needs it. */
  webhookSecret?: () => Promise<Uint8Array>;
  /** How long each list request waits on the relay for a new proposal (default 25 s). */
  pollWaitMs?: number;
  /** Backoff of relay outages: first and longest wait (default 1 s, 5 min). */
  backoff?: { firstMs: number; maxMs: number };
}

const DEFAULT_BACKOFF = { firstMs: 1_000, maxMs: 5 * 60_000 };

export class Agent {
  readonly metrics: AgentMetrics;
  readonly #options: AgentOptions;
  readonly #config: AgentConfig;
  readonly #clock: Clock;
  readonly #log: AgentLog;
  readonly #state: AgentState;
  readonly #client: OverlapClient;
  readonly #me: { keyId: string; lab: string };
  readonly #stop: AbortController;
  readonly #queue: { id: string; terms?: SessionTerms }[] = [];
  readonly #running = new Map<string, Promise<void>>();
  /** Sessions waiting out an outage, and how many times each was set aside in a row. */
  readonly #setAside = new Map<string, number>();
  #listener: RunningHealthServer | undefined;
  #loops: Promise<void>[] = [];
  #relayDownSince: number | undefined;
  #stopped: Promise<void> | undefined;
  #markStopped: () => void = () => {};
  readonly #settledPromise = new Promise<void>((resolve) => {
    this.#markStopped = resolve;
  });

  private constructor(
    options: AgentOptions,
    state: AgentState,
    client: OverlapClient,
    me: { keyId: string; lab: string },
    stop: AbortController,
  ) {
    this.#stop = stop;
    this.#options = options;
    this.#config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? jsonLog({ level: options.config.logLevel });
    this.#state = state;
    this.#client = client;
    this.#me = me;
    this.metrics = new AgentMetrics(this.#clock.now());
  }

  /**
   * Starts the agent: it runs until `stop()` (or `signal`). The relay is waited for (with backoff)
   * if it does not answer; a key that is not enrolled, or trust roots that do not match, are errors.
   */
  static async start(options: AgentOptions, signal?: AbortSignal): Promise<Agent> {
    const clock = options.clock ?? systemClock;
    const log = options.log ?? jsonLog({ level: options.config.logLevel });
    const state = await AgentState.open(options.stateDir);
    // One signal for everything the agent does, its watcher's long poll included: stop() ends it at once.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { client, me } = await connectWaiting(options, clock, log, stop.signal);
      const agent = new Agent({ ...options, clock, log }, state, client, me, stop);
      await agent.#begin();
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) void agent.stop();
      else signal?.addEventListener('abort', () => void agent.stop(), { once: true });
      return agent;
    } catch (error) {
      signal?.removeEventListener('abort', onAbort);
      await state.close();
      throw error;
    }
  }

  /** The listener's base URL (`/healthz`, `/metrics`), if it runs. */
  get listenerUrl(): string | undefined {
    return this.#listener?.url;
  }

  /** Resolves once the agent has stopped (after `stop()`, or its start signal). */
  get stopped(): Promise<void> {
    return this.#settledPromise;
  }

  health(): Health {
    const counts = { running: this.#running.size, queued: this.#queue.length };
    if (this.#stop.signal.aborted) return { status: 'stopping', ...counts };
    if (this.#relayDownSince !== undefined) {
      const since = new Date(this.#relayDownSince).toISOString();
      return { status: 'degraded', reason: `the relay has not answered since ${since}`, ...counts };
    }
    return { status: 'ok', ...counts };
  }

  /**
   * Stops: no new proposal is judged, no schedule fires; running sessions are interrupted and
   * keep their state (the next start resumes them). Resolves when everything has let go.
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#log.log('info', 'agent_stopping', { running: this.#running.size, queued: this.#queue.length });
    if (!this.#stop.signal.aborted) this.#stop.abort(new Error('the agent is stopping'));
    this.#stopped = (async () => {
      await Promise.allSettled([...this.#loops, ...this.#running.values()]);
      try {
        await this.#listener?.close();
        await this.#state.close();
        this.#log.log('info', 'agent_stopped', {});
      } catch (error) {
        this.#log.log('error', 'agent_stopped', {
          code: (error as { code?: string }).code ?? 'INTERNAL',
          error: (error as Error).message,
        });
      }
    })();
    this.#stopped.then(
      () => this.#markStopped(),
      () => this.#markStopped(),
    );
    return this.#stopped;
  }

  async #begin(): Promise<void> {
    const { listen } = this.#config;
    if (listen !== undefined) this.#listener = await startHealthServer(listen, () => this.health(), this.metrics);
    const resumed = this.#state.sessionsIn('joined');
    this.#log.log('info', 'agent_started', {
      lab: this.#me.lab,
      relay: this.#client.relay.url,
      listener: this.#listener?.url,
      resuming: resumed.length,
      schedules: this.#config.schedules.map((s) => s.name),
    });
    for (const id of resumed) this.#enqueue(id);
    collectGarbage(); // what starting up left behind (the modules' parsing, the first checks)
    this.#loops = [this.#watch(), ...this.#config.schedules.map((s) => this.#schedule(s))].map((loop) =>
      loop.catch((error: unknown) => this.#fatal('loop', error)),
    );
  }

  /** Watching: each proposal naming this lab, judged once, in log order. */
  async #watch(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const wait = this.#options.pollWaitMs ?? 25_000;
        const asked = performance.now();
        const page = await this.#client.relay.listSessions({ from: this.#state.cursor, limit: 100, wait });
        this.#relayAnswered();
        failures = 0;
        // A relay that answers an empty page at once (one that ignores `wait`) is asked again at the
        // poll's pace, not in a loop that would hold the process.
        if (page.sessions.length === 0 && performance.now() - asked < wait / 2) {
          // Real time, not the agent's clock: this paces requests to a relay, it schedules nothing.
          await systemClock.sleep(Math.min(wait, 5_000), signal).catch(() => {});
        }
        for (const status of page.sessions) {
          if (signal.aborted) return;
          await this.#consider(status);
          await this.#state.setCursor(status.proposal + 1);
        }
        if (page.next !== undefined) await this.#state.setCursor(page.next);
        await this.#resendDeclines();
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        await this.#backOff('watch', error, failures);
      }
    }
  }

  /** A proposal's first sight: judged, and declined, ignored or joined (the decision recorded first). */
  async #consider(status: SessionStatus): Promise<void> {
    const id = toHex(status.session);
    if (this.#state.session(id) !== undefined) return;
    // Past joining (or joined by this lab's engineers): nothing is left for the agent to decide.
    if (status.state !== 'joining' || status.joined.includes(this.#me.keyId)) {
      this.#log.log('debug', 'session_skipped', { session: id, state: status.state });
      return;
    }
    let terms: SessionTerms;
    try {
      terms = await this.#client.terms(id);
    } catch (error) {
      // Stopping (the call was cut short) or an outage: nothing is recorded, the proposal is judged later.
      if (isOutage(error) || this.#stop.signal.aborted) throw error;
      // The relay's word does not check out (a proposal not signed by its lab, not in the log): not acted on.
      const code = (error as { code?: string }).code ?? 'INTERNAL';
      this.metrics.error(code);
      this.#log.log('error', 'proposal_unverified', { session: id, code, error: (error as Error).message });
      await this.#state.record(
        id,
        { state: 'failed', at: this.#clock.now(), reason: `${code}: ${(error as Error).message}` },
        this.#clock.now(),
      );
      return;
    }
    const now = this.#clock.now();
    const judgement = judgeProposal(terms, {
      me: this.#me,
      accept: this.#config.accept,
      joinOwn: this.#config.joinOwn,
      sourced: new Set(this.#config.sources.keys()),
      now,
      joinsOf: (rule) => this.#state.joinsOf(rule),
    });
    const fields = { session: id, proposer: proposerOf(terms), kinds: terms.kinds, policy: policyText(terms) };
    if (judgement.join) {
      this.metrics.proposal(false);
      await this.#state.record(id, { state: 'joined', at: now, rule: judgement.rule }, now);
      this.#log.log('info', 'session_accepted', {
        ...fields,
        rule: judgement.rule === 'own' ? 'own' : judgement.rule + 1,
      });
      this.#enqueue(id, terms);
    } else if ('ignore' in judgement) {
      await this.#state.record(id, { state: 'ignored', at: now }, now);
      this.#log.log('info', 'session_ignored', {
        ...fields,
        why: terms.labs.some((l) => l.keyId === this.#me.keyId)
          ? 'its own proposal, left to its engineers (join_own is false, or a kind has no source)'
          : 'the session does not name this lab',
      });
    } else {
      this.metrics.proposal(true);
      await this.#decline(id, judgement.reason, fields);
    }
  }

  /** Declines: recorded, then the abort sent with the reason (one not sent is sent again after the next list). */
  async #decline(
    id: string,
    reason: string,
    fields: Record<string, string | readonly string[]>,
    detail?: string,
  ): Promise<void> {
    const now = this.#clock.now();
    const text = `declined by ${this.#me.lab}'s agent: ${reason}`;
    await this.#state.record(id, { state: 'declined', at: now, reason: text, unsent: true }, now);
    this.#log.log('warn', 'session_declined', { ...fields, session: id, reason, detail });
    this.metrics.ended('declined');
    await this.#sendDecline(id, text, now);
  }

  async #sendDecline(id: string, text: string, at: number): Promise<void> {
    try {
      await this.#client.abort(id, text);
    } catch (error) {
      if (!(error instanceof ClientError && error.code === 'SESSION_FINISHED')) {
        if (this.#stop.signal.aborted) return; // sent at the next start
        const code = (error as { code?: string }).code ?? 'INTERNAL';
        this.metrics.error(code);
        this.#log.log('error', 'decline_not_sent', { session: id, code, error: (error as Error).message });
        if (isOutage(error)) return; // sent again once the relay answers
      }
    }
    await this.#state.record(id, { state: 'declined', at, reason: text }, this.#clock.now());
  }

  /** The declines an outage kept from the relay, sent again. */
  async #resendDeclines(): Promise<void> {
    for (const [id, record] of this.#state.unsentDeclines()) {
      if (this.#stop.signal.aborted) return;
      await this.#sendDecline(id, record.reason ?? 'declined', record.at);
    }
  }

  #enqueue(id: string, terms?: SessionTerms): void {
    if (this.#running.has(id) || this.#queue.some((q) => q.id === id)) return;
    this.#queue.push({ id, ...(terms !== undefined && { terms }) });
    this.metrics.gauge('queued', 1);
    if (this.#running.size >= this.#config.maxSessions) {
      this.#log.log('info', 'session_queued', { session: id, running: this.#running.size });
    }
    this.#pump();
  }

  /** Starts queued sessions while fewer than `max_sessions` run. */
  #pump(): void {
    while (!this.#stop.signal.aborted && this.#running.size < this.#config.maxSessions && this.#queue.length > 0) {
      const next = this.#queue.shift() as { id: string; terms?: SessionTerms };
      this.metrics.gauge('queued', -1);
      this.metrics.gauge('running', 1);
      const task = this.#runTask(next.id, next.terms)
        .catch((error: unknown) => this.#fatal('session', error))
        .finally(() => {
          this.#running.delete(next.id);
          this.metrics.gauge('running', -1);
          this.#pump();
          // Idle again: the sessions' memory goes back before the agent waits (it may wait for days).
          if (this.#running.size === 0) collectGarbage();
        });
      this.#running.set(next.id, task);
    }
  }

  async #runTask(id: string, given?: SessionTerms): Promise<void> {
    const signal = this.#stop.signal;
    const stateDir = join(this.#options.stateDir, 'sessions');
    let ending: Ending;
    try {
      const resuming = await new LabStateStore(join(stateDir, `${id}.state`)).exists();
      // Terms read again unless just judged: a resumed or set-aside session's status has moved on.
      const terms = given ?? (await this.#client.terms(id));
      ending = await runSessionTask(terms, resuming, {
        config: this.#config,
        stateDir: this.#options.stateDir,
        clock: this.#clock,
        log: this.#log,
        metrics: this.metrics,
        signal,
        connect: (extra) =>
          this.#options.connect({
            ...extra,
            stateDir,
            signal,
            retry: {
              maxElapsedMs: this.#config.retryMs,
              onRetry: (info) => this.#log.log('warn', 'relay_retry', { session: id, ...info }),
            },
          }),
        ...(this.#options.webhookSecret !== undefined && { webhookSecret: this.#options.webhookSecret }),
      });
    } catch (error) {
      ending = signal.aborted
        ? { outcome: 'stopped' }
        : isOutage(error)
          ? { outcome: 'set-aside', reason: (error as Error).message }
          : error instanceof ClientError && error.code === 'SESSION_FINISHED'
            ? { outcome: 'aborted', reason: error.message }
            : {
                outcome: 'failed',
                code: (error as { code?: string }).code ?? 'INTERNAL',
                reason: (error as Error).message,
              };
    }
    await this.#settle(id, ending);
  }

  /** What a task's ending leaves: a record, a log line, and for an outage a later try. */
  async #settle(id: string, ending: Ending): Promise<void> {
    const now = this.#clock.now();
    if (ending.outcome !== 'set-aside' && this.#setAside.delete(id)) this.metrics.gauge('set_aside', -1);
    switch (ending.outcome) {
      case 'delivered':
        await this.#state.record(
          id,
          { state: 'delivered', at: now, ...(ending.undelivered.length > 0 && { undelivered: ending.undelivered }) },
          now,
        );
        this.#log.log('info', 'session_delivered', {
          session: id,
          shared: ending.shared,
          undelivered: ending.undelivered,
        });
        this.metrics.ended('delivered');
        return;
      case 'aborted':
        await this.#state.record(id, { state: 'aborted', at: now, reason: ending.reason }, now);
        this.#log.log('warn', 'session_aborted', { session: id, reason: ending.reason });
        this.metrics.ended('aborted');
        return;
      case 'declined':
        await this.#decline(id, ending.reason, {}, ending.detail);
        return;
      case 'failed':
        await this.#state.record(id, { state: 'failed', at: now, reason: `${ending.code}: ${ending.reason}` }, now);
        this.#log.log('error', 'session_failed', { session: id, code: ending.code, error: ending.reason });
        this.metrics.ended('failed');
        this.metrics.error(ending.code);
        return;
      case 'stopped':
        this.#log.log('info', 'session_checkpointed', { session: id });
        return;
      case 'set-aside': {
        const times = (this.#setAside.get(id) ?? 0) + 1;
        if (times === 1) this.metrics.gauge('set_aside', 1);
        this.#setAside.set(id, times);
        const delay = backoffDelay(times, { firstMs: 30_000, maxMs: 10 * 60_000 });
        this.#log.log('warn', 'session_set_aside', { session: id, reason: ending.reason, retry_in_ms: delay });
        this.#clock.sleep(delay, this.#stop.signal).then(
          () => {
            if (!this.#stop.signal.aborted) this.#enqueue(id);
          },
          () => {},
        );
      }
    }
  }

  /** One schedule: each slot's proposal made once (the slot recorded first). */
  async #schedule(schedule: AgentConfig['schedules'][number]): Promise<void> {
    await runSchedule({
      expression: schedule.cron,
      timezone: schedule.timezone,
      catchUpMs: schedule.catchUpMs,
      clock: this.#clock,
      signal: this.#stop.signal,
      ...(this.#state.lastFired(schedule.name) !== undefined && {
        lastFired: this.#state.lastFired(schedule.name) as number,
      }),
      fire: async (slot) => {
        await this.#state.fired(schedule.name, slot);
        const now = this.#clock.now();
        try {
          const session = await this.#client.createSession({
            labs: schedule.labs,
            kinds: schedule.kinds,
            policy: parseRevealPolicyText(schedule.reveal),
            maxItemsPerKind: schedule.maxItems,
            deadline: now + schedule.deadlineMs,
            ...(schedule.joinMs !== undefined && { joinBy: now + Math.min(schedule.joinMs, schedule.deadlineMs) }),
            ...(schedule.proofs !== undefined && { proofs: schedule.proofs }),
          });
          this.metrics.fired();
          this.#log.log('info', 'schedule_fired', {
            schedule: schedule.name,
            session,
            slot: new Date(slot).toISOString(),
          });
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'INTERNAL';
          this.metrics.error(code);
          this.#log.log('error', 'schedule_failed', { schedule: schedule.name, code, error: (error as Error).message });
        }
      },
    });
  }

  /** What the agent cannot carry on after (its state cannot be written): logged, and the agent stops. */
  #fatal(where: string, error: unknown): void {
    if (this.#stop.signal.aborted) return;
    const code = (error as { code?: string }).code ?? 'INTERNAL';
    this.metrics.error(code);
    this.#log.log('error', 'agent_failed', { doing: where, code, error: (error as Error).message });
    void this.stop();
  }

  #relayAnswered(): void {
    if (this.#relayDownSince !== undefined) {
      this.#log.log('info', 'relay_reachable', { down_ms: this.#clock.now() - this.#relayDownSince });
      this.#relayDownSince = undefined;
    }
    this.metrics.relay(true);
  }

  async #backOff(what: string, error: unknown, failures: number): Promise<void> {
    const code = (error as { code?: string }).code ?? 'INTERNAL';
    const delay = backoffDelay(failures, this.#options.backoff ?? DEFAULT_BACKOFF);
    if (isOutage(error)) {
      this.#relayDownSince ??= this.#clock.now();
      this.metrics.relay(false);
      this.#log.log('warn', 'relay_unreachable', {
        doing: what,
        code,
        error: (error as Error).message,
        retry_in_ms: delay,
      });
    } else {
      this.metrics.error(code);
      this.#log.log('error', 'agent_error', { doing: what, code, error: (error as Error).message, retry_in_ms: delay });
    }
    await this.#clock.sleep(delay, this.#stop.signal).catch(() => {});
  }
}

/** Connects, waiting out an outage of the relay with backoff (a key not enrolled, or trust roots that differ, are final). */
async function connectWaiting(
  options: AgentOptions,
  clock: Clock,
  log: AgentLog,
  signal: AbortSignal,
): Promise<{ client: OverlapClient; me: { keyId: string; lab: string } }> {
  for (let failures = 1; ; failures++) {
    try {
      // Few retries inside a call: the agent backs off on its own clock between its calls.
      const client = await options.connect({ signal, retry: { attempts: 3, maxDelayMs: 2_000 } });
      for (const warning of client.trustWarnings) log.log('warn', 'trust_warning', { warning });
      const me = await client.me();
      return { client, me: { keyId: me.keyId, lab: me.lab } };
    } catch (error) {
      if (signal.aborted || !isOutage(error)) throw error;
      const delay = backoffDelay(failures, options.backoff ?? DEFAULT_BACKOFF);
      log.log('warn', 'relay_unreachable', {
        doing: 'start',
        code: (error as ClientError).code,
        error: (error as Error).message,
        retry_in_ms: delay,
      });
      await clock.sleep(delay, signal);
    }
  }
}

function isOutage(error: unknown): boolean {
  return error instanceof ClientError && (error.code === 'RELAY_UNREACHABLE' || error.code === 'RELAY_UNAVAILABLE');
}

/** Exponential backoff with ±20% jitter: first, 2×first, … up to max. */
export function backoffDelay(failures: number, bounds: { firstMs: number; maxMs: number }): number {
  const base = Math.min(bounds.maxMs, bounds.firstMs * 2 ** Math.min(30, failures - 1));
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

function proposerOf(terms: SessionTerms): string {
  return terms.labs.find((l) => l.keyId === terms.proposer)?.lab ?? terms.proposer;
}

function policyText(terms: SessionTerms): string {
  return terms.policy.kind === 'threshold' ? `threshold:${terms.policy.t}` : terms.policy.kind;
}
