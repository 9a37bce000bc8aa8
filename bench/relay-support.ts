/**
 * What the relay benchmarks share: a relay started for real as a child process (`overlap relay
 * serve` on a fresh home), its peak memory read from /proc, labs enrolled by the admin over HTTP,
 * and latency statistics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, type LabRun, RelayClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { parseVerifierKey } from '@overlap/log';
import { initRelay } from '@overlap/relay';

export const line = (text: string) => process.stdout.write(`${text}\n`);

const main = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts');

export interface BenchRelay {
  url: string;
  /** The operator's listener: `GET <metricsUrl>/metrics`. */
  metricsUrl: string;
  pid: number;
  dir: string;
  admin: LabKeys;
  info: Awaited<ReturnType<RelayClient['relayInfo']>>;
  clientFor(keys: LabKeys, timings?: number[]): RelayClient;
  enroll(count: number): Promise<LabKeys[]>;
  /** Peak resident memory of the relay process so far, MB (VmHWM). */
  peakMb(): number;
  /** CPU time the relay process has used so far (user + system), seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startBenchRelay(): Promise<BenchRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-bench-relay-'));
  const db = join(dir, 'relay.db');
  const init = await initRelay({ db });
  const admin = await readKeyFile(init.adminKeyFile as string);
  const port = await freePort();
  const metricsPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(process.env.OVERLAP_BENCH_RELAY_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      '--conditions=@overlap/source',
      main,
      'relay',
      'serve',
      '--db',
      db,
      '--port',
      String(port),
      '--metrics-port',
      String(metricsPort),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('relay listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  // A failed run must not leave the relay process behind (its pipes would keep this one alive).
  const fail = (error: unknown) => {
    child.kill('SIGKILL');
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  };
  process.once('unhandledRejection', fail);
  process.once('uncaughtException', fail);
  process.once('exit', () => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  const bootstrap = new RelayClient({ url });
  const info = await bootstrap.relayInfo();
  const verifier = parseVerifierKey(info.vkey);
  const clientFor = (keys: LabKeys, timings?: number[]) => {
    const client = new RelayClient({
      url,
      signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
      ...(process.env.OVERLAP_BENCH_NO_VERIFY ? {} : { logVerifier: verifier }),
    });
    if (timings) {
      const post = client.postEnvelope.bind(client);
      client.postEnvelope = async (session, envelope) => {
        const started = performance.now();
        const receipt = await post(session, envelope);
        timings.push(performance.now() - started);
        return receipt;
      };
    }
    return client;
  };
  const forum = new ForumAdmin(url, admin, { logVerifier: verifier });
  let enrolled = 0;
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    pid: child.pid as number,
    dir,
    admin,
    info,
    clientFor,
    async enroll(count) {
      const labs: LabKeys[] = [];
      for (let i = 0; i < count; i++) {
        const keys = generateLabKeys();
        enrolled++;
        await forum.enroll(
          { signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey },
          `bench-${enrolled}`,
          {
            name: `Bench lab ${enrolled}`,
          },
        );
        labs.push(keys);
      }
      return labs;
    },
    cpuSeconds() {
      // /proc/<pid>/stat fields 14 and 15 (utime, stime) in clock ticks; the name field may hold spaces.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    peakMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function selfPeakMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Whether every lab's run ended without an abort and found exactly `shared`, the e-mails all of them hold. */
export function foundExactly(runs: readonly LabRun[], shared: readonly string[]): boolean {
  const truth = [...shared].sort().join();
  return runs.every(
    (run) =>
      run.abortReason === undefined &&
      (run.results.get('email') ?? [])
        .map((r) => r.value)
        .sort()
        .join() === truth,
  );
}
