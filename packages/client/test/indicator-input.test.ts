/**
 * readIndicatorFile reads large files in a worker thread: the answer must be exactly what reading
 * on the calling thread gives (values, order, summary, rejected lines), and a bad file must fail
 * with the same error class and code either way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readIndicatorFile } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('in a worker thread and on this one, the same values, in the same order, with the same summary', async () => {
  const lines = ['kind,value'];
  for (let i = 0; i < 3000; i++) {
    lines.push(`email,User.${i % 2500}@Example.COM`); // 500 repeats, in another spelling
    if (i % 7 === 0) lines.push(`ip,203.0.113.${i % 256}`);
    if (i % 997 === 0) lines.push('ip,not-an-ip');
  }
  lines.push('email,Zoë@bücher.example'); // non-ASCII survives the UTF-8 round trip
  const path = join(dir, 'suspects.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const here = await readIndicatorFile(path, { isolate: false });
  const there = await readIndicatorFile(path, { isolate: true });
  expect(there).toEqual(here);
  expect(here.sets.email).toHaveLength(2501);
  expect(here.summary.duplicates).toBeGreaterThanOrEqual(500);
  expect(here.rejected.length).toBeGreaterThan(0);
  expect(here.sets.email?.at(-1)).toMatch(/^zoë@/);
});

test('a bad file fails with the same error, code and message, in a worker thread as on this one', async () => {
  const path = join(dir, 'empty.csv');
  writeFileSync(path, '');
  const here = await readIndicatorFile(path, { isolate: false }).catch((e: unknown) => e);
  const there = await readIndicatorFile(path, { isolate: true }).catch((e: unknown) => e);
  expect(here).toMatchObject({ name: 'IndicatorError', code: 'BAD_FILE' });
  expect(there).toMatchObject({
    name: 'IndicatorError',
    code: (here as { code: string }).code,
    message: (here as Error).message,
  });
  await expect(readIndicatorFile(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
});
