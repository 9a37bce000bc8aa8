// After `pnpm build`: load the packages as a consumer would (dist/, no TypeScript loader) and run
// a batch on worker threads, so a broken build or worker path fails CI. Plain JS on purpose.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const crypto = await import(require.resolve('@overlap/crypto'));
if (!require.resolve('@overlap/crypto').includes('/dist/')) throw new Error('did not resolve to dist/');
// The Node.js entry installs the native backend and the worker threads the batch below runs on.
await import(require.resolve('@overlap/crypto/node'));
if (crypto.getBackend().name !== 'native')
  throw new Error('dist: @overlap/crypto/node did not install the native backend');

const items = Array.from({ length: 1000 }, (_, i) => ({ kind: 'email', value: `smoke${i}@example.com` }));
const key = crypto.BlindingKey.generate();
const expected = items.map((it) => crypto.toHex(crypto.hashAndBlind(key, it.kind, it.value)));
const got = [];
for await (const tag of crypto.hashAndBlindBatch(key, items, { workers: 2 })) got.push(crypto.toHex(tag));
key.dispose();
if (got.length !== expected.length || got.some((t, i) => t !== expected[i]))
  throw new Error('dist batch results differ');
console.log(`dist smoke: ${got.length} items hashed and blinded on 2 workers from dist/, identical to one-at-a-time`);

// The relay from dist/: a fresh home (SQLite through better-sqlite3, key files), HTTP on loopback.
const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const relayPackage = await import(require.resolve('@overlap/relay'));
if (!require.resolve('@overlap/relay').includes('/dist/')) throw new Error('relay did not resolve to dist/');
const home = mkdtempSync(join(tmpdir(), 'overlap-dist-smoke-'));
try {
  await relayPackage.initRelay({ db: join(home, 'relay.db') });
  const relay = await relayPackage.startRelayServer({ db: join(home, 'relay.db'), port: 0 });
  const health = await (await fetch(`${relay.url}/healthz`)).json();
  await relay.close();
  if (health.status !== 'ok') throw new Error('the built relay is not healthy');
  console.log(`dist smoke: relay from dist/ served /healthz (${relay.origin})`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
