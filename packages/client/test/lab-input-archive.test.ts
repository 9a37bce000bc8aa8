/**
 * The lab's archive of blind-task inputs (lab-input-archive.ts): what LabSession puts is readable at
 * once, is on disk only after `flush` (0600 files in a 0700 folder, whatever the umask), is read
 * back by a new process's archive (a resumed lab), and a damaged or missing file is an error, never
 * tags to prove with.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DiskTagArchive } from '../src/lab-input-archive.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function archiveDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-inputs-'));
  dirs.push(dir);
  return join(dir, 'state', 'inputs');
}

const place = { owner: 'a'.repeat(32), kind: 'email', hop: 1, first: 65_536 };

describe('the inputs a lab keeps until its proofs', () => {
  test('readable at once, on disk (0600 in 0700) after flush, and read back by a resumed lab', async () => {
    const dir = archiveDir();
    const tags = new Uint8Array(randomBytes(32 * 5));
    const archive = new DiskTagArchive(dir);
    archive.put(place, tags);
    expect(archive.get(place)).toEqual(tags);
    expect(() => new DiskTagArchive(dir).get(place)).toThrow(); // not yet durable: not on disk
    const old = process.umask(0o022);
    try {
      await archive.flush();
    } finally {
      process.umask(old);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toEqual([`${place.owner}.email.1.65536`]);
    expect(statSync(join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
    const resumed = new DiskTagArchive(dir);
    expect(resumed.get(place)).toEqual(tags);
    expect(() => resumed.get({ ...place, first: 0 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  test('a damaged file is an error, not tags', async () => {
    const dir = archiveDir();
    const archive = new DiskTagArchive(dir);
    archive.put(place, new Uint8Array(randomBytes(64)));
    await archive.flush();
    truncateSync(join(dir, readdirSync(dir)[0] as string), 40);
    expect(() => new DiskTagArchive(dir).get(place)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
