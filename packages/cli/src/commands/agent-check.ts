/**
 * What `overlap agent check-config` checks, and what `overlap agent` checks before it starts:
 * everything the agent's config names that can be known without the relay — the trust roots are
 * configured (an agent never pins on first use), the key file and every source file or directory
 * can be read, every program can be found, the results directory can be made, the webhook's key
 * and CA can be read, every schedule's policy parses and its kinds have sources. And a summary of
 * what the agent will do, with each schedule's next slot.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { readWebhookSecret } from '@overlap/agent';
import { type AgentConfig, nextSlot } from '@overlap/agent/config';
import { parseRevealPolicyText } from '@overlap/protocol';
import { osReason } from '../config-file.js';
import { SETTINGS, type Settings } from '../settings.js';

export async function agentProblems(settings: Settings, config: AgentConfig): Promise<string[]> {
  const problems: string[] = [];
  if (settings.get(SETTINGS.logKey) === undefined || settings.get(SETTINGS.adminPublicKey) === undefined) {
    problems.push('trust.log_key and trust.admin_key must be configured: an agent does not trust a relay on first use');
  }
  const key = settings.get(SETTINGS.key);
  if (key === undefined) problems.push('no key file: set key in the config file');
  else await readable(key, 'key', problems);
  for (const [kind, source] of config.sources) {
    const where = `agent.sources.${kind}`;
    if (source.type === 'file') await readable(source.path, `${where}.file`, problems);
    else if (source.type === 'newest') await directory(source.dir, `${where}.dir`, problems);
    else await program(source.argv[0] as string, source.cwd, `${where}.command`, problems);
  }
  await creatable(config.results.dir, 'agent.results.dir', problems);
  const { webhook, command } = config.results;
  if (webhook !== undefined) {
    try {
      (await readWebhookSecret(webhook)).fill(0);
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (webhook.caFile !== undefined) await readable(webhook.caFile, 'agent.results.webhook.ca_file', problems);
  }
  if (command !== undefined) await program(command.argv[0] as string, command.cwd, 'agent.results.command', problems);
  for (const [i, schedule] of config.schedules.entries()) {
    const where = `agent.schedule[${i}] (${schedule.name})`;
    try {
      parseRevealPolicyText(schedule.reveal);
    } catch (error) {
      problems.push(`${where}.reveal: ${(error as Error).message}`);
    }
    const unsourced = schedule.kinds.filter((kind) => !config.sources.has(kind));
    if (unsourced.length > 0)
      problems.push(`${where}: no source for kind ${unsourced.join(', ')} (its own session would be declined)`);
  }
  return problems;
}

/** What the agent will do, for people (`lines`) and programs (the rest). */
export function describeAgent(config: AgentConfig, now: number) {
  const schedules = config.schedules.map((s) => {
    const next = nextSlot(s.cron, s.timezone, now);
    return {
      name: s.name,
      cron: s.cron,
      timezone: s.timezone,
      labs: s.labs,
      kinds: s.kinds,
      next: next === undefined ? null : new Date(next).toISOString(),
    };
  });
  const accept = config.accept.map((r) => ({
    from: r.from,
    kinds: r.kinds,
    policies: r.policies,
    max_items_per_kind: r.maxItemsPerKind,
    sessions_per_day: r.sessionsPerDay,
  }));
  const sources = Object.fromEntries(
    [...config.sources].map(([kind, s]) => [
      kind,
      s.type === 'file'
        ? `file ${s.path}`
        : s.type === 'newest'
          ? `newest in ${s.dir} matching ${s.pattern}`
          : `command ${s.argv.join(' ')} (timeout ${s.timeoutMs / 1000} s)`,
    ]),
  );
  const lines = [
    `runs at most ${config.maxSessions} session(s) at once; listener ${config.listen ? `${config.listen.host}:${config.listen.port}` : 'off'}`,
    config.joinOwn ? "joins this lab's own proposals" : "leaves this lab's own proposals to its engineers",
    ...(accept.length === 0 ? ["accepts no other lab's proposals (no [[agent.accept]] rule)"] : []),
    ...accept.map(
      (r, i) =>
        `accept rule ${i + 1}: from ${r.from.join(', ')}; kinds ${r.kinds.join(', ')}; policies ${r.policies.join(', ')}; up to ${r.max_items_per_kind} items per kind; ${r.sessions_per_day} a day`,
    ),
    ...Object.entries(sources).map(([kind, s]) => `source of ${kind}: ${s}`),
    `results: ${config.results.formats.join(', ')} in ${config.results.dir}${config.results.webhook ? `; webhook ${new URL(config.results.webhook.url).origin}` : ''}${config.results.command ? `; command ${config.results.command.argv[0]}` : ''}`,
    ...schedules.map(
      (s) =>
        `schedule ${s.name}: ${s.cron} (${s.timezone}), labs ${s.labs.join(', ')}, kinds ${s.kinds.join(', ')}; next ${s.next ?? 'never'}`,
    ),
  ];
  return { lines, accept, sources, results: config.results.dir, schedules };
}

async function readable(path: string, what: string, problems: string[]): Promise<void> {
  await access(path, constants.R_OK).catch((cause) =>
    problems.push(`${what}: cannot read ${path}: ${osReason(cause)}`),
  );
}

async function directory(path: string, what: string, problems: string[]): Promise<void> {
  try {
    if (!(await stat(path)).isDirectory()) problems.push(`${what}: ${path} is not a directory`);
    await access(path, constants.R_OK | constants.X_OK);
  } catch (cause) {
    problems.push(`${what}: cannot read ${path}: ${osReason(cause)}`);
  }
}

/** The results directory exists as a directory, or its nearest existing parent lets it be made. */
async function creatable(path: string, what: string, problems: string[]): Promise<void> {
  let at = path;
  for (;;) {
    try {
      const info = await stat(at);
      if (!info.isDirectory()) problems.push(`${what}: ${at} is not a directory`);
      else
        await access(at, constants.W_OK | constants.X_OK).catch(() => problems.push(`${what}: cannot write in ${at}`));
      return;
    } catch {
      if (dirname(at) === at) return;
      at = dirname(at);
    }
  }
}

/** A program named with a path must exist and be executable; a bare name must be on $PATH. */
async function program(name: string, cwd: string, what: string, problems: string[]): Promise<void> {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : join(cwd, name)]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return;
  }
  problems.push(`${what}: ${name} ${name.includes('/') ? 'is not an executable file' : 'is not found on $PATH'}`);
}
