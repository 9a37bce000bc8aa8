/**
 * The `[agent]` table of a lab's `overlap.toml`: what the lab's agent may join, where each kind's
 * suspects come from, where results go, which sessions it proposes on a schedule, and how it runs.
 * The schema is strict (a misspelt key is an error naming it, not a limit silently not applied);
 * `agentConfigOf` turns the checked table into the `AgentConfig` the agent runs with, paths
 * resolved against the config file's directory and durations in milliseconds.
 *
 * Threat: the config is the lab's whole say over what its agent shares unattended. Every limit has
 * a conservative default (proposals from no other lab are accepted until a rule names them), and
 * a kind is joined only with a source the lab configured for it.
 *
 * The relay, the key file, the state directory and the trust roots are the file's top-level
 * settings, shared with the other commands (the CLI reads them); this table holds the rest.
 */
import { resolve } from 'node:path';
import { IMPORT_FORMATS, type ImportFormat, INDICATOR_KIND_NAMES } from '@overlap/indicators';
import { z } from 'zod';
import { checkCron } from './schedule.js';

const text = z.string().min(1);
const kind = z.enum(INDICATOR_KIND_NAMES);
const labName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a lab name as enrolled (lowercase, digits, . _ -)');
const format = z.enum(IMPORT_FORMATS);
const argv = z.array(text).min(1, 'must name the program to run');
const seconds = z.number().positive().max(86_400);
const policyName = z.enum(['labs', 'count', 'threshold']);

const sourceSchema = z
  .object({
    /** A file, read as it is at each session. */
    file: text.optional(),
    /** The newest file in a directory whose name matches `pattern`. */
    dir: text.optional(),
    pattern: text.optional(),
    /** A program whose output (stdout) is the list; argv, no shell. */
    command: argv.optional(),
    timeout_seconds: seconds.optional(),
    /** The file's format (default: from its name, else its content). */
    format: format.optional(),
    /** The kind of records that name none (default: this source's kind). */
    kind: kind.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const given = [s.file !== undefined, s.dir !== undefined, s.command !== undefined].filter(Boolean).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of file, dir (with pattern), command' });
    if ((s.dir === undefined) !== (s.pattern === undefined))
      ctx.addIssue({ code: 'custom', message: 'dir and pattern go together' });
    if (s.pattern?.includes('/'))
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'matches file names: no "/"' });
    if (s.timeout_seconds !== undefined && s.command === undefined)
      ctx.addIssue({ code: 'custom', path: ['timeout_seconds'], message: 'only for a command source' });
  });

const acceptSchema = z
  .object({
    /** Proposers (lab names) this rule accepts; `"*"` for any enrolled lab. */
    from: z.array(z.union([labName, z.literal('*')])).min(1),
    /** Every kind of the session must be among these (and have a source). */
    kinds: z.array(kind).min(1),
    /** Reveal policies accepted (default: labs, count, threshold). */
    policies: z.array(policyName).min(1).optional(),
    /** For `threshold`, the smallest t accepted (default 2). */
    min_threshold: z.int().min(1).max(1024).optional(),
    /** The largest `maxItemsPerKind` accepted. */
    max_items_per_kind: z.int().min(1),
    /** Every lab of the session must be among these (default: any enrolled lab). */
    labs: z.array(labName).min(1).optional(),
    /** The session must leave at least this long, from the proposal's arrival, before its deadline (default 10). */
    min_deadline_minutes: z.number().positive().optional(),
    /** …and end within this (default 48 hours: the protocol's default deadline is 24). */
    max_deadline_minutes: z.number().positive().optional(),
    /** At most this many sessions joined by this rule in any 24 hours (default 24). */
    sessions_per_day: z.int().min(1).max(10_000).optional(),
  })
  .strict();

const scheduleSchema = z
  .object({
    /** A name for logs and the agent's state: unique among the schedules. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, _ or -'),
    /** When to propose: a cron expression (5 fields, or 6 with seconds first). */
    cron: text,
    /** The time zone the expression is read in (IANA name; default UTC). */
    timezone: text.optional(),
    labs: z.array(labName).min(2),
    kinds: z.array(kind).min(1),
    reveal: text,
    max_items: z.int().min(1),
    deadline_minutes: z.number().positive(),
    join_minutes: z.number().positive().optional(),
    proofs: z.enum(['spot', 'full']).optional(),
    /** A slot missed while the agent was down is still proposed at start if it passed less than this ago (default 60; 0: never). */
    catch_up_minutes: z.number().min(0).optional(),
  })
  .strict();

const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
    /** The environment variable holding the HMAC key (≥ 32 bytes, hex or text); or `secret_file`. */
    secret_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
    secret_file: text.optional(),
    /** Trust only this CA for the webhook (default: Node's roots and NODE_EXTRA_CA_CERTS). */
    ca_file: text.optional(),
    timeout_seconds: seconds.optional(),
    attempts: z.int().min(1).max(100).optional(),
  })
  .strict()
  .refine((w) => (w.secret_env === undefined) !== (w.secret_file === undefined), {
    message: 'give exactly one of secret_env, secret_file',
  });

export const agentSectionSchema = z
  .object({
    /** Sessions run at once; more wait their turn (default 2). */
    max_sessions: z.int().min(1).max(64).optional(),
    /** Hashing and blinding threads per session (default: the machine's cores). */
    workers: z.int().min(0).max(256).optional(),
    /** The loopback address of /healthz and /metrics, `host:port` (default 127.0.0.1:9464; "off" for none). */
    listen: text.optional(),
    log_level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
    /** How long one relay call waits out an outage before the session is set aside and retried (default 30). */
    retry_minutes: z.number().positive().optional(),
    /** Join the sessions this lab proposes (its schedules', its engineers') when it has sources for them (default true). */
    join_own: z.boolean().optional(),
    accept: z.array(acceptSchema).optional(),
    sources: z.partialRecord(kind, sourceSchema).optional(),
    results: z
      .object({
        dir: text,
        formats: z
          .array(z.enum(['jsonl', 'csv', 'stix']))
          .min(1)
          .optional(),
        csv_guard: z.enum(['formulas', 'none']).optional(),
        webhook: webhookSchema.optional(),
        command: z.object({ argv, timeout_seconds: seconds.optional() }).strict().optional(),
      })
      .strict(),
    schedule: z.array(scheduleSchema).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const names = new Set<string>();
    for (const [i, s] of (a.schedule ?? []).entries()) {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['schedule', i, 'name'], message: 'used twice' });
      names.add(s.name);
      const problem = checkCron(s.cron, s.timezone);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['schedule', i, 'cron'], message: problem });
    }
    if (a.listen !== undefined && a.listen !== 'off' && listenOf(a.listen) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['listen'], message: 'must be host:port on a loopback address, or "off"' });
    }
  });

export type AgentSection = z.infer<typeof agentSectionSchema>;

export type SourceConfig =
  | { type: 'file'; path: string; format?: ImportFormat; kind?: string }
  | { type: 'newest'; dir: string; pattern: string; format?: ImportFormat; kind?: string }
  | { type: 'command'; argv: string[]; timeoutMs: number; cwd: string; format?: ImportFormat; kind?: string };

export interface AcceptRule {
  from: readonly string[];
  kinds: readonly string[];
  policies: readonly ('labs' | 'count' | 'threshold')[];
  minThreshold: number;
  maxItemsPerKind: number;
  labs?: readonly string[];
  minDeadlineMs: number;
  maxDeadlineMs: number;
  sessionsPerDay: number;
}

export interface ScheduleConfig {
  name: string;
  cron: string;
  timezone: string;
  labs: string[];
  kinds: string[];
  reveal: string;
  maxItems: number;
  deadlineMs: number;
  joinMs?: number;
  proofs?: 'spot' | 'full';
  catchUpMs: number;
}

export interface ResultsConfig {
  dir: string;
  formats: ('jsonl' | 'csv' | 'stix')[];
  csvGuard: 'formulas' | 'none';
  webhook?: {
    url: string;
    secret: { env: string } | { file: string };
    caFile?: string;
    timeoutMs: number;
    attempts: number;
  };
  command?: { argv: string[]; timeoutMs: number; cwd: string };
}

/** What the agent runs with: every default applied, paths absolute, durations in ms. */
export interface AgentConfig {
  maxSessions: number;
  workers?: number;
  listen?: { host: string; port: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  retryMs: number;
  joinOwn: boolean;
  accept: AcceptRule[];
  sources: ReadonlyMap<string, SourceConfig>;
  results: ResultsConfig;
  schedules: ScheduleConfig[];
}

const MINUTE = 60_000;

/** The checked `[agent]` table as the agent runs it; `base` is the config file's directory. */
export function agentConfigOf(section: AgentSection, base: string): AgentConfig {
  const path = (p: string) => resolve(base, p);
  const sources = new Map<string, SourceConfig>();
  for (const [k, s] of Object.entries(section.sources ?? {})) {
    if (s === undefined) continue;
    const common = { ...(s.format !== undefined && { format: s.format }), kind: s.kind ?? k };
    if (s.file !== undefined) sources.set(k, { type: 'file', path: path(s.file), ...common });
    else if (s.dir !== undefined)
      sources.set(k, { type: 'newest', dir: path(s.dir), pattern: s.pattern as string, ...common });
    else {
      const timeoutMs = (s.timeout_seconds ?? 300) * 1000;
      sources.set(k, { type: 'command', argv: s.command as string[], timeoutMs, cwd: base, ...common });
    }
  }
  const { results } = section;
  const webhook = results.webhook;
  const listen = section.listen === 'off' ? undefined : listenOf(section.listen ?? '127.0.0.1:9464');
  return {
    maxSessions: section.max_sessions ?? 2,
    ...(section.workers !== undefined && { workers: section.workers }),
    ...(listen !== undefined && { listen }),
    logLevel: section.log_level ?? 'info',
    retryMs: (section.retry_minutes ?? 30) * MINUTE,
    joinOwn: section.join_own ?? true,
    accept: (section.accept ?? []).map((r) => ({
      from: r.from,
      kinds: r.kinds,
      policies: r.policies ?? ['labs', 'count', 'threshold'],
      minThreshold: r.min_threshold ?? 2,
      maxItemsPerKind: r.max_items_per_kind,
      ...(r.labs !== undefined && { labs: r.labs }),
      minDeadlineMs: (r.min_deadline_minutes ?? 10) * MINUTE,
      maxDeadlineMs: (r.max_deadline_minutes ?? 48 * 60) * MINUTE,
      sessionsPerDay: r.sessions_per_day ?? 24,
    })),
    sources,
    results: {
      dir: path(results.dir),
      formats: results.formats ?? ['jsonl'],
      csvGuard: results.csv_guard ?? 'formulas',
      ...(webhook !== undefined && {
        webhook: {
          url: webhook.url,
          secret:
            webhook.secret_env !== undefined
              ? { env: webhook.secret_env }
              : { file: path(webhook.secret_file as string) },
          ...(webhook.ca_file !== undefined && { caFile: path(webhook.ca_file) }),
          timeoutMs: (webhook.timeout_seconds ?? 30) * 1000,
          attempts: webhook.attempts ?? 8,
        },
      }),
      ...(results.command !== undefined && {
        command: { argv: results.command.argv, timeoutMs: (results.command.timeout_seconds ?? 300) * 1000, cwd: base },
      }),
    },
    schedules: (section.schedule ?? []).map((s) => ({
      name: s.name,
      cron: s.cron,
      timezone: s.timezone ?? 'UTC',
      labs: s.labs,
      kinds: s.kinds,
      reveal: s.reveal,
      maxItems: s.max_items,
      deadlineMs: s.deadline_minutes * MINUTE,
      ...(s.join_minutes !== undefined && { joinMs: s.join_minutes * MINUTE }),
      ...(s.proofs !== undefined && { proofs: s.proofs }),
      catchUpMs: (s.catch_up_minutes ?? 60) * MINUTE,
    })),
  };
}

/** `host:port` on a loopback address (the listener shows the agent's state: never on a public interface). */
function listenOf(text: string): { host: string; port: number } | undefined {
  const match = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}
