// After `pnpm build`: load the packages as a consumer would (dist/, no TypeScript loader) and run
// a batch on worker threads, so a broken build or worker path fails CI. Plain JS on purpose.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const crypto = await import(require.resolve('@overlap/crypto'));
if (!require.resolve('@overlap/crypto').includes('/dist/')) throw new Error('did not resolve to dist/');

const items = Array.from({ length: 1000 }, (_, i) => ({ kind: 'email', value: `smoke${i}@example.com` }));
const key = crypto.BlindingKey.generate();
const expected = items.map((it) => crypto.toHex(crypto.hashAndBlind(key, it.kind, it.value)));
const got = [];
for await (const tag of crypto.hashAndBlindBatch(key, items, { workers: 2 })) got.push(crypto.toHex(tag));
key.dispose();
if (got.length !== expected.length || got.some((t, i) => t !== expected[i]))
  throw new Error('dist batch results differ');
console.log(`dist smoke: ${got.length} items hashed and blinded on 2 workers from dist/, identical to one-at-a-time`);
