/**
 * The agent's metrics, in the Prometheus text exposition format (version 0.0.4), for `/metrics` on
 * its loopback listener (health-server.ts): sessions by state, sessions ended by outcome, items
 * read and hashed, hops answered, proofs sent, proposals seen and declined, schedule fires, relay
 * outages, and errors by code. Labels are closed sets (states, outcomes, error codes of this
 * project's error tables): no session id, lab name or value is ever a label.
 */
import type { LabProgress } from '@overlap/client';

export type SessionGauge = 'running' | 'queued' | 'set_aside';

export class AgentMetrics {
  readonly #gauges: Record<SessionGauge, number> = { running: 0, queued: 0, set_aside: 0 };
  readonly #ended = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  #itemsRead = 0;
  #itemsHashed = 0;
  #hops = 0;
  #proposals = 0;
  #declined = 0;
  #fires = 0;
  #outages = 0;
  #relayUp = 0;
  readonly #started: number;

  constructor(now: number) {
    this.#started = now;
  }

  gauge(name: SessionGauge, delta: number): void {
    this.#gauges[name] += delta;
  }

  ended(outcome: string): void {
    this.#ended.set(outcome, (this.#ended.get(outcome) ?? 0) + 1);
  }

  error(code: string): void {
    // The code is an error class's closed `code`; anything else is counted as `INTERNAL`.
    const label = /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'INTERNAL';
    this.#errors.set(label, (this.#errors.get(label) ?? 0) + 1);
  }

  itemsRead(n: number): void {
    this.#itemsRead += n;
  }

  proposal(declined: boolean): void {
    this.#proposals++;
    if (declined) this.#declined++;
  }

  fired(): void {
    this.#fires++;
  }

  relay(up: boolean): void {
    if (!up && this.#relayUp === 1) this.#outages++;
    this.#relayUp = up ? 1 : 0;
  }

  get relayUp(): boolean {
    return this.#relayUp === 1;
  }

  progress(event: LabProgress): void {
    if (event.phase === 'hashing') this.#itemsHashed += event.items;
    if (event.phase === 'blinding') this.#hops++;
  }

  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
      lines.push(`# HELP overlap_agent_${name} ${help}`, `# TYPE overlap_agent_${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`overlap_agent_${name}${labels} ${value}`);
    };
    metric(
      'sessions',
      'gauge',
      'Sessions the agent is running, waiting for a worker slot, or has set aside until the relay answers.',
      Object.entries(this.#gauges).map(([state, n]) => [`{state="${state}"}`, n]),
    );
    metric(
      'sessions_ended_total',
      'counter',
      'Sessions ended, by outcome (delivered, aborted, declined, failed).',
      [...this.#ended].map(([outcome, n]) => [`{outcome="${outcome}"}`, n]),
    );
    metric('proposals_total', 'counter', 'Proposals naming this lab that the agent judged.', [['', this.#proposals]]);
    metric('proposals_declined_total', 'counter', 'Proposals the agent declined.', [['', this.#declined]]);
    metric('items_read_total', 'counter', 'Suspect values read from the sources.', [['', this.#itemsRead]]);
    metric('items_hashed_total', 'counter', "Values hashed and blinded as this lab's own sets.", [
      ['', this.#itemsHashed],
    ]);
    metric('hops_answered_total', 'counter', "Blind tasks answered (other labs' chunks blinded).", [['', this.#hops]]);
    metric('schedule_fires_total', 'counter', 'Scheduled proposals made.', [['', this.#fires]]);
    metric('relay_up', 'gauge', 'Whether the relay answered the last request (1) or not (0).', [['', this.#relayUp]]);
    metric('relay_outages_total', 'counter', 'Times the relay stopped answering.', [['', this.#outages]]);
    metric(
      'errors_total',
      'counter',
      'Errors, by code.',
      [...this.#errors].map(([code, n]) => [`{code="${code}"}`, n]),
    );
    metric('start_time_seconds', 'gauge', 'When the agent started (Unix time).', [
      ['', Math.floor(this.#started / 1000)],
    ]);
    return `${lines.join('\n')}\n`;
  }
}
