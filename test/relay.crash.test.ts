/**
 * The crash suite: the relay runs as a real child process (`overlap relay serve`) on a real SQLite
 * file, 24 labs in 6 sessions upload concurrently, and the relay is killed with SIGKILL three times
 * at moments when many uploads are in flight (20, or as many as 20 s brings on a loaded machine,
 * never fewer than 12 at one kill), then restarted on the same database and port.
 * Afterwards: every envelope any lab holds a receipt for is in the log (proven against the final
 * checkpoint), `fsck` finds nothing, and every lab's results equal the plaintext truth.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, RelayClient, runLabSession } from '@overlap/client';
import { generateLabKeys, type LabKeys, toHex } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import {
  type Checkpoint,
  leafHash,
  parseCheckpoint,
  parseVerifierKey,
  verifyInclusion,
  verifySignedNote,
} from '@overlap/log';
import { type CborValue, type LabResult, type SessionProposal, sealEnvelope } from '@overlap/protocol';
import { fsckRelay, initRelay } from '@overlap/relay';
import { afterAll, expect, test } from 'vitest';

const SESSIONS = 6;
const LABS_PER_SESSION = 4;
// The smallest chunks a proposal allows (spec/protocol.md §5.1), two per set: with the blinding hops,
// the reveals and the hop proofs, enough uploads to kill the relay under at every stage of a session.
const ITEMS = 2048;
const CHUNK = 1024;
const KILLS = 3;
const main = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'overlap-crash-'));
const db = join(dir, 'relay.db');
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `overlap relay serve` and resolves once it listens. */
async function startRelay(port: number): Promise<ChildProcess> {
  const relay = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@overlap/source', main, 'relay', 'serve', '--db', db, '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes('relay listening on')) resolve();
    };
    relay.stdout?.on('data', onData);
    relay.stderr?.on('data', (data: Buffer) => {
      output += data.toString();
    });
    relay.once('exit', (code) => reject(new Error(`relay exited with ${code} before listening:\n${output}`)));
  });
  return relay;
}

function values(session: number, lab: number): string[] {
  // Items shared by the whole session, by labs 0 and 1, and each lab's own.
  const out: string[] = [];
  for (let i = 0; i < ITEMS; i++) {
    if (i % 4 === 0) out.push(`all-${session}-${i}@crash.example`);
    else if (i % 4 === 1 && lab < 2) out.push(`pair-${session}-${i}@crash.example`);
    else out.push(`own-${session}-${lab}-${i}@crash.example`);
  }
  return out;
}

function truth(sets: string[][], lab: number): LabResult[] {
  return (sets[lab] as string[])
    .map((value) => ({
      value,
      labs: sets.flatMap((set, other) => (other !== lab && set.includes(value) ? [other] : [])),
    }))
    .filter((row) => row.labs.length > 0)
    .map((row) => ({ value: row.value, count: row.labs.length }))
    .sort((x, y) => (x.value < y.value ? -1 : 1));
}

test('SIGKILL during concurrent uploads loses no acknowledged envelope; fsck is clean; every lab finishes correctly', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const init = await initRelay({ db });
  const admin = await readKeyFile(init.adminKeyFile as string);
  child = await startRelay(port);

  const retry = { attempts: 400, baseDelayMs: 20, maxDelayMs: 250 };
  let vkey: string | undefined;
  const acked: { envelope: Uint8Array; index: number }[] = [];
  let inFlight = 0;
  const clientFor = (keys: LabKeys) => {
    const client = new RelayClient({
      url,
      signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
      retry,
      ...(vkey && { logVerifier: parseVerifierKey(vkey) }),
    });
    const post = client.postEnvelope.bind(client);
    client.postEnvelope = async (session, envelope) => {
      inFlight++;
      try {
        const receipt = await post(session, envelope);
        acked.push({ envelope, index: receipt.index });
        return receipt;
      } finally {
        inFlight--;
      }
    };
    return client;
  };
  const adminClient = clientFor(admin);
  const info = await adminClient.relayInfo();
  vkey = info.vkey;
  const verifier = parseVerifierKey(info.vkey);

  // Enroll every lab.
  const forum = new ForumAdmin(url, admin, { retry, logVerifier: verifier });
  const labs: { keys: LabKeys; client: RelayClient }[] = [];
  for (let i = 0; i < SESSIONS * LABS_PER_SESSION; i++) {
    const keys = generateLabKeys();
    await forum.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, `lab-${i}`);
    labs.push({ keys, client: clientFor(keys) });
  }
  const publicKeys = new Map(labs.map((lab) => [lab.keys.keyId, lab.keys.signing.publicKey]));
  publicKeys.set(info.relay_key_id, info.log_key);

  // Six sessions of four labs, all running at once.
  const runs: Promise<{
    session: number;
    lab: number;
    results: ReadonlyMap<string, LabResult[]>;
    abortReason?: string;
  }>[] = [];
  const sets: string[][][] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const members = labs.slice(s * LABS_PER_SESSION, (s + 1) * LABS_PER_SESSION);
    sets.push(members.map((_, l) => values(s, l)));
    const proposal: SessionProposal = {
      labs: members.map((m) => m.keys.keyId),
      kinds: ['email'],
      policy: { kind: 'count' },
      maxItemsPerKind: ITEMS,
      chunkSize: CHUNK,
    };
    const sessionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
    const proposer = members[0] as (typeof members)[number];
    const proposed = sealEnvelope(
      { type: 'session_proposal', session: sessionId, seq: 0, created: Date.now(), payload: proposal as CborValue },
      { keyId: proposer.keys.keyId, secretKey: proposer.keys.signing.secretKey },
    );
    await proposer.client.createSession(proposed.bytes);
    members.forEach((member, l) => {
      runs.push(
        runLabSession({
          client: member.client,
          me: member.keys.keyId,
          secretKey: member.keys.signing.secretKey,
          sessionId,
          proposal,
          sets: { email: sets[s]?.[l] as string[] },
          publicKeyOf: (id) => publicKeys.get(id),
          relayKeyId: info.relay_key_id,
          ...(l === 0 && { previous: { seq: 0, hash: proposed.hash } }),
          pollWaitMs: 300,
        }).then((run) => ({ session: s, lab: l, ...run })),
      );
    });
  }

  // Kill the relay whenever at least 20 uploads are in flight (or after 20 s of waiting for them:
  // with both cores busy, the 24 labs of this process hash and blind more and post fewer at once),
  // then restart it.
  const inFlightAtKill: number[] = [];
  let finished = false;
  const all = Promise.all(runs).finally(() => {
    finished = true;
  });
  for (let kill = 0; kill < KILLS && !finished; kill++) {
    const waitedFrom = Date.now();
    while (!finished && inFlight < 20 && Date.now() - waitedFrom < 20_000) await new Promise((r) => setTimeout(r, 2));
    if (finished) break;
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    inFlightAtKill.push(inFlight);
    const dead = child as ChildProcess;
    const exited = new Promise((resolve) => dead.once('exit', resolve));
    dead.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 300)));
    child = await startRelay(port);
  }
  const done = await all;

  expect(inFlightAtKill).toHaveLength(KILLS);
  expect(
    Math.max(...inFlightAtKill),
    `uploads in flight at each kill: ${inFlightAtKill.join(', ')}`,
  ).toBeGreaterThanOrEqual(12);

  // Every lab finished with the plaintext truth.
  for (const run of done) {
    expect(run.abortReason).toBeUndefined();
    const got = [...(run.results.get('email') ?? [])].sort((x, y) => (x.value < y.value ? -1 : 1));
    expect(got).toEqual(truth(sets[run.session] as string[][], run.lab));
  }

  // Every acknowledged envelope is in the log, proven against the final checkpoint.
  const note = await adminClient.checkpoint();
  const latest: Checkpoint = parseCheckpoint(verifySignedNote(note, [verifier]).text);
  expect(acked.length).toBeGreaterThan(SESSIONS * LABS_PER_SESSION * (ITEMS / CHUNK));
  for (const { envelope, index } of acked) {
    const { proof } = await adminClient.inclusion(index, latest.size);
    expect(verifyInclusion(leafHash(envelope), index, latest.size, proof, latest.rootHash)).toBe(true);
  }
  expect(new Set(acked.map((a) => toHex(leafHash(a.envelope)))).size).toBe(new Set(acked.map((a) => a.index)).size);

  // Stop the relay and check its storage.
  const last = child as ChildProcess;
  const stopped = new Promise((resolve) => last.once('exit', resolve));
  last.kill('SIGTERM');
  await stopped;
  child = undefined;
  const report = fsckRelay(db);
  expect(report.findings).toEqual([]);
  expect(report.entries).toBe(latest.size);
}, 240_000);
