/**
 * prefetchIndicatorFile: the readIndicatorFile call that asks for the same file with the same
 * options takes the reading started earlier (the very object), once; a file changed since, or other
 * options, are read afresh — checked against what a fresh reading gives.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { prefetchIndicatorFile, readIndicatorFile } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-prefetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

test('the next reading of the same file with the same options is the prefetched one, once', async () => {
  const path = file('same.txt', ['a@example.com', 'b@example.com']);
  const early = await prefetchIndicatorFile(path, { kind: 'email' });
  const taken = await readIndicatorFile(path, { kind: 'email' });
  expect(taken).toBe(early);
  const again = await readIndicatorFile(path, { kind: 'email' });
  expect(again).not.toBe(early);
  expect(again.sets).toEqual(early.sets);
});

test('other options, or a file changed since, are read afresh', async () => {
  const path = file('changed.txt', ['a@example.com']);
  const early = await prefetchIndicatorFile(path, { kind: 'email' });
  const other = await readIndicatorFile(path, { kind: 'email', region: 'US' });
  expect(other).not.toBe(early);

  const second = await prefetchIndicatorFile(path, { kind: 'email' });
  writeFileSync(path, 'a@example.com\nc@example.com\n');
  utimesSync(path, new Date(), new Date(Date.now() + 5_000)); // a new mtime even on a coarse clock
  const fresh = await readIndicatorFile(path, { kind: 'email' });
  expect(fresh).not.toBe(second);
  expect(fresh.sets.email).toEqual(['a@example.com', 'c@example.com']);
});

test('a file that cannot be read fails the same way, prefetched or not', async () => {
  const path = join(dir, 'missing.txt');
  await expect(prefetchIndicatorFile(path, { kind: 'email' })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  await expect(readIndicatorFile(path, { kind: 'email' })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
});
