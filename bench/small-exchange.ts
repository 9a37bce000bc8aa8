/**
 * `pnpm bench small-exchange [N] [RUNS]`: `overlap simulate` for 2 labs × N e-mail indicators each
 * (default 10,000, 20% held by both) with the built CLI, RUNS times (default 5), against the crypto
 * floor measured in the same run, interleaved with the simulations so that both see the same load:
 * each lab's hash_to_group and blind of its own set, its hop over the other lab's set and its spot
 * proof of that hop, the two labs side by side on cores / labs worker threads each (at least one,
 * already started: the floor is the crypto on every core, whatever `simulate` chooses — on 2 cores
 * it hashes on each lab's main thread), then the relay's verification of both proofs. Worker
 * start-up is not in the floor: it is overhead.
 *
 * Prints the wall time, the floor, the overhead above it (target ≤ 1 s) and where the overhead
 * goes, from `simulate --json` (its timeline and each lab's start-up and phases); and the wall time
 * of `overlap --version` (target ≤ 150 ms) next to `node -e 0`'s. Medians, with the range.
 * OVERLAP_BENCH_NO_BUILD=1 skips the build (the dist/ folders must be current);
 * OVERLAP_BENCH_BASELINE=path/to/main.js also runs that CLI's `simulate` in each run, right after
 * this one's, for a before/after under the same load (only its wall time is read).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlindingKey,
  blindBatch,
  type HopProof,
  hashAndBlindBatch,
  type IndicatorInput,
  keyCommitment,
  proveHop,
  provenPositions,
  verifyHop,
} from '@overlap/crypto';
import { BatchPool } from '@overlap/crypto/node';

const line = (text: string) => process.stdout.write(`${text}\n`);
const N = Number(process.argv[3] ?? 10_000);
const RUNS = Number(process.argv[4] ?? 5);
const LABS = ['lab-a', 'lab-b'];
const SHARED = Math.floor(N / 5);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'bundle', 'main.js');
const baseline = process.env.OVERLAP_BENCH_BASELINE;
const cores = availableParallelism();
const workers = Math.max(1, Math.floor(cores / LABS.length));

function labValues(lab: number): string[] {
  return Array.from({ length: N }, (_, k) =>
    k < SHARED ? `shared-${k}@bench.example` : `own-${lab}-${k}@bench.example`,
  );
}

/** Wall seconds of `node ARGS`, which must exit 0. */
function timed(args: string[]): { seconds: number; stdout: string; stderr: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}:\n${run.stderr}`);
  return { seconds, stdout: run.stdout, stderr: run.stderr };
}

interface Floor {
  total: number;
  own: number;
  hop: number;
  proofs: number;
}

/** The exchange's crypto, nothing else: both labs at once on their own pools, then the relay's checks. */
async function cryptoFloor(pools: BatchPool[], sets: IndicatorInput[][]): Promise<Floor> {
  const keys = sets.map(() => BlindingKey.generate());
  const collect = async (source: AsyncIterable<Uint8Array>) => {
    const out: Uint8Array[] = [];
    for await (const item of source) out.push(item);
    return out;
  };
  const t0 = performance.now();
  const own = await Promise.all(
    sets.map((set, i) => collect(hashAndBlindBatch(keys[i] as BlindingKey, set, { pool: pools[i] as BatchPool }))),
  );
  const t1 = performance.now();
  // Lab i blinds the set of lab i+1 (2 labs: each the other's).
  const hopInputs = own.map((_, i) => own[(i + 1) % own.length] as Uint8Array[]);
  const hops = await Promise.all(
    hopInputs.map((input, i) => collect(blindBatch(keys[i] as BlindingKey, input, { pool: pools[i] as BatchPool }))),
  );
  const t2 = performance.now();
  const context = { sessionId: new Uint8Array(16).fill(1), digest: new Uint8Array(32).fill(2) };
  const positions = provenPositions(new Uint8Array(64).fill(3), context.digest, N, 'spot');
  const statements = hops.map((outputs, i) => ({
    inputs: positions.map((j) => (hopInputs[i] as Uint8Array[])[j] as Uint8Array),
    outputs: positions.map((j) => outputs[j] as Uint8Array),
  }));
  // Each lab proves on its own thread (side by side in a real run: counted as the slower one's half).
  const proofs = statements.map((s, i) => proveHop(keys[i] as BlindingKey, context, positions, s.inputs));
  const t3 = performance.now();
  const verified = statements.every(
    (s, i) =>
      verifyHop(keyCommitment(keys[i] as BlindingKey), context, positions, s.inputs, s.outputs, proofs[i] as HopProof)
        .ok,
  );
  const t4 = performance.now();
  if (!verified) throw new Error('a hop proof of the floor did not verify');
  for (const key of keys) key.dispose();
  const proveSide = (t3 - t2) / sets.length;
  return {
    own: (t1 - t0) / 1000,
    hop: (t2 - t1) / 1000,
    proofs: (proveSide + (t4 - t3)) / 1000,
    total: (t2 - t0 + proveSide + (t4 - t3)) / 1000,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const stat = (xs: number[], digits = 2) =>
  `${median(xs).toFixed(digits)} s (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

interface SimulateJson {
  seconds: number;
  timeline_ms: Record<string, number>;
  labs: {
    name: string;
    revealed: number;
    startup_ms: { boot_ms: number; load_ms: number; spawn_to_ready_ms: number };
    phases_ms?: Record<string, number>;
  }[];
}

line(
  `pnpm bench small-exchange — ${new Date().toISOString().slice(0, 10)}, ${cores} cores, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} at the start`,
);
line(
  `overlap simulate: 2 labs × ${N.toLocaleString('en-US')} e-mail indicators (${SHARED.toLocaleString('en-US')} shared), built CLI, ${RUNS} runs; the floor on ${workers} worker${workers === 1 ? '' : 's'} per lab; medians (min–max)`,
);
if (process.env.OVERLAP_BENCH_NO_BUILD !== '1') {
  const build = spawnSync('npx', ['--yes', 'pnpm@12.4.2', 'run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`pnpm build failed:\n${build.stdout}${build.stderr}`);
}

const dir = mkdtempSync(join(tmpdir(), 'overlap-bench-small-'));
const pools = LABS.map(() => new BatchPool({ workers }));
try {
  const files = LABS.map((name, i) => {
    const file = join(dir, `${name}.txt`);
    writeFileSync(file, `${labValues(i).join('\n')}\n`);
    return file;
  });
  const sets = LABS.map((_, i) => labValues(i).map((value) => ({ kind: 'email', value })));
  await cryptoFloor(pools, sets); // warm-up: the pools' workers started, the code compiled

  const version: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < 5; run++) {
    bare.push(timed(['-e', '0']).seconds);
    version.push(timed([cli, '--version']).seconds);
  }
  const floors: Floor[] = [];
  const walls: number[] = [];
  const baselineWalls: number[] = [];
  const outcomes: SimulateJson[] = [];
  let correct = true;
  for (let run = 0; run < RUNS; run++) {
    floors.push(await cryptoFloor(pools, sets));
    const out = join(dir, `out-${run}`);
    const sim = timed([
      cli,
      'simulate',
      ...LABS.flatMap((name, i) => ['--lab', `${name}=${files[i]}`]),
      '--kind',
      'email',
      '--out',
      out,
      '--json',
    ]);
    walls.push(sim.seconds);
    if (baseline !== undefined) {
      const labArgs = LABS.flatMap((name, i) => ['--lab', `${name}=${files[i]}`]);
      const args = [baseline, 'simulate', ...labArgs, '--kind', 'email', '--out', join(dir, `base-${run}`), '--json'];
      baselineWalls.push(timed(args).seconds);
    }
    const outcome = JSON.parse(sim.stdout.trim().split('\n').at(-1) as string) as SimulateJson;
    outcomes.push(outcome);
    for (const [i, name] of LABS.entries()) {
      const rows = readFileSync(join(out, `${name}.results.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean);
      correct &&= rows.length === SHARED && outcome.labs[i]?.revealed === SHARED;
    }
  }

  const overheads = walls.map((wall, i) => wall - (floors[i] as Floor).total);
  line(`  overlap --version          ${stat(version, 3)}   (node -e 0: ${stat(bare, 3)}; target ≤ 0.150 s)`);
  line(`  simulate, wall             ${stat(walls)}`);
  line(
    `  crypto floor               ${stat(floors.map((f) => f.total))}: own sets ${stat(floors.map((f) => f.own))}, hops ${stat(floors.map((f) => f.hop))}, spot proofs ${stat(floors.map((f) => f.proofs))}`,
  );
  line(`  overhead above the floor   ${stat(overheads)}   (target ≤ 1 s)`);
  if (baseline !== undefined) {
    const baseOverheads = baselineWalls.map((wall, i) => wall - (floors[i] as Floor).total);
    line(`  baseline ${baseline}:`);
    line(`    simulate, wall           ${stat(baselineWalls)}; overhead above the floor ${stat(baseOverheads)}`);
  }
  const t = (key: string) => outcomes.map((o) => (o.timeline_ms[key] ?? 0) / 1000);
  const labMax = (pick: (lab: SimulateJson['labs'][number]) => number) =>
    outcomes.map((o) => Math.max(...o.labs.map(pick)) / 1000);
  const after = (a: string, b: string) =>
    outcomes.map((o) => ((o.timeline_ms[a] ?? 0) - (o.timeline_ms[b] ?? 0)) / 1000);
  line(
    '  where the time goes (simulate --json; the lab processes load and read their files while the relay starts and the labs enroll):',
  );
  line(`    simulate's own start-up and loading   ${stat(t('before_ms'))}`);
  line(`    lab process start (node)              ${stat(labMax((l) => l.startup_ms.boot_ms))}   (slower lab)`);
  line(`    lab process package loading           ${stat(labMax((l) => l.startup_ms.load_ms))}`);
  line(`    labs' files read, counts answered     ${stat(t('inputs_read'))}   (from simulate's start)`);
  line(`    relay started                         ${stat(t('relay_started'))}`);
  line(`    labs enrolled                         ${stat(t('labs_enrolled'))}`);
  line(`    session created                       ${stat(t('session_created'))}`);
  line(`    lab processes ready                   ${stat(t('labs_ready'))}`);
  line(`    labs' runs, session to last exit      ${stat(after('labs_finished', 'session_created'))}`);
  for (const phase of ['hashing_and_blinding', 'uploading', 'exchange', 'proving', 'total']) {
    line(`      ${`${phase} (slower lab)`.padEnd(36)}${stat(labMax((l) => l.phases_ms?.[phase] ?? 0))}`);
  }
  line(
    `    transcript fetched                    ${stat(after('transcript_fetched', 'labs_finished'))}   (after the last exit)`,
  );
  line(
    `    simulate's exit after its outcome     ${stat(walls.map((w, i) => w - (outcomes[i] as SimulateJson).seconds - ((outcomes[i] as SimulateJson).timeline_ms.before_ms ?? 0) / 1000))}`,
  );
  line(`  results: ${correct ? 'correct' : 'WRONG'} (${SHARED.toLocaleString('en-US')} shared per lab, each run)`);
  line(`  load average at the end: ${loadavg()[0]?.toFixed(1)}`);
  if (!correct) process.exitCode = 1;
} finally {
  await Promise.all(pools.map((pool) => pool.close()));
  rmSync(dir, { recursive: true, force: true });
}
