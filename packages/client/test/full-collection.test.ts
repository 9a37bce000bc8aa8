/**
 * collectGarbage runs a full collection in a process started without `--expose-gc` (as the
 * `overlap` bin is): a large structure just dropped is gone from the heap at once, where without
 * it the heap keeps it until V8's own next full collection.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

test('the heap drops by what was dropped, in a process without --expose-gc', async () => {
  const module = fileURLToPath(new URL('../src/full-collection.ts', import.meta.url));
  const script = `
    const { collectGarbage } = await import(${JSON.stringify(module)});
    const heap = () => process.memoryUsage().heapUsed / 1048576;
    let held = Array.from({ length: 1_000_000 }, (_, i) => 'value-' + i + '-' + Math.random());
    const before = heap();
    held = undefined;
    const dropped = heap();
    collectGarbage();
    console.log(JSON.stringify({ before, dropped, after: heap(), exposed: typeof globalThis.gc }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const { before, dropped, after, exposed } = JSON.parse(stdout) as Record<string, number | string>;
  expect(exposed).toBe('undefined'); // the process itself was not given gc
  expect(dropped as number).toBeGreaterThan(40); // a million strings, still counted once dropped
  expect(after as number).toBeLessThan((before as number) / 4);
});
