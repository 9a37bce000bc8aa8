/**
 * `overlap agent`: the lab's always-on agent (@overlap/agent), configured by the `[agent]` table of
 * its `overlap.toml` (docs/agent.md is the reference), beside the lab's relay, key, state
 * directory and `[trust]` roots.
 *
 *   overlap agent [--config FILE] [--state-dir DIR]    run until SIGTERM or SIGINT (exit 0)
 *   overlap agent check-config [--config FILE] [--json] check everything the agent will use, run nothing
 *
 * The agent refuses to start without configured trust roots (`trust.log_key`, `trust.admin_key`):
 * an unattended process must not pin what a relay announces on first use. Its log is JSON lines
 * on stderr; SIGTERM (or SIGINT) interrupts running sessions where they are, keeps their state,
 * and exits 0 once every file is closed; the next start resumes them.
 */
import { join } from 'node:path';
import { Agent, type AgentConfig, AgentError, agentConfigOf, jsonLog, readWebhookSecret } from '@overlap/agent';
import { OverlapClient } from '@overlap/client';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { ProgramIo } from '../io.js';
import { addLabOptions, labClientOptions, sdkCall } from '../lab-context.js';
import { readSettings, SETTINGS, type Settings } from '../settings.js';
import { agentProblems, describeAgent } from './agent-check.js';

export function addAgentCommands(program: Command, io: ProgramIo): void {
  const agent = addLabOptions(program.command('agent'))
    .description(
      "run this lab's agent: join the sessions its [agent] policy allows, deliver results, propose schedules",
    )
    .action((flags: Record<string, unknown>) => runAgent(flags, io));
  addLabOptions(agent.command('check-config'))
    .description(
      'check the [agent] table and everything it names (sources, results, webhook key, trust roots); run nothing',
    )
    .option('--json', 'print {file, agent, problems} as JSON')
    .action((_flags: Record<string, unknown>, command: Command) => checkAgentConfig(command.optsWithGlobals(), io));
}

/** The `[agent]` table as the agent runs it, or a usage error saying where to write it. */
export function agentConfigFrom(settings: Settings): AgentConfig {
  const loaded = settings.config;
  if (loaded?.agent === undefined) {
    throw new CliError(
      'USAGE',
      `no [agent] table in ${loaded?.path ?? 'the config file (give --config, set $OVERLAP_CONFIG, or create ./overlap.toml)'}: see docs/agent.md`,
    );
  }
  return agentConfigOf(loaded.agent, join(loaded.path, '..'));
}

async function runAgent(flags: Record<string, unknown>, io: ProgramIo): Promise<void> {
  const settings = await readSettings(flags);
  const config = agentConfigFrom(settings);
  const problems = await agentProblems(settings, config);
  if (problems.length > 0) throw new CliError('USAGE', `the agent cannot start: ${problems.join('; ')}`);
  const client = await labClientOptions(settings);
  // The webhook's key is read once, now (a missing one is said at start), and its variable leaves
  // the environment: no source or delivery command the agent runs inherits it.
  const webhook = config.results.webhook;
  const webhookKey = webhook === undefined ? undefined : await readWebhookSecret(webhook);
  if (webhook !== undefined && 'env' in webhook.secret) delete process.env[webhook.secret.env];
  const stop = new AbortController();
  const onSignal = (name: string) => () => {
    io.err(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'signal', signal: name })}\n`);
    stop.abort();
  };
  const term = onSignal('SIGTERM');
  const int = onSignal('SIGINT');
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  try {
    const agent = await sdkCall(() =>
      Agent.start(
        {
          config,
          stateDir: settings.require(SETTINGS.stateDir),
          connect: (extra) => OverlapClient.connect({ ...client, requirePinnedRoots: true, ...extra }),
          log: jsonLog({ level: config.logLevel, write: (line) => io.err(line) }),
          ...(webhookKey !== undefined && { webhookSecret: async () => Uint8Array.from(webhookKey) }),
        },
        stop.signal,
      ),
    );
    await agent.stopped;
  } catch (error) {
    if (stop.signal.aborted && !(error instanceof AgentError)) return;
    if (error instanceof AgentError)
      throw new CliError(error.code === 'BAD_CONFIG' ? 'USAGE' : 'FAILURE', error.message, { cause: error });
    throw error;
  } finally {
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
    client.keys.signing.secretKey.fill(0);
    webhookKey?.fill(0);
  }
}

async function checkAgentConfig(flags: Record<string, unknown>, io: ProgramIo): Promise<void> {
  const settings = await readSettings(flags);
  const config = agentConfigFrom(settings);
  const problems = await agentProblems(settings, config);
  const file = settings.config?.path ?? null;
  if (flags.json) {
    await io.out(`${JSON.stringify({ file, agent: describeAgent(config, Date.now()), problems })}\n`);
  } else {
    await io.out(`agent config in ${file}: ${problems.length === 0 ? 'ready' : `${problems.length} problem(s)`}\n`);
    for (const line of describeAgent(config, Date.now()).lines) await io.out(`  ${line}\n`);
    for (const problem of problems) await io.out(`problem: ${problem}\n`);
  }
  if (problems.length > 0) throw new CliError('DATA', `the agent's configuration has ${problems.length} problem(s)`);
}
