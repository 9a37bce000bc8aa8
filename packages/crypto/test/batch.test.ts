import { describe, expect, test } from 'vitest';
import {
  BlindingKey,
  blind,
  blindBatch,
  hashAndBlind,
  hashAndBlindBatch,
  hashToGroup,
  hashToGroupBatch,
  type IndicatorInput,
} from '../src/index.js';
import { BatchPool } from '../src/node/batch-pool.js';
import { WorkerPool } from '../src/node/worker-pool.js';
import { hex } from './backends.js';

const items = (n: number, offset = 0): IndicatorInput[] =>
  Array.from({ length: n }, (_, i) => ({ kind: i % 3 === 0 ? 'ip' : 'email', value: `user${i + offset}@example.com` }));

async function collect(results: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const tag of results) out.push(hex(tag));
  return out;
}

describe.each([
  ['on the calling thread', 0],
  ['on 1 worker', 1],
  ['on 2 workers', 2],
])('batch %s', (_label, workers) => {
  const key = BlindingKey.generate();
  const input = items(700);
  const options = { workers, chunkSize: 64 };

  test('hash, hash+blind and blind give the one-at-a-time results, in input order', async () => {
    const hashes = await collect(hashToGroupBatch(input, options));
    expect(hashes).toEqual(input.map((it) => hex(hashToGroup(it.kind, it.value))));
    const tags = await collect(hashAndBlindBatch(key, input, options));
    expect(tags).toEqual(input.map((it) => hex(hashAndBlind(key, it.kind, it.value))));
    const points = input.map((it) => hashToGroup(it.kind, it.value));
    const reblinded = await collect(blindBatch(key, points, options));
    expect(reblinded).toEqual(points.map((u) => hex(blind(key, u))));
  });

  test('an async source works, and an empty one yields nothing', async () => {
    async function* source() {
      for (const item of input.slice(0, 100)) {
        await Promise.resolve();
        yield item;
      }
    }
    expect(await collect(hashToGroupBatch(source(), options))).toHaveLength(100);
    expect(await collect(hashToGroupBatch([], options))).toEqual([]);
  });

  test('a bad item fails the batch with a typed error naming its index', async () => {
    const bad = [...input.slice(0, 300), { kind: 'email', value: '' }, ...input.slice(300)];
    await expect(collect(hashToGroupBatch(bad, options))).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('item 300'),
    });
    const lowOrder = [hashToGroup('email', 'a@b.example'), new Uint8Array(32)];
    await expect(collect(blindBatch(key, lowOrder, options))).rejects.toMatchObject({
      code: 'LOW_ORDER_POINT',
      message: expect.stringContaining('item 1'),
    });
    await expect(collect(blindBatch(key, [new Uint8Array(31)], options))).rejects.toMatchObject({ code: 'BAD_LENGTH' });
    await expect(collect(hashToGroupBatch([{ kind: 'email' }] as never, options))).rejects.toMatchObject({
      code: 'BAD_TYPE',
    });
  });
});

describe('batch resource bounds and control', () => {
  test('start() starts the workers before the first chunk, once; the tags are those of the calling thread', async () => {
    const key = BlindingKey.fromBytes(new Uint8Array(32).fill(7));
    const pool = new BatchPool({ workers: 2 });
    try {
      expect(pool.threads).toBe(0);
      pool.start();
      pool.start();
      expect(pool.threads).toBe(2);
      const pooled = await collect(hashAndBlindBatch(key, items(300), { pool }));
      const inline = await collect(hashAndBlindBatch(key, items(300), { workers: 0 }));
      expect(pooled).toEqual(inline);
    } finally {
      await pool.close();
    }
    pool.start(); // closed: nothing starts
    expect(pool.threads).toBe(2);
    const none = new BatchPool({ workers: 0 });
    none.start();
    expect(none.threads).toBe(0);
  });

  test('never reads more than (in-flight + 1) chunks ahead of its consumer', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    function* source() {
      for (let i = 0; i < 20_000; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield { kind: 'email', value: `n${i}@example.com` };
      }
    }
    const chunkSize = 100;
    const maxChunksInFlight = 4;
    for await (const _ of hashToGroupBatch(source(), { workers: 2, chunkSize, maxChunksInFlight })) consumed++;
    expect(consumed).toBe(20_000);
    expect(maxAhead).toBeLessThanOrEqual((maxChunksInFlight + 1) * chunkSize);
  });

  test('progress is reported in order up to the total', async () => {
    const seen: number[] = [];
    await collect(hashToGroupBatch(items(500), { workers: 1, chunkSize: 100, onProgress: (p) => seen.push(p.done) }));
    expect(seen).toEqual([100, 200, 300, 400, 500]);
  });

  test('an abort signal stops the batch with its reason, and the source is closed', async () => {
    const controller = new AbortController();
    let closed = false;
    function* endless() {
      try {
        for (let i = 0; ; i++) yield { kind: 'email', value: `x${i}@example.com` };
      } finally {
        closed = true;
      }
    }
    const run = async () => {
      let n = 0;
      for await (const _ of hashToGroupBatch(endless(), { workers: 2, chunkSize: 50, signal: controller.signal })) {
        if (++n === 120) controller.abort(new Error('operator cancelled'));
      }
    };
    await expect(run()).rejects.toThrow('operator cancelled');
    expect(closed).toBe(true);
  });

  test('an already-aborted signal rejects before any work', async () => {
    const signal = AbortSignal.abort();
    await expect(collect(hashToGroupBatch(items(10), { signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });

  test('breaking out early ends cleanly', async () => {
    let n = 0;
    for await (const _ of hashToGroupBatch(items(5000), { workers: 2, chunkSize: 100 })) if (++n === 10) break;
    expect(n).toBe(10);
  });

  test.each([[{ workers: -1 }], [{ workers: 1.5 }], [{ chunkSize: 0 }], [{ maxChunksInFlight: 0 }]])(
    'option %j is a BAD_INPUT error',
    async (options) => {
      await expect(collect(hashToGroupBatch(items(1), options))).rejects.toMatchObject({ code: 'BAD_INPUT' });
    },
  );

  test('a disposed key is refused', async () => {
    const key = BlindingKey.generate();
    key.dispose();
    await expect(collect(hashAndBlindBatch(key, items(1)))).rejects.toMatchObject({ code: 'KEY_DISPOSED' });
  });
});

describe('batch failure modes found in review', () => {
  test('a key disposed mid-batch stops the batch with KEY_DISPOSED instead of blinding with zeros', async () => {
    const key = BlindingKey.generate();
    const run = async () => {
      let n = 0;
      for await (const _ of hashAndBlindBatch(key, items(2000), { workers: 0, chunkSize: 100, maxChunksInFlight: 1 })) {
        if (++n === 150) key.dispose();
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'KEY_DISPOSED' });
  });

  test('on the calling thread, the event loop still turns between chunks (timers, I/O, signals)', async () => {
    // Before, every chunk ran a microtask after the last: a whole set went by without one timer.
    let chunksAtFirstTimer: number | undefined;
    let chunks = 0;
    setImmediate(() => {
      chunksAtFirstTimer = chunks;
    });
    for await (const _ of hashToGroupBatch(items(2000), { workers: 0, chunkSize: 100, maxChunksInFlight: 1 })) {
      chunks++;
    }
    expect(chunks).toBe(2000);
    expect(chunksAtFirstTimer).toBeLessThan(300);
  });

  test('abort reaches a batch whose source has stalled', async () => {
    const controller = new AbortController();
    async function* stalls() {
      yield { kind: 'email', value: 'first@example.com' };
      await new Promise(() => {}); // never yields again
    }
    setTimeout(() => controller.abort(new Error('gave up waiting')), 50);
    await expect(collect(hashToGroupBatch(stalls(), { workers: 1, signal: controller.signal }))).rejects.toThrow(
      'gave up waiting',
    );
  });

  test('a pool whose worker died at start-up rejects work and still closes', async () => {
    const pool = new WorkerPool(1, { backend: 'no-such-backend' as never });
    await expect(
      pool.run({ operation: 'hash', firstIndex: 0, kinds: ['email'], values: ['a@b.example'] }),
    ).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
    await pool.close(); // must not hang
  });
});
