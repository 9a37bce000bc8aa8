export type { JudgeContext, Judgement } from './acceptance.js';
export { judgeProposal } from './acceptance.js';
export type { AgentOptions } from './agent.js';
export { Agent, backoffDelay } from './agent.js';
export type {
  AcceptRule,
  AgentConfig,
  AgentSection,
  ResultsConfig,
  ScheduleConfig,
  SourceConfig,
} from './agent-config.js';
export { agentConfigOf, agentSectionSchema } from './agent-config.js';
export type { AgentLog, LogFields, LogLevel } from './agent-log.js';
export { jsonLog, memoryLog } from './agent-log.js';
export { AgentMetrics } from './agent-metrics.js';
export type { SessionRecord } from './agent-state.js';
export { AgentState } from './agent-state.js';
export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export type { CommandDelivery, DeliverCommandOptions, DeliveryCommand } from './deliver-command.js';
export { deliverToCommand } from './deliver-command.js';
export type { DirectoryDeliveryOptions } from './deliver-directory.js';
export { deliverToDirectory } from './deliver-directory.js';
export type { WebhookDeliveryOptions, WebhookSpec } from './deliver-webhook.js';
export { checkWebhookUrl, deliverToWebhook, verifyWebhookSignature, webhookSignature } from './deliver-webhook.js';
export type { AgentErrorCode } from './errors.js';
export { AgentError } from './errors.js';
export type { Health, RunningHealthServer } from './health-server.js';
export { startHealthServer } from './health-server.js';
export type { DeliveryOutcome, DeliveryReport, ResultDestinations } from './result-delivery.js';
export { deliverResults } from './result-delivery.js';
export type { CommandFailureCode, CommandRun, RunCommandOptions } from './run-command.js';
export { commandEnvironment, runCommand } from './run-command.js';
export type { ScheduleRun } from './schedule.js';
export { checkCron, nextSlot, previousSlot, runSchedule } from './schedule.js';
export type { NamePattern } from './source-glob.js';
export { compileNamePattern } from './source-glob.js';
export type { ReadSourceOptions, SourceReading, SuspectSource } from './suspect-source.js';
export { describeSource, readSuspectSource } from './suspect-source.js';
export { readWebhookSecret } from './webhook-secret.js';
