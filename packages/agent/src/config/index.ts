/**
 * `@overlap/agent/config`: the `[agent]` table's schema and its reading, alone, for the CLI's
 * config file (config-file.ts reads it for every command: this entry loads no SDK, no worker
 * pool and no network code).
 */
export type {
  AcceptRule,
  AgentConfig,
  AgentSection,
  ResultsConfig,
  ScheduleConfig,
  SourceConfig,
} from '../agent-config.js';
export { agentConfigOf, agentSectionSchema } from '../agent-config.js';
export { checkCron, nextSlot, previousSlot } from '../schedule.js';
