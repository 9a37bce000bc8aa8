/**
 * The relay's disk fills during a session, then has room again: no checkpoint is ever served over
 * entries that did not commit, the relay says it cannot write (`/healthz`, `/metrics`, 503
 * `STORAGE_UNAVAILABLE` with a Retry-After), and once space is back both labs' runs finish with the
 * plaintext truth — on the same relay process, without a restart.
 *
 * The disk is a real one: a 4 MiB tmpfs this test mounts (it needs root, as on this project's
 * machines and CI), holding the relay's whole home; a filler file takes all but a few KiB of it
 * once the labs are enrolled and the session proposed. Two cases: sets of 300 values, whose
 * envelopes are stored inside SQLite, so that the write that fails is the WAL's, at COMMIT (where
 * the relay used to publish a checkpoint it then did not have); and sets of 2,100, whose tag chunks
 * (over 64 KiB) are files of their own, with the blob folder on a second tmpfs of its own that
 * fills while the database's has room, so that the write that fails is a blob file's. Every checkpoint the relay served meanwhile is
 * sampled over HTTP and, at the end, proven consistent with the final log (after a restart, from
 * the database alone); the labs' own clients check every checkpoint they see against the ones
 * before it (the log monitor) and would fail on a fork.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { parseCheckpoint, verifyConsistency } from '@overlap/log';
import { decodeDeterministic } from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-disk-full-'));
const disk = join(dir, 'disk');
mkdirSync(disk);
const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];
function mountTmpfs(at: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', at]);
  mounts.unshift(at);
}
function unmount(at: string): void {
  execFileSync('umount', [at]);
  mounts.splice(mounts.indexOf(at), 1);
}
if (isRoot) mountTmpfs(disk);
const pool = new BatchPool({ workers: 1 });
let relay: RelayServer | undefined;
afterAll(async () => {
  await relay?.close();
  await pool.close();
  for (const at of [...mounts]) unmount(at);
  rmSync(dir, { recursive: true, force: true });
});

const values = (lab: string, n: number) =>
  Array.from({ length: n }, (_, i) => (i < 100 ? `shared${i}@disk.example` : `${lab}${i}@disk.example`));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The checkpoint the relay serves now: its size and root (undefined while it answers 503). */
async function servedCheckpoint(url: string): Promise<{ size: number; root: string } | undefined> {
  const response = await fetch(`${url}/v1/log/checkpoint`);
  if (response.status === 503) return undefined;
  expect(response.status).toBe(200);
  const note = await response.text();
  const checkpoint = parseCheckpoint(`${note.split('\n\n')[0]}\n`);
  return { size: checkpoint.size, root: Buffer.from(checkpoint.rootHash).toString('hex') };
}

test.skipIf(!isRoot).each([
  ['the WAL at COMMIT', 300, 'database', /a write failed \(database or disk is full\)/],
  ['a blob file', 2_100, 'blobs', /a write failed \(cannot write .*: no space left on the device\)/],
])(
  'a disk that fills mid-session (%s fails): no checkpoint over what did not commit, 503 while full, both labs finish once there is room',
  async (_what, n, fills, failure) => {
    const home = join(disk, `home-${n}`);
    const db = join(home, 'relay.db');
    const init = await initRelay({ db });
    const blobs = join(home, 'blobs');
    mkdirSync(blobs, { recursive: true, mode: 0o700 });
    if (fills === 'blobs') mountTmpfs(blobs);
    const full = fills === 'blobs' ? blobs : home;
    const events: string[] = [];
    relay = await startRelayServer({
      db,
      port: 0,
      controlSocket: false,
      metrics: { port: 0 },
      onWarning: (line) => events.push(line),
    });
    const url = relay.url;
    const metricsUrl = relay.metricsUrl as string;
    const admin = new ForumAdmin(url, await readKeyFile(init.adminKeyFile as string));
    const labs: Record<'a' | 'b', LabKeys> = { a: generateLabKeys(), b: generateLabKeys() };
    for (const [name, keys] of Object.entries(labs)) {
      await admin.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, name);
    }
    const reasons = new Set<string>();
    const connect = (name: 'a' | 'b') =>
      OverlapClient.connect({
        relayUrl: url,
        keys: labs[name],
        logKey: relay?.vkey as string,
        pool,
        stateDir: join(dir, `state-${n}-${name}`),
        retry: {
          baseDelayMs: 50,
          maxDelayMs: 1000,
          maxElapsedMs: 120_000,
          onRetry: (info) => reasons.add(info.reason),
        },
      });
    const a = await connect('a');
    const b = await connect('b');
    const session = await a.createSession({
      labs: ['a', 'b'],
      kinds: ['email'],
      policy: 'labs',
      maxItemsPerKind: 5000,
    });

    // The disk fills: a few KiB are left, less than the session's envelopes need.
    const free = () => {
      const s = statfsSync(full);
      return s.bavail * s.bsize;
    };
    const filler = join(full, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 24 * 1024)));

    // Every checkpoint served while it runs, sampled.
    const served: { size: number; root: string }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const checkpoint = await servedCheckpoint(url);
        if (checkpoint !== undefined) served.push(checkpoint);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    sampler.catch(() => {}); // awaited below; a failure then fails the test

    const runs = Promise.all([a.run(session, { email: values('a', n) }), b.run(session, { email: values('b', n) })]);
    let failed: unknown;
    runs.catch((error) => {
      failed = error;
    });
    /** The runs' own failure ends any wait at once. */
    const running = (condition: () => boolean | Promise<boolean>) => async () => {
      if (failed !== undefined) throw failed;
      return condition();
    };
    // The relay cannot write: it says so on /healthz and /metrics, and the labs are told 503.
    await until(
      running(async () => (await fetch(`${url}/healthz`)).status === 503),
      '/healthz to answer 503',
    );
    const health = await fetch(`${url}/healthz`);
    if (health.status === 503) expect(await health.json()).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^overlap_relay_storage_failures_total [1-9]/m);
    await until(
      running(() => [...reasons].some((r) => r.startsWith('HTTP 503 STORAGE_UNAVAILABLE'))),
      'a lab told 503',
    );

    // Room again: the same relay process accepts the retries, and both labs finish.
    rmSync(filler);
    const [outcomeA, outcomeB] = await runs;
    sampling = false;
    await sampler;
    const shared = Array.from({ length: 100 }, (_, i) => `shared${i}@disk.example`).sort();
    expect(outcomeA.results.map((r) => r.value)).toEqual(shared);
    expect(outcomeB.results.map((r) => r.value)).toEqual(shared);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${metricsUrl}/metrics`)).text()).toMatch(/^overlap_relay_writable 1$/m);
    expect(
      events.some((line) => failure.test(line) && /rebuilding the state/.test(line)),
      events.join('\n'),
    ).toBe(true);
    expect(events.some((line) => /the relay can write its log again/.test(line))).toBe(true);

    // No fork: every checkpoint served is in the log the database holds, read after a restart.
    await relay.close();
    relay = await startRelayServer({ db, port: 0, controlSocket: false, onWarning: () => {} });
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const final = (await servedCheckpoint(relay.url)) as { size: number; root: string };
    const bySize = new Map<number, string>();
    for (const { size, root } of served) {
      expect(bySize.get(size) ?? root, `two roots for size ${size}`).toBe(root);
      bySize.set(size, root);
    }
    expect(bySize.size).toBeGreaterThan(1);
    for (const [size, root] of bySize) {
      if (size === 0 || size === final.size) {
        if (size === final.size) expect(root).toBe(final.root);
        continue;
      }
      const answer = decodeDeterministic(
        new Uint8Array(
          await (await fetch(`${relay.url}/v1/log/consistency?from=${size}&to=${final.size}`)).arrayBuffer(),
        ),
      ) as { proof: Uint8Array[] };
      const consistent = verifyConsistency(
        size,
        final.size,
        answer.proof,
        Buffer.from(root, 'hex'),
        Buffer.from(final.root, 'hex'),
      );
      expect(consistent, `checkpoint ${size} served during the run is not in the final log`).toBe(true);
    }
    await relay.close();
    relay = undefined;
    if (fills === 'blobs') unmount(blobs);
    rmSync(home, { recursive: true, force: true });
  },
  180_000,
);
