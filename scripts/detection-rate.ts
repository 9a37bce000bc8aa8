/**
 * Measures how often `spot` mode catches a hop that substitutes a few tags of a chunk
 * (spec/protocol.md §5.2), next to the formula 1 − C(n−m, S)/C(n, S) with S = min(n, 135).
 *
 *   pnpm -s exec tsx --conditions=@overlap/source scripts/detection-rate.ts [RUNS] [TAGS]
 *
 * Each run is a whole in-memory session of two labs: a's set of TAGS items (default 4096, one
 * chunk) goes to b for hop 1, and b replaces m of its output tags — 1% and 5% of the chunk — with
 * fresh points of G (so no check but the proof can see them). A run counts as caught when the
 * relay aborts naming b; the only other outcome allowed is a session that ends `done` (the
 * substitution escaped the sample). RUNS (default 100; about a second of CPU each) runs per rate.
 */
import '@overlap/crypto/node';
import { hashToGroup } from '@overlap/crypto';
import { type BlindTask, LabSession, type LabSessionOptions, runSessionInMemory, TAG_LENGTH } from '@overlap/protocol';

const SPOT_POSITIONS = 135;
const runs = Number(process.argv[2] ?? 100);
const n = Number(process.argv[3] ?? 4096);
const ids = ['1', '2'].map((d) => d.padStart(32, '0')) as [string, string];
const [a, b] = ids;

/** 1 − C(n−m, S)/C(n, S): the chance that S distinct positions of n hit one of m. */
function expectedRate(total: number, corrupted: number, sample: number): number {
  let escapes = 1;
  for (let i = 0; i < sample; i++) escapes *= (total - corrupted - i) / (total - i);
  return 1 - Math.max(0, escapes);
}

/** b, replacing `m` random positions of its hop-1 outputs on a's set with fresh points of G. */
function substituting(m: number) {
  return class extends LabSession {
    protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
      const outputs = await super.blindChunk(task);
      if (task.owner !== a) return outputs;
      const count = outputs.length / TAG_LENGTH;
      const chosen = new Set<number>();
      const random = new Uint32Array(1);
      while (chosen.size < m) chosen.add((globalThis.crypto.getRandomValues(random)[0] as number) % count);
      for (const i of chosen) outputs.set(hashToGroup('email', `fresh-${globalThis.crypto.randomUUID()}`), i * 32);
      return outputs;
    }
  };
}

async function measure(m: number): Promise<{ caught: number; ms: number }> {
  const Cheat = substituting(m);
  const createLab = (options: LabSessionOptions) => (options.me === b ? new Cheat(options) : new LabSession(options));
  const sets = [
    { keyId: a, sets: { email: Array.from({ length: n }, (_, i) => `item-${i}@example.com`) } },
    { keyId: b, sets: { email: ['b-only@example.com'] } },
  ];
  const proposal = {
    labs: ids,
    kinds: ['email'],
    policy: { kind: 'count' },
    maxItemsPerKind: n,
    chunkSize: Math.min(n, 65_536),
  };
  let caught = 0;
  const started = performance.now();
  for (let run = 0; run < runs; run++) {
    const { relay } = await runSessionInMemory(proposal, sets, { createLab });
    if (relay.state === 'aborted' && relay.abortReason?.culprit === b) caught++;
    else if (relay.state !== 'done')
      throw new Error(`run ${run}: the session ended ${relay.state} (${relay.abortReason?.reason})`);
  }
  return { caught, ms: performance.now() - started };
}

console.log(
  `spot mode, one chunk of n = ${n} tags, S = ${Math.min(n, SPOT_POSITIONS)} proven positions, ${runs} runs per rate`,
);
for (const percent of [1, 5]) {
  const m = Math.round((n * percent) / 100);
  const { caught, ms } = await measure(m);
  const rate = caught / runs;
  // A 95% interval for the measured rate (Wilson), to read the agreement with the formula by.
  const z = 1.96;
  const centre = (rate + (z * z) / (2 * runs)) / (1 + (z * z) / runs);
  const half = (z * Math.sqrt((rate * (1 - rate)) / runs + (z * z) / (4 * runs * runs))) / (1 + (z * z) / runs);
  console.log(
    `${percent}% (m = ${m}): measured ${rate.toFixed(3)} (${caught}/${runs}, 95% interval ${(centre - half).toFixed(3)}–${(centre + half).toFixed(3)}); formula 1 − C(n−m,S)/C(n,S) = ${expectedRate(n, m, Math.min(n, SPOT_POSITIONS)).toFixed(4)}; ${(ms / runs).toFixed(0)} ms per run`,
  );
}
