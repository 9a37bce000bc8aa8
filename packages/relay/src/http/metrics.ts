/**
 * The relay's metrics (`GET /metrics`, spec/relay-api.md §3) in the Prometheus text exposition
 * format (version 0.0.4): requests by route, method and status; errors by code; bytes in and out;
 * the log's size; sessions by state; whether the log is writable, and its failed writes; the
 * requests held by a long poll, by what they wait for.
 *
 * Labels never carry what a peer chose freely: the route is the template of the route table (or
 * `unmatched`), the method one node:http accepted, the code one of errors.ts. So a client cannot
 * grow the series without bound, and no session id or key id is published.
 */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  bytesIn = 0;
  bytesOut = 0;

  request(route: string, method: string, status: number): void {
    const key = `route="${route}",method="${method}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  error(code: string): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  render(gauges: {
    logSize: number;
    sessions: Record<string, number>;
    writable: boolean;
    /** Requests refused 429 by the key budget they were over (budgets.ts). */
    budgetRefusals: Record<string, number>;
    /** Group checks done on the worker threads, their time (ms), and checks waiting for a thread. */
    checks: { done: number; busyMs: number; waiting: number };
    storageFailures: number;
    /** Requests parked by a long poll (`wait`) of an inbox or of a session list (long-poll-waiters.ts). */
    longPolls: { inbox: number; sessions: number };
    /** Cosignatures collected and failed submissions, by witness name (the forum's configuration, not a peer's). */
    witnesses: { cosigned: ReadonlyMap<string, number>; failed: ReadonlyMap<string, number>; witnessedSize: number };
  }): string {
    const lines: string[] = [
      '# HELP overlap_relay_requests_total HTTP requests answered, by route template, method and status.',
      '# TYPE overlap_relay_requests_total counter',
      ...[...this.#requests].map(([labels, n]) => `overlap_relay_requests_total{${labels}} ${n}`),
      '# HELP overlap_relay_errors_total Error answers, by error code.',
      '# TYPE overlap_relay_errors_total counter',
      ...[...this.#errors].map(([code, n]) => `overlap_relay_errors_total{code="${code}"} ${n}`),
      '# HELP overlap_relay_bytes_in_total Request body bytes received.',
      '# TYPE overlap_relay_bytes_in_total counter',
      `overlap_relay_bytes_in_total ${this.bytesIn}`,
      '# HELP overlap_relay_bytes_out_total Response body bytes sent.',
      '# TYPE overlap_relay_bytes_out_total counter',
      `overlap_relay_bytes_out_total ${this.bytesOut}`,
      '# HELP overlap_relay_log_size Entries in the latest signed checkpoint.',
      '# TYPE overlap_relay_log_size gauge',
      `overlap_relay_log_size ${gauges.logSize}`,
      '# HELP overlap_relay_sessions Sessions, by state.',
      '# TYPE overlap_relay_sessions gauge',
      ...Object.entries(gauges.sessions).map(([state, n]) => `overlap_relay_sessions{state="${state}"} ${n}`),
      '# HELP overlap_relay_writable 1 when the last write to the log committed, 0 after a failed one.',
      '# TYPE overlap_relay_writable gauge',
      `overlap_relay_writable ${gauges.writable ? 1 : 0}`,
      '# HELP overlap_relay_storage_failures_total Writes to the log that failed (a full disk, an I/O error).',
      '# TYPE overlap_relay_storage_failures_total counter',
      `overlap_relay_storage_failures_total ${gauges.storageFailures}`,
      '# HELP overlap_relay_long_polls Requests held by a long poll (`wait`), by what they wait for.',
      '# TYPE overlap_relay_long_polls gauge',
      `overlap_relay_long_polls{read="inbox"} ${gauges.longPolls.inbox}`,
      `overlap_relay_long_polls{read="sessions"} ${gauges.longPolls.sessions}`,
      '# HELP overlap_relay_budget_refusals_total Requests refused 429 because their key was over a budget.',
      '# TYPE overlap_relay_budget_refusals_total counter',
      ...Object.entries(gauges.budgetRefusals).map(
        ([budget, n]) => `overlap_relay_budget_refusals_total{budget="${budget}"} ${n}`,
      ),
      '# HELP overlap_relay_group_checks_total Hop-proof and challenge checks run on the worker threads.',
      '# TYPE overlap_relay_group_checks_total counter',
      `overlap_relay_group_checks_total ${gauges.checks.done}`,
      '# HELP overlap_relay_group_check_seconds_total Time the worker threads spent on those checks.',
      '# TYPE overlap_relay_group_check_seconds_total counter',
      `overlap_relay_group_check_seconds_total ${(gauges.checks.busyMs / 1000).toFixed(3)}`,
      '# HELP overlap_relay_group_checks_waiting Checks waiting for a worker thread.',
      '# TYPE overlap_relay_group_checks_waiting gauge',
      `overlap_relay_group_checks_waiting ${gauges.checks.waiting}`,
      '# HELP overlap_relay_witness_cosignatures_total Cosignatures a witness returned and the relay verified.',
      '# TYPE overlap_relay_witness_cosignatures_total counter',
      ...[...gauges.witnesses.cosigned].map(
        ([w, n]) => `overlap_relay_witness_cosignatures_total{witness="${w}"} ${n}`,
      ),
      '# HELP overlap_relay_witness_failures_total Submissions to a witness that got no cosignature (down, refused, a bad answer).',
      '# TYPE overlap_relay_witness_failures_total counter',
      ...[...gauges.witnesses.failed].map(([w, n]) => `overlap_relay_witness_failures_total{witness="${w}"} ${n}`),
      '# HELP overlap_relay_witnessed_size Entries in the newest checkpoint a witness cosigned (0: none).',
      '# TYPE overlap_relay_witnessed_size gauge',
      `overlap_relay_witnessed_size ${gauges.witnesses.witnessedSize}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
