/**
 * A lab that stops between its blind tasks and its proofs resumes from `state()` and the inputs it
 * kept (spec/protocol.md §5.2): the same key and coin, the digest of each answered task, and the
 * inputs archive are enough for proofs the relay verifies; and one that stops after its proofs
 * resumes without its key (erased) and still reads its results.
 */
import { describe, expect, test } from 'vitest';
import {
  InMemoryTagArchive,
  LabSession,
  type LabSessionOptions,
  type LabSessionState,
  runSessionInMemory,
  type SessionMessage,
} from '../src/index.js';
import { labIds, plaintextTruth, sortedResults } from './session.helpers.js';

const ids = labIds(3);
const labs = ids.map((keyId, i) => ({
  keyId,
  sets: { email: ['shared@example.com', `pair-${i % 2}@example.com`, `own-${i}@example.com`] },
}));
const proposal = { labs: ids, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 10 };

/** A lab process that stops when `stopAt` arrives and is resumed from its saved state by a new engine. */
function restarting(stopAt: SessionMessage['type']) {
  return class extends LabSession {
    readonly #options: LabSessionOptions;
    #resumed: LabSession | undefined;
    saved: LabSessionState | undefined;

    constructor(options: LabSessionOptions) {
      const inputs = new InMemoryTagArchive();
      super({ ...options, inputs });
      this.#options = { ...options, inputs };
    }

    override async receive(message: Parameters<LabSession['receive']>[0]): Promise<SessionMessage[]> {
      if (message.type === stopAt && this.#resumed === undefined) {
        // What a lab process writes to disk (JSON for the progress), then reads back in a new one.
        this.saved = this.state();
        const state = structuredClone(this.saved);
        this.dispose();
        this.#resumed = new LabSession({ ...this.#options, resume: state });
        state.key?.fill(0);
      }
      return this.#resumed ? this.#resumed.receive(message) : super.receive(message);
    }

    override get results() {
      return this.#resumed?.results ?? super.results;
    }

    override get done() {
      return this.#resumed?.done ?? super.done;
    }
  };
}

describe('a lab that stops mid-session resumes from its state', () => {
  test.each([
    ['before the challenge: it proves every task it answered with the key, coin and digests it kept', 'challenge'],
    ['after its proofs: without its key, it reads its results', 'result_rows'],
  ] as const)('%s', async (_label, stopAt) => {
    const Restarting = restarting(stopAt);
    let lab: InstanceType<typeof Restarting> | undefined;
    const run = await runSessionInMemory(proposal, labs, {
      createLab: (options) => {
        if (options.me !== ids[1]) return new LabSession(options);
        lab = new Restarting(options);
        return lab;
      },
    });
    expect(run.relay.state).toBe('done');
    const saved = lab?.saved as LabSessionState;
    expect(saved.answered).toHaveLength(2);
    expect(Object.keys(saved.digests).sort()).toEqual([...saved.answered].sort());
    expect(saved.proved).toBe(stopAt === 'result_rows');
    expect(saved.key === undefined).toBe(stopAt === 'result_rows');
    const truth = plaintextTruth(labs, ['email'], { kind: 'labs' });
    for (const id of ids) expect(sortedResults(run.results.get(id) ?? new Map())).toEqual(truth.get(id));
  });
});
