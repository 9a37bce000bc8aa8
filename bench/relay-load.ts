/**
 * `pnpm bench relay-load`: the relay under a realistic load — 8 real labs (LabSession, real hashing
 * and blinding on a shared worker pool) in 4 concurrent sessions of 2 labs × 50,000 e-mail
 * indicators each, all through one relay process on loopback, every receipt verified. Prints
 * requests per second and bytes ingested (from the relay's own /metrics), p50/p99 latency of the
 * uploads, the peak memory of the relay and of the labs' process, and checks every lab's results
 * against the plaintext truth.
 *
 *   pnpm bench relay-load [ITEMS]
 */
import { randomBytes } from 'node:crypto';
import { type LabRun, runLabSession } from '@overlap/client';
import { BatchPool } from '@overlap/crypto/node';
import { type CborValue, type SessionProposal, sealEnvelope } from '@overlap/protocol';
import { line, percentile, selfPeakMb, startBenchRelay } from './relay-support.js';

const ITEMS = Number(process.argv[3] ?? 50_000);
const SESSIONS = 4;
const LABS = 8;
const SHARED = Math.floor(ITEMS / 5); // each pair shares a fifth of its items

line(`pnpm bench relay-load — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
line(
  `${LABS} labs, ${SESSIONS} concurrent sessions of 2 labs × ${ITEMS.toLocaleString('en-US')} e-mail indicators, policy "labs"`,
);

const relay = await startBenchRelay();
const keys = await relay.enroll(LABS);
const latencies: number[] = [];
const clients = keys.map((k) => relay.clientFor(k, latencies));
const publicKeys = new Map(keys.map((k) => [k.keyId, k.signing.publicKey]));
publicKeys.set(relay.info.relay_key_id, relay.info.log_key);
const pool = new BatchPool();

const setOf = (session: number, member: number) =>
  Array.from({ length: ITEMS }, (_, i) =>
    i < SHARED ? `shared-${session}-${i}@load.example` : `own-${session}-${member}-${i}@load.example`,
  );

const started = performance.now();
const runs: Promise<{ session: number; member: number; run: LabRun }>[] = [];
for (let s = 0; s < SESSIONS; s++) {
  const members = [2 * s, 2 * s + 1];
  const proposal: SessionProposal = {
    labs: members.map((m) => keys[m]?.keyId as string),
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: ITEMS,
    chunkSize: 16_384,
  };
  const sessionId = new Uint8Array(randomBytes(16));
  const proposer = keys[members[0] as number] as (typeof keys)[number];
  const proposed = sealEnvelope(
    { type: 'session_proposal', session: sessionId, seq: 0, created: Date.now(), payload: proposal as CborValue },
    { keyId: proposer.keyId, secretKey: proposer.signing.secretKey },
  );
  await clients[members[0] as number]?.createSession(proposed.bytes);
  members.forEach((lab, member) => {
    const k = keys[lab] as (typeof keys)[number];
    runs.push(
      runLabSession({
        client: clients[lab] as (typeof clients)[number],
        me: k.keyId,
        secretKey: k.signing.secretKey,
        sessionId,
        proposal,
        sets: { email: setOf(s, member) },
        publicKeyOf: (id) => publicKeys.get(id),
        relayKeyId: relay.info.relay_key_id,
        ...(member === 0 && { previous: { seq: 0, hash: proposed.hash } }),
        pool,
        pollWaitMs: 5_000,
      }).then((run) => ({ session: s, member, run })),
    );
  });
}
const done = await Promise.all(runs);
const wallMs = performance.now() - started;
await pool.close();

let correct = true;
for (const { session, member, run } of done) {
  const rows = run.results.get('email') ?? [];
  const other = keys[2 * session + (1 - member)]?.keyId as string;
  correct &&=
    run.abortReason === undefined &&
    rows.length === SHARED &&
    rows.every((row) => row.value.startsWith(`shared-${session}-`) && row.labs?.join() === other);
}

const metrics = await (await fetch(`${relay.metricsUrl}/metrics`)).text();
const sum = (name: string) =>
  metrics
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
const requests = sum('overlap_relay_requests_total');
const bytesIn = sum('overlap_relay_bytes_in_total');
const relayPeak = relay.peakMb();
await relay.stop();

const sorted = [...latencies].sort((a, b) => a - b);
const seconds = wallMs / 1000;
line(`  wall time:            ${seconds.toFixed(1)} s (hashing and blinding on the worker pool dominate)`);
line(`  requests:             ${requests} = ${(requests / seconds).toFixed(0)} requests/s`);
line(
  `  uploads (POST):       ${sorted.length}, latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
);
line(`  ingested:             ${(bytesIn / 1e6).toFixed(0)} MB = ${(bytesIn / 1e6 / seconds).toFixed(1)} MB/s`);
line(`  peak memory:          relay ${relayPeak.toFixed(0)} MB, labs' process ${selfPeakMb().toFixed(0)} MB`);
line(`  results:              ${correct ? 'correct' : 'WRONG'} (${SHARED.toLocaleString('en-US')} shared per session)`);
if (!correct) process.exitCode = 1;
