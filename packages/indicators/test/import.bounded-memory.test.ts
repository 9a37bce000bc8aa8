/**
 * Streaming is what lets a 5 GB export be normalized: a child process with a 40 MB heap limit
 * normalizes 600,000 CSV rows (~16 MB of text, far more once parsed into records). An importer that
 * held the input or the results would run out of memory and the child would die.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

test('600,000 CSV rows normalize in a process limited to a 40 MB heap', async () => {
  const index = new URL('../src/index.ts', import.meta.url).href;
  const script = `
    import { emptySummary, normalizeRecords, readCsv } from ${JSON.stringify(index)};
    async function* csv() {
      yield 'kind,value\\n';
      for (let i = 0; i < 600000; i += 1000) {
        let block = '';
        for (let j = i; j < i + 1000; j++) block += 'email,User' + (j % 2000) + '+tag@Example.com\\n';
        yield block;
      }
    }
    const summary = emptySummary();
    let last;
    for await (const record of normalizeRecords(readCsv(csv()), {}, summary)) last = record;
    console.log(JSON.stringify({ summary, last, heapMB: Math.round(process.memoryUsage().heapUsed / 1048576) }));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-old-space-size=40', '--import', 'tsx', '--conditions=@overlap/source', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), maxBuffer: 1 << 20 },
  );
  const result = JSON.parse(stdout);
  expect(result.summary).toMatchObject({ records: 600000, accepted: 600000, duplicates: 598000, rejected: 0 });
  expect(result.last).toEqual({ line: 600001, kind: 'email', value: 'user1999@example.com', duplicateOf: 2001 });
}, 60_000);
