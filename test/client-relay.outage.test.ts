/**
 * An outage of the relay is waited out: two labs run a session through the SDK, the relay is
 * stopped while they wait on their inboxes (long-polls in flight), stays down for longer than the
 * old budget of 8 attempts could cover, and comes back on the same port with the same database.
 * With a time budget (`retry.maxElapsedMs`) both runs finish with the plaintext truth, and
 * `onRetry` told each lab why it was waiting ("connection refused").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, type LabProgress, OverlapClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-outage-'));
const pool = new BatchPool({ workers: 1 });
let relay: RelayServer | undefined;
afterAll(async () => {
  await relay?.close();
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Short backoff, so that the old budget (8 attempts, at most 7 waits of ≤ 250 ms) is under 2 s. */
const BACKOFF = { baseDelayMs: 50, maxDelayMs: 250 };
const OLD_BUDGET_ATTEMPTS = 8;

const values = (lab: string) =>
  Array.from({ length: 300 }, (_, i) => (i < 100 ? `shared${i}@outage.example` : `${lab}${i}@outage.example`));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('both labs wait out a relay outage longer than the old retry budget, and finish', async () => {
  const db = join(dir, 'relay.db');
  const init = await initRelay({ db });
  relay = await startRelayServer({ db, port: 0 });
  const port = Number(new URL(relay.url).port);
  const admin = new ForumAdmin(relay.url, await readKeyFile(init.adminKeyFile as string));
  const labs = { a: generateLabKeys(), b: generateLabKeys() };
  for (const [name, keys] of Object.entries(labs)) {
    await admin.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, name);
  }
  const refused = { a: 0, b: 0 };
  const reasons = new Set<string>();
  const waiting = { a: false, b: false };
  const connect = (name: 'a' | 'b', keys: LabKeys) =>
    OverlapClient.connect({
      relayUrl: relay?.url as string,
      keys,
      logKey: relay?.vkey as string,
      pool,
      stateDir: join(dir, `state-${name}`),
      retry: {
        ...BACKOFF,
        maxElapsedMs: 120_000,
        onRetry: (info) => {
          reasons.add(info.reason);
          if (info.reason === 'connection refused (ECONNREFUSED)') refused[name]++;
        },
      },
      onProgress: (event: LabProgress) => {
        if (event.phase === 'waiting') waiting[name] = true;
      },
    });
  const a = await connect('a', labs.a);
  const b = await connect('b', labs.b);
  const session = await a.createSession({ labs: ['a', 'b'], kinds: ['email'], policy: 'labs', maxItemsPerKind: 1000 });

  // Lab a uploads and waits on its inbox; then the relay goes down, before lab b has started.
  const runA = a.run(session, { email: values('a') });
  await waitFor(() => waiting.a, 'lab a waiting on its inbox');
  await relay.close();
  relay = undefined;
  const runB = b.run(session, { email: values('b') });

  // Down for longer than 8 attempts could have covered, for both labs.
  await waitFor(
    () => refused.a > OLD_BUDGET_ATTEMPTS && refused.b > OLD_BUDGET_ATTEMPTS,
    'both labs to retry past the old budget',
  );
  relay = await startRelayServer({ db, port });

  const [outcomeA, outcomeB] = await Promise.all([runA, runB]);
  const shared = Array.from({ length: 100 }, (_, i) => `shared${i}@outage.example`).sort();
  expect(outcomeA.results.map((r) => r.value)).toEqual(shared);
  expect(outcomeB.results.map((r) => r.value)).toEqual(shared);
  expect(outcomeA.results.every((r) => r.labs?.join() === 'b')).toBe(true);
  expect(reasons).toContain('connection refused (ECONNREFUSED)');
}, 180_000);
