/**
 * `pnpm bench relay`: the relay's own costs, with labs that do no cryptography. Three synthetic
 * labs drive one session of 3 × N items (default 1,000,000) through a real relay process on
 * loopback: they upload hop-0 chunks of 65,536 random canonical tags, answer every blind task with
 * random tags (and, at the last hop, with planted final tags, so that the overlaps are known), and
 * check the result rows they get against that plan. The relay cannot tell these tags from real
 * ones: it never holds a key. Prints ingest MB/s, the time of the request that completes the
 * session (matching and signing the results), and the relay's peak memory.
 *
 *   pnpm bench relay [N]
 */
import { createHash, randomBytes } from 'node:crypto';
import { toHex } from '@overlap/crypto';
import {
  type CborValue,
  type MessageType,
  openEnvelope,
  parseMessage,
  type ResultRows,
  sealEnvelope,
  tagCount,
} from '@overlap/protocol';
import { line, startBenchRelay } from './relay-support.js';

const N = Number(process.argv[3] ?? 1_000_000);
const CHUNK = 65_536;
const LABS = Number(process.env.OVERLAP_BENCH_LABS ?? 3);
const SHARED_ALL = Math.floor(N / 10); // positions 0..: held by all three labs
const SHARED_PAIR = Math.floor(N / 10); // next positions: held by labs 0 and 1

line(`pnpm bench relay — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
line(
  `one session, ${LABS} synthetic labs × ${N.toLocaleString('en-US')} tags, chunks of ${CHUNK}, relay in its own process`,
);

/** The item at `position` of lab `lab`'s set: what its final tag encodes. */
function itemAt(lab: number, position: number): string {
  if (position < SHARED_ALL) return `all-${position}`;
  if (position < SHARED_ALL + SHARED_PAIR && lab < 2) return `pair-${position}`;
  return `own-${lab}-${position}`;
}

function finalTags(lab: number, first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    const digest = createHash('sha256')
      .update(itemAt(lab, first + i))
      .digest();
    digest[31] = (digest[31] as number) & 0x3f; // canonical, and (w.h.p.) not a low-order encoding
    out.set(digest, i * 32);
  }
  return out;
}

function randomTags(count: number): Uint8Array {
  const out = new Uint8Array(randomBytes(count * 32));
  for (let i = 31; i < out.length; i += 32) out[i] = (out[i] as number) & 0x3f;
  return out;
}

const relay = await startBenchRelay();
const keys = await relay.enroll(LABS);
const ids = keys.map((k) => k.keyId);
const clients = keys.map((k) => relay.clientFor(k));
const session = new Uint8Array(randomBytes(16));
const sessionHex = toHex(session);
const chains = keys.map(() => ({ seq: 0, prev: undefined as Uint8Array | undefined }));
const publicKeys = new Map(keys.map((k) => [k.keyId, k.signing.publicKey]));
publicKeys.set(relay.info.relay_key_id, relay.info.log_key);

function seal(lab: number, type: MessageType, payload: unknown) {
  const chain = chains[lab] as { seq: number; prev: Uint8Array | undefined };
  const k = keys[lab] as (typeof keys)[number];
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
  return envelope.bytes;
}

const proposal = { labs: ids, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: N };
await (clients[0] as (typeof clients)[number]).createSession(seal(0, 'session_proposal', proposal));
for (let lab = 0; lab < LABS; lab++) {
  await clients[lab]?.postEnvelope(sessionHex, seal(lab, 'join', { sizes: { email: N } }));
}

// Phase 1: every lab uploads its hop-0 set, the three in parallel (each lab's chunks in order).
// The chunks are sealed beforehand, so that the figure is the relay's, not this load generator's.
const sealed = keys.map((_, lab) => {
  const out: Uint8Array[] = [];
  for (let first = 0; first < N; first += CHUNK) {
    const count = Math.min(CHUNK, N - first);
    out.push(seal(lab, 'tag_chunk', { kind: 'email', owner: ids[lab], hop: 0, first, tags: randomTags(count) }));
  }
  return out;
});
const uploaded = sealed.flat().reduce((sum, bytes) => sum + bytes.length, 0);
const cpuBefore = relay.cpuSeconds();
const ingestStart = performance.now();
await Promise.all(
  sealed.map(async (chunks, lab) => {
    for (const bytes of chunks) await clients[lab]?.postEnvelope(sessionHex, bytes);
  }),
);
const ingestMs = performance.now() - ingestStart;
const ingestCpu = relay.cpuSeconds() - cpuBefore;
const ingestLine = `  ingest, hop 0:        ${(uploaded / 1e6).toFixed(0)} MB in ${(ingestMs / 1000).toFixed(2)} s = ${(uploaded / 1e6 / (ingestMs / 1000)).toFixed(0)} MB/s (target ≥ 100); relay CPU ${ingestCpu.toFixed(2)} s = ${(uploaded / 1e6 / ingestCpu).toFixed(0)} MB per relay CPU-second`;
const peakAfterIngest = relay.peakMb();
if (process.argv[4] === 'ingest-only') {
  line(ingestLine);
  await relay.stop();
  process.exit(0);
}

// Phase 2: blind tasks answered until results come; the last request completes the session.
let hopBytes = 0;
let lastPostMs = 0;
const hopStart = performance.now();
const results = await Promise.all(
  keys.map(async (_, lab) => {
    let after = 0;
    const rows: ResultRows[] = [];
    for (;;) {
      const inbox = await (clients[lab] as (typeof clients)[number]).inbox(sessionHex, after, 5_000);
      for (const item of inbox.items) {
        after = item.n + 1;
        const opened = openEnvelope(item.envelope, (id) => publicKeys.get(id));
        if (item.type === 'result_rows') {
          rows.push(parseMessage('result_rows', opened.payload));
          continue;
        }
        if (item.type === 'abort') throw new Error(`aborted: ${JSON.stringify(opened.payload)}`);
        const source = parseMessage('tag_chunk', opened.payload);
        const hop = item.hop as number;
        const count = tagCount(source.tags);
        const owner = ids.indexOf(source.owner);
        const tags = hop === LABS - 1 ? finalTags(owner, source.first, count) : randomTags(count);
        const bytes = seal(lab, 'blind_result', { kind: 'email', owner: source.owner, hop, first: source.first, tags });
        hopBytes += bytes.length;
        const started = performance.now();
        await clients[lab]?.postEnvelope(sessionHex, bytes);
        lastPostMs = Math.max(lastPostMs, performance.now() - started);
      }
      if (rows.length === 1) return rows;
    }
  }),
);
const hopsMs = performance.now() - hopStart;

// Check every lab's rows against the plan.
let correct = true;
for (let lab = 0; lab < LABS; lab++) {
  const rows = (results[lab] as ResultRows[])[0]?.rows ?? [];
  const expected: { position: number; labs: string[] }[] = [];
  for (let p = 0; p < SHARED_ALL + SHARED_PAIR; p++) {
    if (p < SHARED_ALL) expected.push({ position: p, labs: ids.filter((_, o) => o !== lab).sort() });
    else if (lab < 2) expected.push({ position: p, labs: [ids[1 - lab] as string] });
  }
  const got = rows.map((r) => ({ position: r.position, labs: r.labs ?? [] }));
  correct &&= JSON.stringify(got) === JSON.stringify(expected);
}
const peak = relay.peakMb();
await relay.stop();

const mb = (bytes: number) => bytes / 1e6;
line(ingestLine);
line(
  `  hops 1–2 + results:   ${mb(hopBytes).toFixed(0)} MB in ${(hopsMs / 1000).toFixed(2)} s = ${(mb(hopBytes) / (hopsMs / 1000)).toFixed(0)} MB/s`,
);
line(
  `  slowest blind_result request (the one that matches ${LABS} × ${N.toLocaleString('en-US')} tags and signs the rows): ${(lastPostMs / 1000).toFixed(2)} s (target ≤ 5)`,
);
line(`  relay peak memory:    ${peak.toFixed(0)} MB (target ≤ 500); after hop 0: ${peakAfterIngest.toFixed(0)} MB`);
line(
  `  results:              ${correct ? 'correct' : 'WRONG'} (planted: ${SHARED_ALL.toLocaleString('en-US')} in all three sets, ${SHARED_PAIR.toLocaleString('en-US')} in two)`,
);
if (!correct) process.exitCode = 1;
