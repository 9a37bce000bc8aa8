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

// The bin, the CLI's bundle (scripts/bundle-cli.mjs): a two-lab simulation, whose lab processes and
// worker threads start from the bundle's folder, on the native backend (OVERLAP_CRYPTO_BACKEND=native:
// no fallback, an error instead, in every process), with results equal to the plaintext intersection.
const { execFileSync } = await import('node:child_process');
const { readFileSync, writeFileSync } = await import('node:fs');
const bin = new URL('../packages/cli/bundle/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'overlap-bundle-smoke-'));
try {
  const sets = [0, 1].map((lab) =>
    Array.from({ length: 300 }, (_, i) => (i < 60 ? `both${i}@example.com` : `lab${lab}-${i}@example.com`)),
  );
  for (const [lab, set] of sets.entries()) writeFileSync(join(work, `lab-${lab}.txt`), `${set.join('\n')}\n`);
  const args = ['simulate', '--lab', 'lab-a=lab-0.txt', '--lab', 'lab-b=lab-1.txt', '--kind', 'email', '--out', 'out'];
  const env = { ...process.env, OVERLAP_CRYPTO_BACKEND: 'native' };
  execFileSync(process.execPath, [bin, ...args], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const name of ['lab-a', 'lab-b']) {
    const shared = readFileSync(join(work, 'out', `${name}.results.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).value)
      .sort();
    const truth = sets[0].filter((value) => sets[1].includes(value)).sort();
    if (JSON.stringify(shared) !== JSON.stringify(truth))
      throw new Error(`bundle: ${name}'s results differ from the plaintext truth`);
  }
  console.log('dist smoke: the bundled bin ran a two-lab simulation; the results equal the plaintext intersection');
} finally {
  rmSync(work, { recursive: true, force: true });
}
