/**
 * acquireLock across real processes: a live holder's lock is refused naming its pid, a holder
 * killed with SIGKILL is taken over, a pid that now belongs to another process (a different start
 * time) or a lock of another host is judged as it must be, and many processes that each read,
 * bump and write one counter under the lock never lose an increment (without the lock they do).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { acquireLock, FilesError } from '../src/index.js';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'overlap-lock-'));
  lock = join(dir, 'state.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

function node(script: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@overlap/source', '--input-type=module', '-e', script],
    {
      cwd: PACKAGE,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

/** Resolves once the child prints `line`. */
function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it printed ${line}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
  );

const holdForever = (path: string) => `
  import { acquireLock } from './src/index.ts';
  await acquireLock(${JSON.stringify(path)}, { what: 'the test state' });
  console.log('holding');
  setInterval(() => {}, 1000);
`;

async function refusal(run: () => Promise<unknown>): Promise<FilesError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FilesError);
  return error as FilesError;
}

describe('acquireLock', () => {
  test('a live holder keeps it: another process is refused with LOCKED naming the pid and what it protects', async () => {
    const holder = node(holdForever(lock));
    try {
      await printed(holder, 'holding');
      const error = await refusal(() => acquireLock(lock, { what: 'the test state' }));
      expect(error.code).toBe('LOCKED');
      expect(error.message).toContain(`the test state is in use by process ${holder.pid}`);
      expect(readFileSync(lock, 'utf8')).toContain(` ${holder.pid} `);
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  });

  test('a holder killed with SIGKILL leaves a stale lock, which the next process takes over; release lets it go', async () => {
    const holder = node(holdForever(lock));
    await printed(holder, 'holding');
    holder.kill('SIGKILL');
    await exited(holder);
    const held = await acquireLock(lock);
    expect(readFileSync(lock, 'utf8')).toContain(` ${process.pid} `);
    expect((await refusal(() => acquireLock(lock))).code).toBe('LOCKED'); // not re-entrant, even in one process
    await held.release();
    expect(readdirSync(dir)).toEqual([]); // no lock, no guard, no temporary file left
    await (await acquireLock(lock)).release();
  });

  test('a pid that runs but started at another time is not the holder (a reused pid): taken over', async () => {
    writeFileSync(lock, `${hostname()} 1 123\n`); // pid 1 runs, but did not start at tick 123
    const held = await acquireLock(lock);
    expect(readFileSync(lock, 'utf8')).toContain(` ${process.pid} `);
    await held.release();
  });

  test('a lock of another host is never taken over; a file that is not a lock is refused, not removed', async () => {
    writeFileSync(lock, 'elsewhere.example 4242 99\n');
    const other = await refusal(() => acquireLock(lock, { what: 'the witness state' }));
    expect(other.code).toBe('LOCKED');
    expect(other.message).toContain('process 4242 on elsewhere.example');
    writeFileSync(lock, 'not a lock\n');
    expect((await refusal(() => acquireLock(lock))).code).toBe('LOCKED');
    expect(readFileSync(lock, 'utf8')).toBe('not a lock\n');
  });

  test('with waitMs a process waits for the holder to let go', async () => {
    const first = await acquireLock(lock);
    const second = acquireLock(lock, { waitMs: 60_000 });
    let taken = false;
    void second.then(() => {
      taken = true;
    });
    await new Promise((done) => setImmediate(done));
    expect(taken).toBe(false);
    await first.release();
    await (await second).release();
  });

  test('6 processes × 100 read-bump-write cycles of one counter under the lock lose no increment; without it they do', async () => {
    const counter = join(dir, 'counter');
    const go = join(dir, 'go');
    const bump = (locked: boolean) => `
      import { existsSync, readFileSync, writeFileSync } from 'node:fs';
      import { acquireLock } from './src/index.ts';
      const tick = () => new Promise((done) => setImmediate(done));
      console.log('ready');
      while (!existsSync(${JSON.stringify(go)})) await tick();
      for (let i = 0; i < 100; i++) {
        const held = ${locked} ? await acquireLock(${JSON.stringify(lock)}, { waitMs: 120_000 }) : undefined;
        const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
        await tick(); // a read-modify-write that the others can interleave
        writeFileSync(${JSON.stringify(counter)}, String(n + 1));
        await held?.release();
      }
    `;
    const run = async (locked: boolean) => {
      writeFileSync(counter, '0');
      rmSync(go, { force: true });
      const children = Array.from({ length: 6 }, () => node(bump(locked)));
      await Promise.all(children.map((child) => printed(child, 'ready')));
      writeFileSync(go, ''); // all start together
      expect(await Promise.all(children.map(exited))).toEqual([0, 0, 0, 0, 0, 0]);
      return Number(readFileSync(counter, 'utf8'));
    };
    expect(await run(true)).toBe(600);
    // The control: the same processes without the lock lose increments, so the count above means
    // something. (Interleaving is likely, not certain; three tries make a false alarm negligible.)
    let lost = false;
    for (let attempt = 0; attempt < 3 && !lost; attempt++) lost = (await run(false)) < 600;
    expect(lost).toBe(true);
  }, 120_000);
});
