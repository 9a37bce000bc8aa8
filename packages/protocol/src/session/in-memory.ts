/**
 * Runs a whole session in one process, with the relay and every lab as engines and messages passed
 * in memory: what the tests, the benchmark and the smallest examples use. Every message the relay
 * receives is recorded (for leakage tests), and the time of each phase is measured.
 */
import type { BackendPreference, BatchPool } from '@overlap/crypto';
import { type LabResult, LabSession } from './lab-session.js';
import type { SessionMessage } from './messages.js';
import { RelaySession } from './relay-session.js';

export interface InMemoryLab {
  keyId: string;
  sets: Record<string, readonly string[]>;
}

export interface InMemoryOptions {
  pool?: BatchPool;
  backend?: BackendPreference;
  chunkSize?: number;
  /** Called with every message the relay receives (from which lab). */
  onRelayReceives?: (from: string, message: SessionMessage) => void;
  /** Called with every message the relay sends (to which lab). */
  onRelaySends?: (to: string, message: SessionMessage) => void;
}

export interface InMemoryRun {
  results: Map<string, ReadonlyMap<string, LabResult[]>>;
  relay: RelaySession;
  labs: LabSession[];
  /** Milliseconds: labs hashing and uploading their own sets; the blinding hops; matching. */
  phases: { upload: number; hops: number; results: number };
}

export async function runSessionInMemory(
  proposal: unknown,
  labs: readonly InMemoryLab[],
  options: InMemoryOptions = {},
): Promise<InMemoryRun> {
  const relay = new RelaySession(proposal);
  const sessions = labs.map(
    (lab) =>
      new LabSession({
        me: lab.keyId,
        proposal,
        sets: lab.sets,
        ...(options.pool && { pool: options.pool }),
        ...(options.backend && { backend: options.backend }),
        ...(options.chunkSize && { chunkSize: options.chunkSize }),
      }),
  );
  const byId = new Map(sessions.map((s) => [s.me, s]));
  const queue: { from: string; message: SessionMessage }[] = [];
  const phases = { upload: 0, hops: 0, results: 0 };

  let started = performance.now();
  for (const session of sessions) {
    for (const message of await session.start()) queue.push({ from: session.me, message });
  }
  phases.upload = performance.now() - started;

  started = performance.now();
  let resultsStarted: number | undefined;
  while (queue.length > 0) {
    const { from, message } = queue.shift() as { from: string; message: SessionMessage };
    options.onRelayReceives?.(from, message);
    for (const { to, message: out } of relay.receive(from, message)) {
      options.onRelaySends?.(to, out);
      if (out.type === 'result_rows' && resultsStarted === undefined) resultsStarted = performance.now();
      const lab = byId.get(to);
      if (!lab) continue;
      for (const reply of await lab.receive(out)) queue.push({ from: to, message: reply });
    }
    if (relay.state === 'aborted' || relay.state === 'done') break;
  }
  const ended = performance.now();
  phases.hops = (resultsStarted ?? ended) - started;
  phases.results = ended - (resultsStarted ?? ended);
  for (const session of sessions) session.dispose();
  return { results: new Map(sessions.map((s) => [s.me, s.results])), relay, labs: sessions, phases };
}
