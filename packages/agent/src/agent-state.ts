/**
 * What an agent remembers across restarts, in `<state dir>/agent/` (0700): `agent.json` (0600,
 * replaced whole with @overlap/files' atomic write on every change) and the lock `agent.lock`
 * that keeps a second agent off the same state. Each session's own lab state (key, chain, outbox)
 * is the SDK's, in `<state dir>/sessions/<id>.state/`; this file says what the agent decided:
 *
 * - `cursor`: the log index from which the relay's session list is read next (each proposal has
 *   one; a restarted agent does not judge a proposal twice);
 * - `sessions`: per session, `joined` (being run: a restarted agent resumes it), `delivered`
 *   (results written to every destination that took them), `declined` (with the reason sent),
 *   `aborted` or `failed` (with why), `ignored` (its own lab's proposal, left to its engineers);
 * - `joins`: when each accept rule joined, for its sessions-per-day quota;
 * - `schedules`: the last slot each schedule fired.
 *
 * Decisions are recorded before they are acted on (a decline before the abort is sent, a join
 * before the run begins), so a kill -9 between the two repeats the action, never skips it.
 * Threat: a damaged or foreign file is refused (STATE_DAMAGED), never taken as "nothing decided":
 * that would judge every open proposal again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, FilesError, type HeldLock, makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { z } from 'zod';
import { AgentError } from './errors.js';

const FORMAT = 'overlap-agent-state/1';
const KEPT_SESSIONS = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

const sessionRecord = z.strictObject({
  state: z.enum(['joined', 'delivered', 'declined', 'aborted', 'failed', 'ignored']),
  /** When this state was recorded (ms). */
  at: z.number(),
  reason: z.string().optional(),
  /** The accept rule that joined it (its index), or `own`. */
  rule: z.union([z.int().min(0), z.literal('own')]).optional(),
  /** A decline whose abort has not reached the relay yet: sent again after the next list. */
  unsent: z.literal(true).optional(),
  /** Destinations that failed (the files were written): for an engineer to deliver again; not retried. */
  undelivered: z.array(z.string()).optional(),
});

const stateSchema = z.strictObject({
  format: z.literal(FORMAT),
  cursor: z.int().min(0),
  sessions: z.record(z.string().regex(/^[0-9a-f]{32}$/), sessionRecord),
  joins: z.record(z.string(), z.array(z.number())),
  schedules: z.record(z.string(), z.number()),
});

export type SessionRecord = z.infer<typeof sessionRecord>;
type StateFile = z.infer<typeof stateSchema>;

export class AgentState {
  readonly dir: string;
  readonly #file: string;
  readonly #lock: HeldLock;
  #state: StateFile;
  /** Writes, one after another: a change never overtakes an earlier one on disk. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(dir: string, lock: HeldLock, state: StateFile) {
    this.dir = dir;
    this.#file = join(dir, 'agent.json');
    this.#lock = lock;
    this.#state = state;
  }

  /** Opens (or starts) the agent's state in `<stateDir>/agent`, holding its lock. */
  static async open(stateDir: string): Promise<AgentState> {
    const dir = join(stateDir, 'agent');
    await makePrivateDirectory(dir);
    let lock: HeldLock;
    try {
      lock = await acquireLock(join(dir, 'agent.lock'), { what: "the agent's state" });
    } catch (cause) {
      if (cause instanceof FilesError && cause.code === 'LOCKED') {
        throw new AgentError('STATE_LOCKED', `another agent runs on ${dir}: ${cause.message}`, { cause });
      }
      throw cause;
    }
    try {
      return new AgentState(dir, lock, await readState(join(dir, 'agent.json')));
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get cursor(): number {
    return this.#state.cursor;
  }

  session(id: string): SessionRecord | undefined {
    return this.#state.sessions[id];
  }

  /** Declines recorded and not yet sent. */
  unsentDeclines(): [string, SessionRecord][] {
    return Object.entries(this.#state.sessions).filter(([, r]) => r.state === 'declined' && r.unsent === true);
  }

  /** The sessions in `state`, oldest record first. */
  sessionsIn(state: SessionRecord['state']): string[] {
    return Object.entries(this.#state.sessions)
      .filter(([, r]) => r.state === state)
      .sort(([, a], [, b]) => a.at - b.at)
      .map(([id]) => id);
  }

  counts(): Record<SessionRecord['state'], number> {
    const counts = { joined: 0, delivered: 0, declined: 0, aborted: 0, failed: 0, ignored: 0 };
    for (const r of Object.values(this.#state.sessions)) counts[r.state]++;
    return counts;
  }

  joinsOf(rule: number): readonly number[] {
    return this.#state.joins[String(rule)] ?? [];
  }

  lastFired(schedule: string): number | undefined {
    return this.#state.schedules[schedule];
  }

  async setCursor(cursor: number): Promise<void> {
    if (cursor <= this.#state.cursor) return;
    await this.#change((next) => {
      next.cursor = cursor;
    });
  }

  async record(id: string, record: SessionRecord, now: number): Promise<void> {
    await this.#change((next) => {
      next.sessions[id] = record;
      if (record.state === 'joined' && typeof record.rule === 'number') {
        const key = String(record.rule);
        next.joins[key] = [...(next.joins[key] ?? []).filter((t) => t > now - DAY_MS), now];
      }
      prune(next);
    });
  }

  async fired(schedule: string, slot: number): Promise<void> {
    await this.#change((next) => {
      next.schedules[schedule] = slot;
    });
  }

  async close(): Promise<void> {
    await this.#writing;
    await this.#lock.release();
  }

  /**
   * A change is made to a copy, written, and only then becomes the state: a write that fails leaves
   * the state as it was on disk (the caller's decision is not taken for made), and the next change
   * is tried afresh, not chained to the failure.
   */
  #change(edit: (next: StateFile) => void): Promise<void> {
    const write = async () => {
      const next = structuredClone(this.#state);
      edit(next);
      await writeFileAtomic(this.#file, `${JSON.stringify(next, null, 1)}\n`, { replace: true });
      this.#state = next;
    };
    const done = this.#writing.then(write);
    this.#writing = done.catch(() => {});
    return done;
  }
}

/** Keeps the newest finished records (a long-running agent's file stays small); running ones, and declines not yet sent, always stay. */
function prune(state: StateFile): void {
  const entries = Object.entries(state.sessions);
  if (entries.length <= KEPT_SESSIONS) return;
  const finished = entries
    .filter(([, r]) => r.state !== 'joined' && r.unsent !== true)
    .sort(([, a], [, b]) => a.at - b.at);
  for (const [id] of finished.slice(0, entries.length - KEPT_SESSIONS)) delete state.sessions[id];
}

async function readState(file: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      return { format: FORMAT, cursor: 0, sessions: {}, joins: {}, schedules: {} };
    }
    throw new AgentError('STATE_DAMAGED', `${file}: cannot be read (${(cause as Error).message})`, { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new AgentError('STATE_DAMAGED', `${file}: not JSON; it is not a state this agent wrote`, { cause });
  }
  const checked = stateSchema.safeParse(data);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new AgentError(
      'STATE_DAMAGED',
      `${file}: not an agent state of format ${FORMAT} (${issue?.path.join('.') || 'top level'}: ${issue?.message})`,
    );
  }
  return checked.data;
}
