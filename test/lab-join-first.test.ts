/**
 * A lab sends its `join` before it hashes its set (spec/protocol.md §5), so that a session's join
 * deadline measures whether the lab takes part, not how long its set takes: when lab b reports
 * that it is hashing, the relay already lists it as joined, and waits on its upload. A lab that
 * stops there (here: its process gives up at that moment) resumes from its state directory: it
 * sends no second join (another one at the same seq would be refused as equivocation, and abort
 * the session naming it), hashes its set again after the join it sent, and both labs get the
 * plaintext truth; the audit of the transcript passes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyTranscript } from '@overlap/audit';
import { ForumAdmin, type LabProgress, OverlapClient, RelayClient } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { decodeTranscript, openEnvelope } from '@overlap/protocol';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-join-first-'));
let relay: RelayServer;
let pool: BatchPool;
let adminKeys: Awaited<ReturnType<typeof readKeyFile>>;
beforeAll(async () => {
  const init = await initRelay({ db: join(dir, 'relay.db') });
  relay = await startRelayServer({ db: init.db, port: 0 });
  adminKeys = await readKeyFile(init.adminKeyFile as string);
  pool = new BatchPool({ workers: 1 });
});
afterAll(async () => {
  await pool.close();
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

const N = 3_000;
const SHARED = 700;
const values = (lab: string) =>
  Array.from({ length: N }, (_, i) => (i < SHARED ? `shared${i}@join.example` : `${lab}${i}@join.example`));

class StopHere extends Error {}

test('b is joined at the relay when it starts hashing; stopped there, it resumes without a second join', async () => {
  const admin = new ForumAdmin(relay.url, adminKeys);
  const a = generateLabKeys();
  const b = generateLabKeys();
  await admin.enroll({ signingKey: a.signing.publicKey, sealingKey: a.sealing.publicKey }, 'lab-a');
  await admin.enroll({ signingKey: b.signing.publicKey, sealingKey: b.sealing.publicKey }, 'lab-b');
  const clientA = await OverlapClient.connect({ relayUrl: relay.url, keys: a, logKey: relay.vkey, pool });
  const session = await clientA.createSession({
    labs: ['lab-a', 'lab-b'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: N,
  });
  const runA = clientA.run(session, { email: values('a') });

  const stateDir = join(dir, 'state-b');
  const phases: string[] = [];
  const stopAtHashing = (event: LabProgress) => {
    phases.push(event.phase);
    if (event.phase === 'hashing') throw new StopHere('stopped as it starts hashing');
  };
  const first = await OverlapClient.connect({
    relayUrl: relay.url,
    keys: b,
    logKey: relay.vkey,
    pool,
    stateDir,
    onProgress: stopAtHashing,
  });
  await expect(first.run(session, { email: values('b') }, { keepState: true })).rejects.toBeInstanceOf(StopHere);
  const { status } = await clientA.terms(session);
  expect(status.joined).toContain(b.keyId);
  expect(status.waiting_on).toContain(b.keyId); // for its upload
  expect(phases).toEqual(['hashing']);

  const resumedPhases: string[] = [];
  const second = await OverlapClient.connect({
    relayUrl: relay.url,
    keys: b,
    logKey: relay.vkey,
    pool,
    stateDir,
    onProgress: (event) => resumedPhases.push(event.phase),
  });
  const runB = await second.run(session, { email: values('b') });
  expect(resumedPhases[0]).toBe('resuming');
  expect(runB.abortReason).toBeUndefined();
  const shared = Array.from({ length: SHARED }, (_, i) => `shared${i}@join.example`).sort();
  expect(runB.results.map((r) => r.value).sort()).toEqual(shared);
  expect((await runA).results.map((r) => r.value).sort()).toEqual(shared);

  const transcript = await new RelayClient({
    url: relay.url,
    signer: { keyId: adminKeys.keyId, secretKey: adminKeys.signing.secretKey },
  }).transcript(session);
  const report = verifyTranscript(transcript, { adminKey: adminKeys.signing.publicKey });
  expect(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok))).toBe(true);
  const signers = new Map([a, b].map((k) => [k.keyId, k.signing.publicKey]));
  const joinsOfB = decodeTranscript(transcript)
    .envelopes.map((e) => openEnvelope(e.envelope, (id) => signers.get(id) ?? relayKey(transcript)))
    .filter((e) => e.header.type === 'join' && e.header.sender === b.keyId);
  expect(joinsOfB).toHaveLength(1);
}, 120_000);

/** The relay's log key, as the transcript gives it. */
function relayKey(transcript: Uint8Array): Uint8Array {
  return decodeTranscript(transcript).relay.log_key;
}
