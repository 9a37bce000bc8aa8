/**
 * `pnpm bench relay`: the relay's own costs, in every phase of one session of 3 × N items (default
 * 1,000,000) through a real relay process on loopback. The labs are a load generator that computes
 * the whole protocol's tags beforehand (it holds every lab's key: each set hashed and blinded by its
 * owner, then blinded by each hop on a worker pool), so that what is timed is the relay: the hop-0
 * ingest of chunks of 65,536 tags, the blinding hops, the proof round (spec/protocol.md §5.2: the
 * reveals, the challenge, and one hop proof per chunk of hop ≥ 1, each verified by the relay on its
 * request path), and the request that completes the session (matching and signing the results).
 * Prints ingest MB/s, the relay's CPU time per phase, the slowest request, the relay's peak memory,
 * and checks the result rows against the planted overlaps.
 *
 *   pnpm bench relay [N] [ingest-only|full]      (full: every position proven, ~8× the relay's cost)
 */
import { randomBytes } from 'node:crypto';
import {
  BlindingKey,
  blindBatch,
  challengeSeed,
  coinCommitment,
  hashAndBlindBatch,
  keyCommitment,
  proveHop,
  provenPositions,
  toHex,
} from '@overlap/crypto';
import { BatchPool } from '@overlap/crypto/node';
import {
  type CborValue,
  type ChunkPlace,
  decodeDeterministic,
  hopLab,
  type MessageType,
  openEnvelope,
  parseMessage,
  type ResultRows,
  sealEnvelope,
  tagAt,
  verifyEnvelope,
} from '@overlap/protocol';
import { line, startBenchRelay } from './relay-support.js';

const N = Number(process.argv[3] ?? 1_000_000);
const MODE = process.argv[4] === 'full' ? 'full' : 'spot';
const CHUNK = 65_536;
const LABS = Number(process.env.OVERLAP_BENCH_LABS ?? 3);
const SHARED_ALL = Math.floor(N / 10); // positions 0..: held by every lab
const SHARED_PAIR = Math.floor(N / 10); // next positions: held by labs 0 and 1

line(`pnpm bench relay — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
line(
  `one session, ${LABS} labs × ${N.toLocaleString('en-US')} tags, chunks of ${CHUNK}, proofs ${MODE}, relay in its own process`,
);

/** The item at `position` of lab `lab`'s set. */
function itemAt(lab: number, position: number): string {
  if (position < SHARED_ALL) return `all-${position}@bench.example`;
  if (position < SHARED_ALL + SHARED_PAIR && lab < 2) return `pair-${position}@bench.example`;
  return `own-${lab}-${position}@bench.example`;
}

// Every tag of the session, computed beforehand: tags[owner][hop] is that hop's whole set, packed.
const keys = Array.from({ length: LABS }, () => BlindingKey.generate());
const coins = keys.map(() => new Uint8Array(randomBytes(32)));
const pool = new BatchPool();
const precomputeStart = performance.now();
const tags: Uint8Array[][] = [];
for (let owner = 0; owner < LABS; owner++) {
  const hops: Uint8Array[] = [];
  const items = (function* () {
    for (let p = 0; p < N; p++) yield { kind: 'email', value: itemAt(owner, p) };
  })();
  hops.push(await pack(hashAndBlindBatch(keys[owner] as BlindingKey, items, { pool })));
  for (let hop = 1; hop < LABS; hop++) {
    const previous = hops[hop - 1] as Uint8Array;
    const inputs = (function* () {
      for (let p = 0; p < N; p++) yield previous.subarray(p * 32, p * 32 + 32);
    })();
    hops.push(await pack(blindBatch(keys[hopLab(owner, hop, LABS)] as BlindingKey, inputs, { pool })));
  }
  tags.push(hops);
}
await pool.close();
line(
  `  (load generator: every hop of every set computed in ${((performance.now() - precomputeStart) / 1000).toFixed(1)} s)`,
);

/** Hop `hop` of lab `owner`'s set, packed. */
function tagsOf(owner: number, hop: number): Uint8Array {
  return (tags[owner] as Uint8Array[])[hop] as Uint8Array;
}

async function pack(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const out = new Uint8Array(N * 32);
  let i = 0;
  for await (const tag of source) out.set(tag, 32 * i++);
  return out;
}

const relay = await startBenchRelay();
const labKeys = await relay.enroll(LABS);
const ids = labKeys.map((k) => k.keyId);
const clients = labKeys.map((k) => relay.clientFor(k));
const session = new Uint8Array(randomBytes(16));
const sessionHex = toHex(session);
const chains = labKeys.map(() => ({ seq: 0, prev: undefined as Uint8Array | undefined }));
const publicKeys = new Map(labKeys.map((k) => [k.keyId, k.signing.publicKey]));
publicKeys.set(relay.info.relay_key_id, relay.info.log_key);

function seal(lab: number, type: MessageType, payload: unknown) {
  const chain = chains[lab] as { seq: number; prev: Uint8Array | undefined };
  const k = labKeys[lab] as (typeof labKeys)[number];
  const envelope = sealEnvelope(
    {
      type,
      session,
      seq: chain.seq,
      ...(chain.prev && { prev: chain.prev }),
      created: Date.now(),
      payload: payload as CborValue,
    },
    { keyId: k.keyId, secretKey: k.signing.secretKey },
  );
  chain.seq++;
  chain.prev = envelope.hash;
  return envelope;
}

const proposal = { labs: ids, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: N, proofs: MODE };
await (clients[0] as (typeof clients)[number]).createSession(seal(0, 'session_proposal', proposal).bytes);
for (let lab = 0; lab < LABS; lab++) {
  const join = {
    sizes: { email: N },
    key: keyCommitment(keys[lab] as BlindingKey),
    coin: coinCommitment(session, ids[lab] as string, coins[lab] as Uint8Array),
  };
  await clients[lab]?.postEnvelope(sessionHex, seal(lab, 'join', join).bytes);
}

// Phase 1: every lab uploads its hop-0 set, all in parallel (each lab's chunks in order). The
// chunks are sealed beforehand, so that the figure is the relay's, not this load generator's.
const sealed = labKeys.map((_, lab) => {
  const out: Uint8Array[] = [];
  for (let first = 0; first < N; first += CHUNK) {
    const chunk = tagsOf(lab, 0).subarray(first * 32, Math.min(N, first + CHUNK) * 32);
    out.push(seal(lab, 'tag_chunk', { kind: 'email', owner: ids[lab], hop: 0, first, tags: chunk }).bytes);
  }
  return out;
});
const uploaded = sealed.flat().reduce((sum, bytes) => sum + bytes.length, 0);
let cpuMark = relay.cpuSeconds();
const ingestStart = performance.now();
await Promise.all(
  sealed.map(async (chunks, lab) => {
    for (const bytes of chunks) await clients[lab]?.postEnvelope(sessionHex, bytes);
  }),
);
const ingestMs = performance.now() - ingestStart;
const ingestCpu = relay.cpuSeconds() - cpuMark;
const ingestLine = `  ingest, hop 0:        ${(uploaded / 1e6).toFixed(0)} MB in ${(ingestMs / 1000).toFixed(2)} s = ${(uploaded / 1e6 / (ingestMs / 1000)).toFixed(0)} MB/s (target ≥ 100); relay CPU ${ingestCpu.toFixed(2)} s = ${(uploaded / 1e6 / ingestCpu).toFixed(0)} MB per relay CPU-second`;
const peakAfterIngest = relay.peakMb();
if (process.argv[4] === 'ingest-only') {
  line(ingestLine);
  await relay.stop();
  process.exit(0);
}

// Phase 2 and 3: blind tasks answered with the precomputed tags; on the proof request each lab
// reveals its coin; on the challenge it proves every chunk it answered; then the results.
let hopBytes = 0;
let slowest = { ms: 0, type: '' };
const hopStart = performance.now();
cpuMark = relay.cpuSeconds();
const cpu = { hops: 0, proofs: 0 };
let proofsStart = 0;
let proofCount = 0;
const post = async (lab: number, type: MessageType, body: unknown) => {
  const envelope = seal(lab, type, body);
  const started = performance.now();
  await clients[lab]?.postEnvelope(sessionHex, envelope.bytes);
  const ms = performance.now() - started;
  if (ms > slowest.ms) slowest = { ms, type };
  return envelope;
};
const results = await Promise.all(
  labKeys.map(async (_, lab) => {
    let after = 0;
    const rows: ResultRows[] = [];
    const answered: { place: ChunkPlace; digest: Uint8Array; count: number }[] = [];
    for (;;) {
      const inbox = await (clients[lab] as (typeof clients)[number]).inbox(sessionHex, after, 5_000);
      for (const item of inbox.items) {
        after = item.n + 1;
        const verified = verifyEnvelope(item.envelope, (id) => publicKeys.get(id));
        if (item.type === 'result_rows') {
          rows.push(parseMessage('result_rows', decodeDeterministic(verified.payloadBytes)));
          continue;
        }
        if (item.type === 'abort')
          throw new Error(`aborted: ${JSON.stringify(decodeDeterministic(verified.payloadBytes))}`);
        if (item.type === 'proof_request') {
          if (proofsStart === 0) {
            proofsStart = performance.now();
            const now = relay.cpuSeconds();
            cpu.hops = now - cpuMark;
            cpuMark = now;
          }
          await post(lab, 'reveal', { coin: coins[lab] });
          continue;
        }
        if (item.type === 'challenge') {
          const challenge = parseMessage('challenge', decodeDeterministic(verified.payloadBytes));
          const sigma = challengeSeed(session, challenge.coins);
          for (const { place, digest, count } of answered) {
            const inputs = tagsOf(ids.indexOf(place.owner), place.hop - 1).subarray(
              place.first * 32,
              (place.first + count) * 32,
            );
            const positions = provenPositions(sigma, digest, count, MODE);
            const proof = proveHop(
              keys[lab] as BlindingKey,
              { sessionId: session, digest },
              positions,
              positions.map((j) => tagAt(inputs, j)),
            );
            await post(lab, 'hop_proof', { ...place, signs: proof.signs, proof: proof.proof });
            proofCount++;
          }
          continue;
        }
        const source = parseMessage('tag_chunk', openEnvelope(item.envelope, (id) => publicKeys.get(id)).payload);
        const hop = item.hop as number;
        const count = source.tags.length / 32;
        const owner = ids.indexOf(source.owner);
        const out = tagsOf(owner, hop).subarray(source.first * 32, (source.first + count) * 32);
        const place = { kind: 'email', owner: source.owner, hop, first: source.first };
        const envelope = await post(lab, 'blind_result', { ...place, tags: out });
        hopBytes += envelope.bytes.length;
        answered.push({ place, digest: envelope.header.digest, count });
      }
      if (rows.length === 1) return rows;
    }
  }),
);
const endMs = performance.now();
cpu.proofs = relay.cpuSeconds() - cpuMark;

// Check every lab's rows against the plan.
let correct = true;
for (let lab = 0; lab < LABS; lab++) {
  const rows = (results[lab] as ResultRows[])[0]?.rows ?? [];
  const expected: { position: number; labs: string[] }[] = [];
  for (let p = 0; p < SHARED_ALL + SHARED_PAIR; p++) {
    if (p < SHARED_ALL) expected.push({ position: p, labs: ids.filter((_, o) => o !== lab).sort() });
    else if (lab < 2) expected.push({ position: p, labs: [ids[1 - lab] as string] });
  }
  const got = rows.map((r) => ({ position: r.position, labs: r.labs ?? [] })).sort((x, y) => x.position - y.position);
  correct &&= JSON.stringify(got) === JSON.stringify(expected);
}
const peak = relay.peakMb();
await relay.stop();
for (const key of keys) key.dispose();

const mb = (bytes: number) => bytes / 1e6;
const hopsMs = (proofsStart || endMs) - hopStart;
line(ingestLine);
line(
  `  hops 1–${LABS - 1}:             ${mb(hopBytes).toFixed(0)} MB in ${(hopsMs / 1000).toFixed(2)} s = ${(mb(hopBytes) / (hopsMs / 1000)).toFixed(0)} MB/s; relay CPU ${cpu.hops.toFixed(2)} s`,
);
line(
  `  proof round + results: ${proofCount} hop proofs (${MODE}) in ${((endMs - proofsStart) / 1000).toFixed(2)} s; relay CPU ${cpu.proofs.toFixed(2)} s = ${((cpu.proofs * 1000) / Math.max(proofCount, 1)).toFixed(1)} ms per proof, matching and signing the rows included`,
);
line(
  `  slowest request: a ${slowest.type} of ${(slowest.ms / 1000).toFixed(2)} s (the last hop proof matches ${LABS} × ${N.toLocaleString('en-US')} tags and signs the rows; target ≤ 5)`,
);
line(`  relay peak memory:    ${peak.toFixed(0)} MB (target ≤ 500); after hop 0: ${peakAfterIngest.toFixed(0)} MB`);
line(
  `  results:              ${correct ? 'correct' : 'WRONG'} (planted: ${SHARED_ALL.toLocaleString('en-US')} in every set, ${SHARED_PAIR.toLocaleString('en-US')} in two)`,
);
if (!correct) process.exitCode = 1;
