/**
 * `pnpm bench crypto`: items per second for hash_to_group, blind and both, on each backend, on
 * one core and on all cores; then, in the same run, a complete two-party PSI of 10,000 × 10,000
 * items done with Overlap and with @openmined/psi.js 2.0.6, both checked against the plaintext
 * intersection, with the ratio of their times. Then the hop proofs (spec/ciphersuite.md §10): prove
 * and verify for one chunk of 65,536 tags in spot mode (135 positions) and in full mode, against
 * the X25519 hop of the same chunk. `pnpm bench crypto --hop-proofs` runs only that section.
 */
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import {
  BlindingKey,
  blind,
  blindBatch,
  type HopProof,
  hashAndBlind,
  hashAndBlindBatch,
  hashToGroup,
  hashToGroupBatch,
  type IndicatorInput,
  keyCommitment,
  type ProofMode,
  proveHop,
  provenPositions,
  tagInGroup,
  toHex,
  verifyHop,
} from '@overlap/crypto';
import { BatchPool } from '@overlap/crypto/node';

type Backend = 'native' | 'portable';
const cores = availableParallelism();
const line = (text: string) => process.stdout.write(`${text}\n`);
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
const fmt = (n: number) => n.toLocaleString('en-US');

function values(n: number, prefix: string): IndicatorInput[] {
  return Array.from({ length: n }, (_, i) => ({ kind: 'email', value: `${prefix}${i}@example.com` }));
}

function timeSync(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

async function drain(results: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of results) out.push(r);
  return out;
}

async function timeAsync<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await run();
  return [value, performance.now() - start];
}

async function singleCore(backend: Backend, n: number) {
  const key = BlindingKey.generate();
  const items = values(n, 'single');
  const options = { backend };
  hashAndBlind(key, 'email', 'warm@example.com', options);
  const points: Uint8Array[] = [];
  const hashMs = timeSync(() => {
    for (const it of items) points.push(hashToGroup(it.kind, it.value, options));
  });
  const blindMs = timeSync(() => {
    for (const u of points) blind(key, u, options);
  });
  const bothMs = timeSync(() => {
    for (const it of items) hashAndBlind(key, it.kind, it.value, options);
  });
  key.dispose();
  return { hash: rate(n, hashMs), blind: rate(n, blindMs), both: rate(n, bothMs) };
}

/** Best of `runs` timings (ms) of `run`, so that one noisy moment does not skew a figure. */
async function bestOf(runs: number, run: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) best = Math.min(best, (await timeAsync(run))[1]);
  return best;
}

type Rates = { hash: number; blind: number; both: number };

/**
 * Batch rates on 1 worker and on all cores. Each figure is the best of 3 runs, and the runs of the
 * two pool sizes alternate, so that a slow moment of the machine does not favour either side.
 */
async function batchScaling(backend: Backend, n: number): Promise<[Rates, Rates]> {
  const key = BlindingKey.generate();
  const items = values(n, 'batch');
  const chunkSize = backend === 'native' ? 256 : 32;
  // Pools are started and warmed before any clock (a lab's job starts its pool once).
  const pools = [new BatchPool({ backend, workers: 1 }), new BatchPool({ backend, workers: cores })];
  try {
    for (const pool of pools) {
      await drain(hashAndBlindBatch(key, values(pool.workers * 64, 'warm'), { pool, chunkSize: 32 }));
    }
    const points = await drain(hashToGroupBatch(items, { pool: pools[1] as BatchPool, chunkSize }));
    const best = pools.map(() => ({ hash: Infinity, blind: Infinity, both: Infinity }));
    for (let round = 0; round < 3; round++) {
      for (const [i, pool] of pools.entries()) {
        const options = { pool, chunkSize };
        const b = best[i] as { hash: number; blind: number; both: number };
        b.hash = Math.min(b.hash, (await timeAsync(() => drain(hashToGroupBatch(items, options))))[1]);
        b.blind = Math.min(b.blind, (await timeAsync(() => drain(blindBatch(key, points, options))))[1]);
        b.both = Math.min(b.both, (await timeAsync(() => drain(hashAndBlindBatch(key, items, options))))[1]);
      }
    }
    const toRates = (ms: { hash: number; blind: number; both: number }): Rates => ({
      hash: rate(n, ms.hash),
      blind: rate(n, ms.blind),
      both: rate(n, ms.both),
    });
    return [toRates(best[0] as Rates), toRates(best[1] as Rates)];
  } finally {
    key.dispose();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

function row(label: string, r: { hash: number; blind: number; both: number }) {
  line(`  ${label.padEnd(30)} ${fmt(r.hash).padStart(9)} ${fmt(r.blind).padStart(9)} ${fmt(r.both).padStart(12)}`);
}

/** The sets of the PSI comparison: 10,000 each, 2,500 in common, and the plaintext truth. */
function psiSets(n: number) {
  const a = Array.from({ length: n }, (_, i) => `suspect-${i}@example.com`);
  const b = Array.from({ length: n }, (_, i) => `suspect-${i + (3 * n) / 4}@example.com`);
  const inB = new Set(b);
  const truth = a.map((v, i) => (inB.has(v) ? i : -1)).filter((i) => i >= 0);
  return { a, b, truth };
}

/**
 * Overlap's exchange for two labs, in-process: each lab hashes and blinds its own set (the two
 * labs work at the same time, as they would on their own machines), they exchange, each blinds
 * the other's set, and the fully blinded tags are intersected.
 */
async function overlapPsi(pool: BatchPool, a: string[], b: string[]): Promise<number[]> {
  const keyA = BlindingKey.generate();
  const keyB = BlindingKey.generate();
  try {
    const asItems = (set: string[]) => set.map((value) => ({ kind: 'email', value }));
    const [tagsA, tagsB] = await Promise.all([
      drain(hashAndBlindBatch(keyA, asItems(a), { pool })),
      drain(hashAndBlindBatch(keyB, asItems(b), { pool })),
    ]);
    // The exchange: each set crosses as one byte string of 32-byte tags.
    const [wireA, wireB] = [pack(tagsA), pack(tagsB)];
    const [doubleA, doubleB] = await Promise.all([
      drain(blindBatch(keyB, unpack(wireA), { pool })), // B's hop on A's set
      drain(blindBatch(keyA, unpack(wireB), { pool })), // A's hop on B's set
    ]);
    const inB = new Set(doubleB.map(toHex));
    return doubleA.flatMap((tag, i) => (inB.has(toHex(tag)) ? [i] : []));
  } finally {
    keyA.dispose();
    keyB.dispose();
  }
}

interface Serializable {
  serializeBinary(): Uint8Array;
}
interface PsiJs {
  server: { createWithNewKey(reveal: boolean): PsiServer };
  client: { createWithNewKey(reveal: boolean): PsiClient };
  serverSetup: { deserializeBinary(bytes: Uint8Array): unknown };
  request: { deserializeBinary(bytes: Uint8Array): unknown };
  response: { deserializeBinary(bytes: Uint8Array): unknown };
}
interface PsiServer {
  createSetupMessage(fpr: number, numClientInputs: number, inputs: string[]): Serializable;
  processRequest(request: unknown): Serializable;
  delete(): void;
}
interface PsiClient {
  createRequest(inputs: string[]): Serializable;
  getIntersection(setup: unknown, response: unknown): number[];
  delete(): void;
}

/**
 * The same job with psi.js: b is the server's set, a the client's; the client learns a ∩ b. The
 * messages are serialized and parsed as in a real exchange (its README's flow).
 */
function psiJsPsi(psi: PsiJs, a: string[], b: string[]): number[] {
  const server = psi.server.createWithNewKey(true);
  const client = psi.client.createWithNewKey(true);
  try {
    const setup = server.createSetupMessage(1e-9, a.length, b).serializeBinary();
    const request = client.createRequest(a).serializeBinary();
    const response = server.processRequest(psi.request.deserializeBinary(request)).serializeBinary();
    const intersection = client.getIntersection(
      psi.serverSetup.deserializeBinary(setup),
      psi.response.deserializeBinary(response),
    );
    return intersection.sort((x, y) => x - y);
  } finally {
    server.delete();
    client.delete();
  }
}

function pack(tags: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(tags.length * 32);
  tags.forEach((tag, i) => {
    out.set(tag, i * 32);
  });
  return out;
}

function* unpack(wire: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < wire.length; offset += 32) yield wire.subarray(offset, offset + 32);
}

function sameAs(result: number[], truth: number[]): string {
  return result.length === truth.length && result.every((v, i) => v === truth[i]) ? 'correct' : 'WRONG';
}

/**
 * One chunk of `length` tags: prove and verify at the positions of `mode`, best of `runs`, each
 * next to a timing of the X25519 hop of the same chunk (just before the proof, just after the
 * verification), so that a ratio compares figures taken under the same load of the machine. All on
 * one core, on the calling thread.
 */
function hopProofChunk(backend: Backend, length: number, mode: ProofMode, runs: number) {
  const options = { backend };
  const key = BlindingKey.generate();
  const inputs = Array.from({ length }, (_, i) => hashToGroup('email', `hop-${i}@example.com`, options));
  let outputs: Uint8Array[] = [];
  const hop = () =>
    timeSync(() => {
      outputs = inputs.map((u) => blind(key, u, options));
    });
  hop();
  const context = { sessionId: new Uint8Array(16).fill(1), digest: new Uint8Array(32).fill(2) };
  const positions = provenPositions(new Uint8Array(64).fill(3), context.digest, length, mode);
  const chosenInputs = positions.map((j) => inputs[j] as Uint8Array);
  const chosenOutputs = positions.map((j) => outputs[j] as Uint8Array);
  const K = keyCommitment(key, options);
  const best = { hopMs: Infinity, proveMs: Infinity, verifyMs: Infinity, proveRatio: Infinity, verifyRatio: Infinity };
  let verified = true;
  for (let run = 0; run < runs; run++) {
    let proof: HopProof = { signs: new Uint8Array(0), proof: new Uint8Array(0) };
    const before = hop();
    const proveMs = timeSync(() => {
      proof = proveHop(key, context, positions, chosenInputs, options);
    });
    const verifyMs = timeSync(() => {
      verified &&= verifyHop(K, context, positions, chosenInputs, chosenOutputs, proof, options).ok;
    });
    const after = hop();
    best.hopMs = Math.min(best.hopMs, before, after);
    best.proveMs = Math.min(best.proveMs, proveMs);
    best.verifyMs = Math.min(best.verifyMs, verifyMs);
    best.proveRatio = Math.min(best.proveRatio, proveMs / before);
    best.verifyRatio = Math.min(best.verifyRatio, verifyMs / after);
  }
  const checkMs = timeSync(() => {
    for (const u of chosenInputs) tagInGroup(u, options);
  });
  key.dispose();
  return { ...best, checkMs, positions: positions.length, verified };
}

function hopProofs(): void {
  const chunk = 65_536;
  line(`hop proofs (spec/ciphersuite.md §10), one core, a chunk of ${fmt(chunk)} tags`);
  line('(each ratio is to the X25519 hop of the same chunk timed next to it; best of 5 runs, of 1 in full mode)');
  const ms = (x: number) => (x < 1000 ? `${x.toFixed(1)} ms` : `${(x / 1000).toFixed(2)} s`);
  const times = (r: ReturnType<typeof hopProofChunk>) =>
    `prove ${ms(r.proveMs).padStart(9)}  verify ${ms(r.verifyMs).padStart(9)}  ${r.verified ? 'verified' : 'FAILED'}`;
  const ratio = (x: number) => (x < 0.1 ? `${(100 * x).toFixed(1)}%` : `${x.toFixed(1)}×`);
  hopProofChunk('native', 1000, 'spot', 1); // warm-up
  const spot = hopProofChunk('native', chunk, 'spot', 5);
  line(`  spot, 135 positions, native    ${times(spot)}`);
  line(`    of the hop                   prove ${ratio(spot.proveRatio)}, verify ${ratio(spot.verifyRatio)}`);
  line(`  the chunk's X25519 hop, native ${ms(spot.hopMs)} (${fmt(rate(chunk, spot.hopMs))} tags/s)`);
  line(
    `  tagInGroup, native             ${fmt(rate(spot.positions, spot.checkMs))} tags/s (the relay's check of chosen inputs)`,
  );
  line(`  spot, 135 positions, portable  ${times(hopProofChunk('portable', 2000, 'spot', 1))}`);
  const full = hopProofChunk('native', chunk, 'full', 1);
  line(`  full, ${fmt(chunk)} positions, native ${times(full)}`);
  line(
    `    of the hop                   prove ${ratio(full.proveRatio)}, verify ${ratio(full.verifyRatio)} (${fmt(rate(chunk, full.verifyMs))} positions/s verified)`,
  );
}

if (process.argv.includes('--hop-proofs')) {
  hopProofs();
} else {
  line(
    `pnpm bench crypto — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}`,
  );
  line('');
  line('items/s                              hash     blind   hash+blind');
  line('one core, one item at a time (calling thread)');
  row('native', await singleCore('native', 20_000));
  row('portable', await singleCore('portable', 1_500));
  line('batch API on worker threads');
  const [native1, nativeAll] = await batchScaling('native', 30_000);
  row('native, 1 worker', native1);
  row(`native, ${cores} workers`, nativeAll);
  const [portable1, portableAll] = await batchScaling('portable', 1_000);
  row('portable, 1 worker', portable1);
  row(`portable, ${cores} workers`, portableAll);
  const ratio = (all: Rates, one: Rates, op: keyof Rates) => `${(all[op] / one[op]).toFixed(2)}x`;
  line(
    `scaling ${cores} workers / 1 worker: native hash ${ratio(nativeAll, native1, 'hash')}, blind ${ratio(nativeAll, native1, 'blind')}, hash+blind ${ratio(nativeAll, native1, 'both')}; portable hash+blind ${ratio(portableAll, portable1, 'both')}`,
  );
  line('');

  const n = 10_000;
  const { a, b, truth } = psiSets(n);
  line(
    `two-party PSI, ${fmt(n)} × ${fmt(n)} items, ${fmt(truth.length)} in common, both checked against the plaintext truth`,
  );
  line('(each side is loaded and warmed up with a 500 × 500 run first; best of 5 runs for Overlap, of 2 for psi.js)');
  const warm = psiSets(500);
  const pool = new BatchPool();
  await overlapPsi(pool, warm.a, warm.b);
  // Best of 5 runs for Overlap and of 2 for psi.js (each of its runs takes half a minute).
  let overlapResult: number[] = [];
  const overlapMs = await bestOf(5, async () => {
    overlapResult = await overlapPsi(pool, a, b);
  });
  await pool.close();
  line(
    `  Overlap (native, ${cores} workers)      ${(overlapMs / 1000).toFixed(2).padStart(7)} s  ${sameAs(overlapResult, truth)}`,
  );
  const PSI = createRequire(import.meta.url)('@openmined/psi.js') as () => Promise<PsiJs>;
  const psi = await PSI();
  psiJsPsi(psi, warm.a, warm.b);
  let psiResult: number[] = [];
  const psiMs = await bestOf(2, async () => {
    psiResult = psiJsPsi(psi, a, b);
  });
  line(`  @openmined/psi.js 2.0.6 (WASM)    ${(psiMs / 1000).toFixed(2).padStart(7)} s  ${sameAs(psiResult, truth)}`);
  line(`  Overlap is ${(psiMs / overlapMs).toFixed(1)}x faster`);
  line('');
  hopProofs();
}
