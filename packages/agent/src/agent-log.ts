/**
 * The agent's structured log: one JSON object per line (`time`, `level`, `event`, then the event's
 * fields), for journald, Loki or a file. Events carry session ids, lab names, kinds, counts,
 * durations and error codes; never an indicator value, a key, a webhook's secret or a command's
 * output (a source command's stderr may quote the data it read: only its size and exit status are
 * logged).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined | readonly string[]>>;

export interface AgentLog {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A log that writes JSON lines to `write` (stderr by default), from `level` up. */
export function jsonLog(
  options: { write?: (line: string) => void; level?: LogLevel; now?: () => number } = {},
): AgentLog {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const from = LEVELS.indexOf(options.level ?? 'info');
  const now = options.now ?? Date.now;
  return {
    log(level, event, fields = {}) {
      if (LEVELS.indexOf(level) < from) return;
      const record: Record<string, unknown> = { time: new Date(now()).toISOString(), level, event };
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
      write(`${JSON.stringify(record)}\n`);
    },
  };
}

/** A log that keeps every record in memory (tests). */
export function memoryLog(): AgentLog & { records: { level: LogLevel; event: string; fields: LogFields }[] } {
  const records: { level: LogLevel; event: string; fields: LogFields }[] = [];
  return { records, log: (level, event, fields = {}) => records.push({ level, event, fields }) };
}
