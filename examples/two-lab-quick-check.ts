/**
 * The smallest complete exchange: a relay on a free loopback port (fresh SQLite file, new log and
 * admin keys), two labs enrolled by the admin, one session under the `labs` policy, both labs run
 * through the SDK — and each learns only which of its own suspects the other also holds.
 *
 *   pnpm example examples/two-lab-quick-check.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { initRelay, startRelayServer } from '@overlap/relay';

const home = mkdtempSync(join(tmpdir(), 'overlap-quick-check-'));
const init = await initRelay({ db: join(home, 'relay.db') });
const relay = await startRelayServer({ db: init.db, port: 0 });
try {
  // The forum enrolls both labs with its admin key.
  const admin = new ForumAdmin(relay.url, await readKeyFile(init.adminKeyFile as string));
  const alpha = generateLabKeys();
  const beta = generateLabKeys();
  await admin.enroll({ signingKey: alpha.signing.publicKey, sealingKey: alpha.sealing.publicKey }, 'alpha');
  await admin.enroll({ signingKey: beta.signing.publicKey, sealingKey: beta.sealing.publicKey }, 'beta');

  // Each lab connects, pinning the log key the forum publishes.
  const a = await OverlapClient.connect({ relayUrl: relay.url, keys: alpha, logKey: relay.vkey });
  const b = await OverlapClient.connect({ relayUrl: relay.url, keys: beta, logKey: relay.vkey });
  const session = await a.createSession({
    labs: ['alpha', 'beta'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: 1000,
  });

  // Canonical values per kind (readIndicatorFile makes them from a CSV, JSON lines or STIX export).
  const [ra, rb] = await Promise.all([
    a.run(session, { email: ['mallory@evil.example', 'trent@shared.example', 'alice@only-alpha.example'] }),
    b.run(session, { email: ['trent@shared.example', 'bob@only-beta.example'] }),
  ]);
  console.log(`session ${session}`);
  console.log(`alpha learns: ${JSON.stringify(ra.results)}`);
  console.log(`beta learns:  ${JSON.stringify(rb.results)}`);
} finally {
  await relay.close();
  rmSync(home, { recursive: true, force: true });
}
