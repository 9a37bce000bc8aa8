/**
 * `pnpm bench e2e [N] [spot|full]`: `overlap simulate` for 3 labs × N e-mail indicators each (default
 * 1,000,000; 10% held by all three, 10% more by each pair), as a user runs it: a relay, the admin,
 * one lab process each over HTTP. Prints wall time per phase and in total, peak memory per process,
 * and the floor that the per-operation crypto costs measured here give: N·3 hash_to_group and N·9
 * X25519 spread over every core. Target: total ≤ 1.25 × floor; each lab process < 400 MB.
 * The relay runs with 2 witnesses of its log, which every lab requires before it acts on its
 * results (simulate --witnesses; OVERLAP_BENCH_WITNESSES=N for another number, 0 for none).
 * The labs run the built CLI (built first); OVERLAP_BENCH_SOURCE=1 runs the sources through tsx.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlindingKey, blindBatch, hashToGroupBatch } from '@overlap/crypto';
import { BatchPool } from '@overlap/crypto/node';

const line = (text: string) => process.stdout.write(`${text}\n`);
const N = Number(process.argv[3] ?? 1_000_000);
// `pnpm bench e2e N full` proves every position (spec/protocol.md §5.2); the default is spot.
const MODE = process.argv[4] === 'full' ? 'full' : 'spot';
const cores = availableParallelism();
const WITNESSES = Number(process.env.OVERLAP_BENCH_WITNESSES ?? 2);
line(`pnpm bench e2e — ${new Date().toISOString().slice(0, 10)}, ${cores} cores, Node ${process.version}`);
line(
  `overlap simulate: 3 labs × ${N.toLocaleString('en-US')} e-mail indicators, proofs ${MODE}, one process per lab, relay on loopback with ${WITNESSES} witnesses every lab requires`,
);

// Per-operation costs on this machine, with the same batch API and a pool on every core.
const CALIBRATION = 40_000;
const pool = new BatchPool();
const items = Array.from({ length: CALIBRATION }, (_, i) => ({ kind: 'email', value: `calibrate${i}@bench.example` }));
const key = BlindingKey.generate();
let started = performance.now();
const points: Uint8Array[] = [];
for await (const point of hashToGroupBatch(items, { pool })) points.push(point);
const hashSeconds = (performance.now() - started) / 1000 / CALIBRATION;
started = performance.now();
let blinded = 0;
for await (const _ of blindBatch(key, points, { pool })) blinded++;
const blindSeconds = (performance.now() - started) / 1000 / blinded;
key.dispose();
await pool.close();
// Every core busy: these are per-operation wall costs with the pool on all cores.
const floor = 3 * N * hashSeconds + 9 * N * blindSeconds;
line(
  `  crypto on all cores: hash_to_group ${(1 / hashSeconds).toFixed(0)}/s, X25519 ${(1 / blindSeconds).toFixed(0)}/s → floor ${floor.toFixed(1)} s`,
);

function pairName(a: number, b: number): string {
  return `${Math.min(a, b)}${Math.max(a, b)}`;
}

const dir = mkdtempSync(join(tmpdir(), 'overlap-bench-e2e-'));
try {
  const labs = ['lab-a', 'lab-b', 'lab-c'];
  const tenth = Math.floor(N / 10);
  labs.forEach((name, i) => {
    const lines: string[] = [];
    for (let k = 0; k < N; k++) {
      if (k < tenth) lines.push(`all-${k}@bench.example`);
      else if (k < 2 * tenth) lines.push(`pair-${pairName(i, (i + 1) % 3)}-${k - tenth}@bench.example`);
      else if (k < 3 * tenth) lines.push(`pair-${pairName(i, (i + 2) % 3)}-${k - 2 * tenth}@bench.example`);
      else lines.push(`own-${i}-${k}@bench.example`);
    }
    writeFileSync(join(dir, `${name}.txt`), `${lines.join('\n')}\n`);
  });
  // A lab runs the built CLI (the installed `overlap`), so that is what is measured: the packages
  // are built first. OVERLAP_BENCH_SOURCE=1 runs the sources through tsx instead, as `pnpm overlap`
  // does in a checkout (tsx adds ~70 MB to each process and its workers).
  const fromSource = process.env.OVERLAP_BENCH_SOURCE === '1';
  if (!fromSource) {
    const build = spawnSync('npx', ['--yes', 'pnpm@12.4.2', 'run', 'build'], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`pnpm build failed:\n${build.stdout}${build.stderr}`);
  }
  const cli = fromSource
    ? [
        '--import',
        'tsx',
        '--conditions=@overlap/source',
        join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts'),
      ]
    : [join(import.meta.dirname, '..', 'packages', 'cli', 'dist', 'main.js')];
  line(
    `  lab processes run ${fromSource ? 'the sources through tsx (OVERLAP_BENCH_SOURCE=1)' : 'the built CLI, as a lab installs it (built just now)'}`,
  );
  started = performance.now();
  const run = spawnSync(
    process.execPath,
    [
      ...cli,
      'simulate',
      ...labs.flatMap((name) => ['--lab', `${name}=${join(dir, `${name}.txt`)}`]),
      '--kind',
      'email',
      '--proofs',
      MODE,
      '--witnesses',
      String(WITNESSES),
      '--out',
      join(dir, 'out'),
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const total = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`simulate failed (${run.status}):\n${run.stderr}`);
  const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as {
    seconds: number;
    relay_process_peak_rss_mb: number;
    labs: {
      name: string;
      revealed: number;
      phases_ms?: Record<string, number>;
      peak_rss_mb?: number;
      peak_rss_mb_by_phase?: Record<string, number>;
    }[];
  };
  const expectedRevealed = 3 * tenth;
  let correct = true;
  for (const lab of outcome.labs) {
    correct &&= lab.revealed === expectedRevealed;
    const p = lab.phases_ms ?? {};
    line(
      `  ${lab.name}: hashing+blinding own set ${((p.hashing_and_blinding ?? 0) / 1000).toFixed(1)} s, uploading ${((p.uploading ?? 0) / 1000).toFixed(1)} s, exchange ${((p.exchange ?? 0) / 1000).toFixed(1)} s (proof round ${((p.proving ?? 0) / 1000).toFixed(1)} s of it), total ${((p.total ?? 0) / 1000).toFixed(1)} s; peak ${lab.peak_rss_mb} MB (target < 400)`,
    );
    const byPhase = Object.entries(lab.peak_rss_mb_by_phase ?? {}).map(([phase, mb]) => `${phase} ${mb}`);
    line(`    peak MB by phase: ${byPhase.join(', ')}`);
  }
  line(`  relay and orchestrator process: peak ${outcome.relay_process_peak_rss_mb} MB`);
  line(
    `  total wall time: ${total.toFixed(1)} s (simulate reports ${outcome.seconds} s) = ${(total / floor).toFixed(2)} × floor (target ≤ 1.25)`,
  );
  line(`  results: ${correct ? 'correct' : 'WRONG'} (${expectedRevealed.toLocaleString('en-US')} shared per lab)`);
  if (!correct) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
