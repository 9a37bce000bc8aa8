/**
 * `pnpm bench session [spot|full]`: a whole session in memory, 3 labs × 100,000 e-mail indicators
 * each (with overlaps), through the protocol engines and the native crypto on all cores; prints how
 * long each phase took (the proof round among them) and checks every lab's results against the
 * plaintext truth.
 */
import { availableParallelism } from 'node:os';
import { BatchPool } from '@overlap/crypto/node';
import { runSessionInMemory } from '@overlap/protocol';

const line = (text: string) => process.stdout.write(`${text}\n`);
const N = 100_000;
// `pnpm bench session full` proves every position (spec/protocol.md §5.2); the default is spot.
const MODE = process.argv[3] === 'full' ? 'full' : 'spot';
const ids = ['a', 'b', 'c'].map((c) => c.repeat(32));
// Lab i holds users i*N/2 .. i*N/2 + N: neighbours share half their sets, a and c share nothing.
const sets = ids.map((_, i) => Array.from({ length: N }, (_, j) => `user${(i * N) / 2 + j}@example.com`));
const labs = ids.map((keyId, i) => ({ keyId, sets: { email: sets[i] as string[] } }));

line(
  `pnpm bench session — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores, Node ${process.version}`,
);
line(`3 labs × ${N.toLocaleString('en-US')} e-mail indicators, policy "labs", proofs ${MODE}, in memory`);
const pool = new BatchPool();
const started = performance.now();
const run = await runSessionInMemory(
  { labs: ids, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: N, chunkSize: 8192, proofs: MODE },
  labs,
  { pool },
);
const total = performance.now() - started;
await pool.close();

const expected = [N / 2, N, N / 2]; // a and c share half with b; b shares half with each
let correct = run.relay.state === 'done';
for (const [i, id] of ids.entries()) {
  const rows = run.results.get(id)?.get('email') ?? [];
  const set = new Set(sets[i]);
  correct &&= rows.length === expected[i] && rows.every((r) => set.has(r.value));
}
line(`  upload (each lab hashes, blinds and uploads its set)   ${(run.phases.upload / 1000).toFixed(2)} s`);
line(`  hops (every set blinded by the two other labs)          ${(run.phases.hops / 1000).toFixed(2)} s`);
line(`  proofs (reveals, challenge, every hop proven, verified) ${(run.phases.proofs / 1000).toFixed(2)} s`);
line(`  results (matching, rows, mapping back)                  ${(run.phases.results / 1000).toFixed(2)} s`);
line(`  total ${(total / 1000).toFixed(2)} s; results ${correct ? 'equal the plaintext truth' : 'WRONG'}`);
if (!correct) process.exitCode = 1;
