/**
 * `pnpm bench relay-abuse [ITEMS]`: the relay under abuse. Three honest labs run a session of
 * 3 × ITEMS (default 100,000) e-mails through a real `overlap relay serve` process, first alone
 * (the baseline), then while four attackers, each its own process under `nice -n 19` (they share the
 * two cores with the relay and the labs), send (a) 300 concurrent unauthenticated 8 MiB bodies,
 * (b) CBOR bombs from an enrolled lab, (c) session spam from an enrolled lab naming an honest one,
 * (d) slow headers and slow bodies. A probe process times `GET /healthz` every 50 ms throughout.
 * It prints, for both runs, the session's wall time and results (against the plaintext truth), the
 * probe's p50/p99, and the relay's peak memory, against the targets: RSS ≤ 600 MB, /healthz p99
 * ≤ 50 ms, the attacked session ≤ 1.5 × the baseline, correct. Exits 1 when one is missed.
 *
 *   pnpm bench relay-abuse [ITEMS]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runLabSession } from '@overlap/client';
import type { LabKeys } from '@overlap/crypto';
import { BatchPool, writeKeyFile } from '@overlap/crypto/node';
import { type CborValue, type SessionProposal, sealEnvelope } from '@overlap/protocol';
import { foundExactly, line, startBenchRelay } from './relay-support.js';

const ITEMS = Number(process.argv[3] ?? 100_000);
const SHARED = Math.floor(ITEMS / 10);
const attacker = join(import.meta.dirname, 'relay-abuse-attacker.ts');

line(`pnpm bench relay-abuse — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
line(`3 honest labs × ${ITEMS.toLocaleString('en-US')} e-mails (${SHARED.toLocaleString('en-US')} held by all three)`);

const relay = await startBenchRelay();
const [a, b, c, bomber, spammer] = (await relay.enroll(5)) as [LabKeys, LabKeys, LabKeys, LabKeys, LabKeys];
const honest = [a, b, c];
const publicKeys = new Map(honest.map((k) => [k.keyId, k.signing.publicKey]));
publicKeys.set(relay.info.relay_key_id, relay.info.log_key);
const pool = new BatchPool();

/** One 3-lab session through the relay: its wall time, and whether every lab got the truth. */
async function honestSession(round: string): Promise<{ seconds: number; correct: boolean }> {
  const proposal: SessionProposal = {
    labs: honest.map((k) => k.keyId),
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: ITEMS,
    chunkSize: 16_384,
  };
  const session = new Uint8Array(randomBytes(16));
  const proposed = sealEnvelope(
    { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
    { keyId: a.keyId, secretKey: a.signing.secretKey },
  );
  const started = performance.now();
  await relay.clientFor(a).createSession(proposed.bytes);
  const set = (lab: number) =>
    Array.from({ length: ITEMS }, (_, i) =>
      i < SHARED ? `${round}-shared-${i}@abuse.example` : `${round}-${lab}-${i}@abuse.example`,
    );
  const runs = await Promise.all(
    honest.map((keys, lab) =>
      runLabSession({
        client: relay.clientFor(keys),
        me: keys.keyId,
        secretKey: keys.signing.secretKey,
        sessionId: session,
        proposal,
        sets: { email: set(lab) },
        publicKeyOf: (id) => publicKeys.get(id),
        relayKeyId: relay.info.relay_key_id,
        ...(lab === 0 && { previous: { seq: 0, hash: proposed.hash } }),
        pool,
        pollWaitMs: 5_000,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const shared = Array.from({ length: SHARED }, (_, i) => `${round}-shared-${i}@abuse.example`);
  return { seconds, correct: foundExactly(runs, shared) };
}

/** An attacker (or the probe) as its own process under `nice -n 19` (the probe at normal priority). */
function start(mode: string, keys?: LabKeys, victim?: string): Promise<ChildProcess> {
  const args = ['--import', 'tsx', '--conditions=@overlap/source', attacker, mode, relay.url];
  if (keys) args.push(join(relay.dir, `${mode}.key`));
  if (victim) args.push(victim);
  const child =
    mode === 'probe'
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('nice', ['-n', '19', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve) => {
    child.stdout?.once('data', () => resolve(child));
  });
}

/** Stops a process started by `start` and answers the JSON line it prints. */
async function stop(child: ChildProcess): Promise<Record<string, unknown>> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

await writeKeyFile(join(relay.dir, 'bombs.key'), bomber);
await writeKeyFile(join(relay.dir, 'spam.key'), spammer);

line('baseline: the session alone, the probe running');
let probe = await start('probe');
const baseline = await honestSession('base');
const baseProbe = await stop(probe);
const basePeak = relay.peakMb();

line('attacked: the same session while (a) bodies, (b) bombs, (c) spam and (d) slow run under nice -n 19');
probe = await start('probe');
const attackers = await Promise.all([
  start('bodies'),
  start('bombs', bomber),
  start('spam', spammer, a.keyId),
  start('slow'),
]);
const attacked = await honestSession('attack');
const attackProbe = await stop(probe);
const attackerReports = await Promise.all(attackers.map(stop));
const attackPeak = relay.peakMb();
await pool.close();
await relay.stop();

const ms = (value: unknown) => `${Number(value).toFixed(1)} ms`;
const ratio = attacked.seconds / baseline.seconds;
line(
  `  baseline:  ${baseline.seconds.toFixed(1)} s, results ${baseline.correct ? 'correct' : 'WRONG'}; /healthz p50 ${ms(baseProbe.p50)}, p99 ${ms(baseProbe.p99)}, max ${ms(baseProbe.max)} (${baseProbe.n} probes); relay peak ${basePeak.toFixed(0)} MB`,
);
line(
  `  attacked:  ${attacked.seconds.toFixed(1)} s = ${ratio.toFixed(2)} × baseline (target ≤ 1.5), results ${attacked.correct ? 'correct' : 'WRONG'}`,
);
line(
  `             /healthz p50 ${ms(attackProbe.p50)}, p99 ${ms(attackProbe.p99)} (target ≤ 50 ms), max ${ms(attackProbe.max)} (${attackProbe.n} probes)`,
);
line(`             relay peak memory (VmHWM) ${attackPeak.toFixed(0)} MB (target ≤ 600 MB)`);
for (const report of attackerReports)
  line(`  attacker ${String(report.mode).padEnd(7)} answers: ${JSON.stringify(report.statuses)}`);
const unhealthy = (probe: Record<string, unknown>) =>
  Object.entries((probe.statuses as Record<string, number>) ?? {})
    .filter(([status]) => status !== '200')
    .reduce((n, [, count]) => n + count, 0);
line(`  /healthz answers other than 200: baseline ${unhealthy(baseProbe)}, attacked ${unhealthy(attackProbe)}`);
const met =
  baseline.correct &&
  attacked.correct &&
  ratio <= 1.5 &&
  Number(attackProbe.p99) <= 50 &&
  unhealthy(attackProbe) === 0 &&
  attackPeak <= 600;
line(`  targets:   ${met ? 'met' : 'NOT met'}`);
if (!met) process.exitCode = 1;
