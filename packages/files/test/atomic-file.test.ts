/**
 * writeFileAtomic and makePrivateDirectory on real files: the bytes are exactly what was given, the
 * modes are exact whatever the umask, an existing file is replaced only when asked, a failed write
 * leaves the old file and no temporary file behind, and a process killed in the middle of a write
 * leaves the previous file whole.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FilesError, makePrivateDirectory, writeFileAtomic } from '../src/index.js';

let dir: string;
let savedUmask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'overlap-files-'));
  savedUmask = process.umask();
});
afterEach(() => {
  process.umask(savedUmask);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;
const strays = () => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

function codeOf(error: unknown): string {
  return error instanceof FilesError ? `${error.code} ${error.details?.errno ?? ''}`.trim() : String(error);
}

describe('writeFileAtomic', () => {
  test('writes bytes, text and mixed pieces exactly, in order', async () => {
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
    const manyPieces = Array.from({ length: 40_000 }, (_, i) => `row ${i}, é\n`); // > 1 MiB of text in all
    const huge = 'ü'.repeat(700_000); // one piece over the 1 MiB buffer
    const cases: [string, Parameters<typeof writeFileAtomic>[1], Buffer][] = [
      ['bytes', bytes, Buffer.from(bytes)],
      ['text', 'key file text\n', Buffer.from('key file text\n')],
      ['empty', [], Buffer.alloc(0)],
      [
        'pieces',
        ['a', bytes, ...manyPieces, huge, Uint8Array.of(1, 2), 'z'],
        Buffer.concat([
          Buffer.from('a'),
          bytes,
          Buffer.from(manyPieces.join('')),
          Buffer.from(huge),
          Buffer.of(1, 2),
          Buffer.from('z'),
        ]),
      ],
    ];
    for (const [name, content, expected] of cases) {
      await writeFileAtomic(join(dir, name), content);
      expect(readFileSync(join(dir, name)).equals(expected), name).toBe(true);
    }
    expect(strays()).toEqual([]);
  });

  test('sets the mode exactly, whatever the umask', async () => {
    process.umask(0o277); // would make a 0600 file 0400
    await writeFileAtomic(join(dir, 'private'), 'x');
    process.umask(0o077); // would make a 0644 file 0600
    await writeFileAtomic(join(dir, 'public'), 'x', { mode: 0o644 });
    process.umask(0);
    await writeFileAtomic(join(dir, 'default'), 'x');
    expect([modeOf(join(dir, 'private')), modeOf(join(dir, 'public')), modeOf(join(dir, 'default'))]).toEqual([
      0o600, 0o644, 0o600,
    ]);
  });

  test('an existing file is EXISTS and stays as it was, unless replacing is asked for', async () => {
    const path = join(dir, 'kept');
    writeFileSync(path, 'old', { mode: 0o640 });
    const refused = await writeFileAtomic(path, 'new').catch((error: unknown) => error);
    expect(codeOf(refused)).toBe('EXISTS EEXIST');
    expect({ text: readFileSync(path, 'utf8'), mode: modeOf(path) }).toEqual({ text: 'old', mode: 0o640 });
    await writeFileAtomic(path, 'new', { replace: true });
    expect({ text: readFileSync(path, 'utf8'), mode: modeOf(path) }).toEqual({ text: 'new', mode: 0o600 });
    expect(strays()).toEqual([]);
  });

  test('an error thrown by the content passes through; the old file stays and no temporary file is left', async () => {
    const path = join(dir, 'results.csv');
    writeFileSync(path, 'previous results');
    const failure = new RangeError('the formatter failed');
    function* pieces() {
      yield 'first rows\n';
      throw failure;
    }
    await expect(writeFileAtomic(path, pieces(), { replace: true })).rejects.toBe(failure);
    expect(readFileSync(path, 'utf8')).toBe('previous results');
    expect(strays()).toEqual([]);
  });

  test('a failure of the file system is WRITE_FAILED with its errno and path', async () => {
    const path = join(dir, 'missing', 'file');
    const error = await writeFileAtomic(path, 'x').catch((e: unknown) => e);
    expect(codeOf(error)).toBe('WRITE_FAILED ENOENT');
    expect((error as FilesError).details?.path).toBe(path);
  });

  test('a process killed in the middle of a write leaves the previous file whole', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'the previous state');
    const source = new URL('../src/index.ts', import.meta.url).href;
    // The child writes some pieces, says so, then blocks inside the write until it is killed.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(source)};
      function* pieces() {
        for (let i = 0; i < 100; i++) yield new Uint8Array(64 * 1024).fill(65);
        process.stdout.write('writing\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        yield 'never';
      }
      await writeFileAtomic(${JSON.stringify(path)}, pieces(), { replace: true });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@overlap/source', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('writing')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was killed`)));
    });
    const [stray] = strays();
    expect(stray && statSync(join(dir, stray)).size).toBeGreaterThan(0); // it was mid-way
    child.kill('SIGKILL');
    await exited;
    expect(readFileSync(path, 'utf8')).toBe('the previous state');
  }, 60_000);
});

describe('makePrivateDirectory', () => {
  test('creates every missing level 0700 exactly, whatever the umask, and leaves existing ones alone', async () => {
    chmodSync(dir, 0o755);
    process.umask(0o277); // would make a 0700 directory 0500
    const deep = join(dir, 'a', 'b', 'c');
    await makePrivateDirectory(deep);
    await makePrivateDirectory(deep); // again: nothing to do
    process.umask(savedUmask);
    expect([dir, join(dir, 'a'), join(dir, 'a', 'b'), deep].map(modeOf)).toEqual([0o755, 0o700, 0o700, 0o700]);
    await writeFileAtomic(join(deep, 'key'), 'x');
    expect(modeOf(join(deep, 'key'))).toBe(0o600);
  });

  test('a file in the way is WRITE_FAILED', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    mkdirSync(join(dir, 'ok'));
    const error = await makePrivateDirectory(join(dir, 'file', 'sub')).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('WRITE_FAILED ENOTDIR');
    await expect(makePrivateDirectory(join(dir, 'ok'))).resolves.toBeUndefined();
  });
});
