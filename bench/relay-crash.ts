/**
 * `pnpm bench relay-crash [KILLS] [UPLOADERS]`: the relay's crash safety, measured. A real `overlap
 * relay serve` process is killed with SIGKILL KILLS times (default 100) at random moments while
 * UPLOADERS labs (default 20) upload at once — each proposes sessions with one partner lab, both
 * join, it uploads 64 chunks of 1,024 tags and aborts the session, then starts the next — every
 * upload retried through the outages as a lab's client does, every receipt verified against the log
 * key. After the last restart it reads the whole log back and prints: the kills, the envelopes
 * acknowledged, those lost (acknowledged, and not at their index in the final log), the distinct
 * checkpoints the labs were shown and how many of them the final log contradicts (a fork), the
 * restart times, and what `overlap relay fsck` says of the database.
 *
 *   pnpm bench relay-crash [KILLS] [UPLOADERS]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, RelayClient, runLabSession } from '@overlap/client';
import { BlindingKey, generateLabKeys, keyCommitment, type LabKeys, toHex } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { leafHash, MerkleTree, parseCheckpoint, parseSignedNote, parseVerifierKey, type Receipt } from '@overlap/log';
import {
  type CborValue,
  EnvelopeChain,
  type MessageType,
  packTags,
  type SessionProposal,
  sealEnvelope,
} from '@overlap/protocol';
import { initRelay } from '@overlap/relay';
import { foundExactly, line, percentile } from './relay-support.js';

const KILLS = Number(process.argv[3] ?? 100);
const UPLOADERS = Number(process.argv[4] ?? 20);
/** Pairs of labs running whole sessions (hashing, hops, proofs, results) one after another. */
const PAIRS = 3;
const ITEMS = 3_000;
const SHARED = 700;
const CHUNK = 1024;
const CHUNKS_PER_SESSION = 64;
const main = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts');
const sourceArgs = ['--import', 'tsx', '--conditions=@overlap/source', main];

line(`pnpm bench relay-crash — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
line(
  `${KILLS} SIGKILLs of the relay while ${UPLOADERS} labs upload (sessions of ${CHUNKS_PER_SESSION} chunks × ${CHUNK} tags, then an abort)`,
);
line(
  `and ${PAIRS} pairs of labs run whole sessions of 2 × ${ITEMS.toLocaleString('en-US')} e-mails (${SHARED} shared), each checked against the plaintext truth`,
);

const dir = mkdtempSync(join(tmpdir(), 'overlap-bench-crash-'));
const db = join(dir, 'relay.db');
const init = await initRelay({ db });
const adminKeys = await readKeyFile(init.adminKeyFile as string);

/** The relay process, started again after every kill on the same database and port. */
let relay: ChildProcess | undefined;
let port = 0;
const restartMs: number[] = [];

async function startRelay(): Promise<void> {
  const started = performance.now();
  const child = spawn(process.execPath, [...sourceArgs, 'relay', 'serve', '--db', db, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const listening = /relay listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (listening) {
        port = Number(listening[1]);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code}: ${err.trim()}`)));
  });
  child.removeAllListeners('exit');
  relay = child;
  restartMs.push(performance.now() - started);
}

async function killRelay(): Promise<void> {
  const child = relay as ChildProcess;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

process.once('exit', () => relay?.kill('SIGKILL'));
await startRelay();
restartMs.length = 0; // the first start is not a restart
const url = `http://127.0.0.1:${port}`;
const info = await new RelayClient({ url }).relayInfo();
const verifier = parseVerifierKey(info.vkey);
const forum = new ForumAdmin(url, adminKeys, { logVerifier: verifier });

async function enroll(name: string): Promise<LabKeys> {
  const keys = generateLabKeys();
  await forum.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, name);
  return keys;
}
const partner = await enroll('partner');
// One at a time: the admin's envelopes form one chain.
const uploaders: LabKeys[] = [];
for (let i = 0; i < UPLOADERS; i++) uploaders.push(await enroll(`uploader-${i}`));
const pairs: [LabKeys, LabKeys][] = [];
for (let i = 0; i < PAIRS; i++) pairs.push([await enroll(`pair-${i}-a`), await enroll(`pair-${i}-b`)]);
const publicKeys = new Map([...pairs.flat()].map((k) => [k.keyId, k.signing.publicKey]));
publicKeys.set(info.relay_key_id, info.log_key);
const pool = new BatchPool({ workers: 1 });

/** Every acknowledged envelope: its log index and leaf hash; and every checkpoint the labs were shown. */
const acked: { index: number; leaf: Uint8Array }[] = [];
const checkpoints = new Map<string, { size: number; root: string }>(); // by size and root: a fork is two roots at one size
/** A lab's client that retries through the outages, verifies every receipt and records it. */
function clientOf(keys: LabKeys): RelayClient {
  const client = new RelayClient({
    url,
    signer: { keyId: keys.keyId, secretKey: keys.signing.secretKey },
    logVerifier: verifier,
    retry: { attempts: Number.POSITIVE_INFINITY, maxElapsedMs: 300_000, baseDelayMs: 50, maxDelayMs: 1_000 },
  });
  const post = client.postEnvelope.bind(client);
  client.postEnvelope = async (session, envelope) => {
    const receipt = await post(session, envelope);
    record(envelope, receipt);
    return receipt;
  };
  return client;
}
function record(envelope: Uint8Array, receipt: Receipt): void {
  acked.push({ index: receipt.index, leaf: leafHash(envelope) });
  const checkpoint = parseCheckpoint(parseSignedNote(receipt.checkpoint).text);
  const root = toHex(checkpoint.rootHash);
  checkpoints.set(`${checkpoint.size}:${root}`, { size: checkpoint.size, root });
}

let stopping = false;
let sessions = 0;
const partnerClient = clientOf(partner);

/** One uploader: sessions one after another until the kills are over. */
async function upload(keys: LabKeys): Promise<void> {
  const client = clientOf(keys);
  while (!stopping) {
    const session = new Uint8Array(randomBytes(16));
    const proposal = {
      labs: [keys.keyId, partner.keyId],
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: CHUNK * CHUNKS_PER_SESSION,
      chunkSize: CHUNK,
    };
    const proposed = sealEnvelope(
      { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
      { keyId: keys.keyId, secretKey: keys.signing.secretKey },
    );
    record(proposed.bytes, (await client.createSession(proposed.bytes)).receipt);
    const hex = toHex(session);
    const mine = new EnvelopeChain(
      session,
      { keyId: keys.keyId, secretKey: keys.signing.secretKey },
      {
        seq: 0,
        hash: proposed.hash,
      },
    );
    const theirs = new EnvelopeChain(session, { keyId: partner.keyId, secretKey: partner.signing.secretKey });
    const send = async (chain: EnvelopeChain, by: RelayClient, type: MessageType, payload: unknown) => {
      const envelope = chain.seal(type, payload as CborValue, Date.now());
      await by.postEnvelope(hex, envelope.bytes);
    };
    const join = (size: number) => {
      const key = BlindingKey.generate();
      const body = { sizes: { email: size }, key: keyCommitment(key), coin: new Uint8Array(randomBytes(32)) };
      key.dispose();
      return body;
    };
    await send(mine, client, 'join', join(CHUNK * CHUNKS_PER_SESSION));
    await send(theirs, partnerClient, 'join', join(0));
    for (let c = 0; c < CHUNKS_PER_SESSION && !stopping; c++) {
      const tags = packTags(Array.from({ length: CHUNK }, randomPoint));
      await send(mine, client, 'tag_chunk', { kind: 'email', owner: keys.keyId, hop: 0, first: c * CHUNK, tags });
    }
    await send(mine, client, 'abort', { reason: 'bench: session done' });
    sessions++;
  }
}

/** Whole sessions of one pair, one after another until the kills are over; each checked against the truth. */
const finished = { correct: 0, wrong: [] as string[] };
async function exchange([first, second]: [LabKeys, LabKeys], pair: number): Promise<void> {
  for (let round = 0; !stopping; round++) {
    const session = new Uint8Array(randomBytes(16));
    const proposal: SessionProposal = {
      labs: [first.keyId, second.keyId],
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: ITEMS,
      chunkSize: CHUNK,
    };
    const proposed = sealEnvelope(
      { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
      { keyId: first.keyId, secretKey: first.signing.secretKey },
    );
    record(proposed.bytes, (await clientOf(first).createSession(proposed.bytes)).receipt);
    const set = (lab: number) =>
      Array.from({ length: ITEMS }, (_, i) =>
        i < SHARED ? `s${pair}-${round}-${i}@crash.example` : `l${lab}-${pair}-${round}-${i}@crash.example`,
      );
    const runs = [first, second].map((keys, lab) =>
      runLabSession({
        client: clientOf(keys),
        me: keys.keyId,
        secretKey: keys.signing.secretKey,
        sessionId: session,
        proposal,
        sets: { email: set(lab) },
        publicKeyOf: (id) => publicKeys.get(id),
        relayKeyId: info.relay_key_id,
        ...(lab === 0 && { previous: { seq: 0, hash: proposed.hash } }),
        pool,
        pollWaitMs: 2_000,
      }),
    );
    const outcomes = await Promise.all(runs);
    const shared = Array.from({ length: SHARED }, (_, i) => `s${pair}-${round}-${i}@crash.example`);
    if (foundExactly(outcomes, shared)) finished.correct++;
    else
      finished.wrong.push(
        `${toHex(session)}: ${outcomes.map((o) => o.abortReason ?? `${o.results.get('email')?.length} rows`).join('; ')}`,
      );
  }
}

/** A random X25519 public point: canonical (top bit clear), and of low order with negligible probability. */
function randomPoint(): Uint8Array {
  const point = new Uint8Array(randomBytes(32));
  point[31] = (point[31] as number) & 0x7f;
  return point;
}

const started = performance.now();
const running = [...uploaders.map((keys) => upload(keys)), ...pairs.map((pair, i) => exchange(pair, i))];
for (let kill = 0; kill < KILLS; kill++) {
  await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 450));
  await killRelay();
  await startRelay();
  if ((kill + 1) % 10 === 0) line(`  ${kill + 1} kills, ${acked.length} envelopes acknowledged so far`);
}
stopping = true;
await Promise.all(running);
await pool.close();
const wallSeconds = (performance.now() - started) / 1000;

// The final log, read back: every acknowledged envelope at its index, every checkpoint shown consistent.
const reader = new RelayClient({ url, logVerifier: verifier });
const final = parseCheckpoint(parseSignedNote(await reader.checkpoint()).text);
const size = final.size;
const leaves: Uint8Array[] = [];
for (let start = 0; start < size; start += 1000) {
  const { entries } = await reader.entries(start, Math.min(size, start + 1000));
  for (const entry of entries) leaves[entry.index] = entry.leaf_hash;
}
const lost = acked.filter(
  (a) => leaves[a.index] === undefined || toHex(leaves[a.index] as Uint8Array) !== toHex(a.leaf),
);
const tree = new MerkleTree(leaves);
const forks = [...checkpoints.values()].filter((c) => c.size > size || toHex(tree.root(c.size)) !== c.root);
// The leaves the relay served must make the root it signs now.
const leavesMatch = tree.size === size && toHex(tree.root()) === toHex(final.rootHash);
await killRelay();
relay = undefined;
const fsck = spawnSync(process.execPath, [...sourceArgs, 'relay', 'fsck', '--db', db], { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });

const sortedRestarts = [...restartMs].sort((a, b) => a - b);
line(`  wall time:              ${wallSeconds.toFixed(0)} s`);
line(`  kills:                  ${KILLS} (SIGKILL), ${UPLOADERS} concurrent uploaders, ${sessions} sessions completed`);
line(`  acknowledged:           ${acked.length} envelopes; final log ${size} entries`);
line(
  `  whole sessions:         ${finished.correct} finished with correct results, ${finished.wrong.length} wrong${finished.wrong.length > 0 ? `: ${finished.wrong.join(' | ')}` : ''}`,
);
line(`  lost:                   ${lost.length} (acknowledged, not at their index in the final log)`);
line(
  `  checkpoints shown:      ${checkpoints.size} distinct; forks: ${forks.length} (contradicted by the final log); the log's leaves ${leavesMatch ? 'make' : 'do NOT make'} its final signed root`,
);
line(
  `  restart to listening:   p50 ${(percentile(sortedRestarts, 50) / 1000).toFixed(1)} s, max ${((sortedRestarts.at(-1) ?? 0) / 1000).toFixed(1)} s (a tsx process start included)`,
);
line(`  fsck:                   exit ${fsck.status}: ${(fsck.stdout.trim().split('\n').at(-1) ?? '').slice(0, 160)}`);
const measured = acked.length > 0 && finished.correct > 0;
if (!measured) line('  nothing measured: no envelope acknowledged, or no whole session finished');
if (
  !measured ||
  !leavesMatch ||
  lost.length > 0 ||
  forks.length > 0 ||
  fsck.status !== 0 ||
  finished.wrong.length > 0
) {
  process.exitCode = 1;
}
