/**
 * Every Node.js process of Overlap computes on the native backend (spec/ciphersuite.md §8): the
 * relay and the lab SDK import @overlap/crypto/node, and so does each `overlap` command that hashes,
 * blinds, signs or verifies, although the CLI loads a command's code only when it runs. The pure
 * packages alone leave a process on the portable backend. Checked in real processes: a preload
 * imports @overlap/crypto's main entry (the same module the program loads) and, as the process
 * exits, prints which backend `auto` gives there.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cryptoMain = new URL('../packages/crypto/src/index.ts', import.meta.url).href;
const cli = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));

const report = `data:text/javascript,${encodeURIComponent(
  `const { getBackend } = await import(${JSON.stringify(cryptoMain)});
  process.on('exit', () => process.stderr.write('backend=' + getBackend().name + '\\n'));`,
)}`;

/** The backend `auto` gives at the end of `node <args>` run from the test folder. */
async function backendAtExit(args: string[], exitCode = 0): Promise<string | undefined> {
  let stderr: string;
  try {
    ({ stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@overlap/source', '--import', report, ...args],
      { cwd: join(root, 'test'), env: { ...process.env, OVERLAP_CRYPTO_BACKEND: '' }, maxBuffer: 1 << 22 },
    ));
    expect(exitCode).toBe(0);
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string };
    if (failed.code !== exitCode || failed.stderr === undefined) throw error;
    stderr = failed.stderr;
  }
  return /backend=(\w+)/.exec(stderr)?.[1];
}

const importing = (modules: string[]) => [
  '--input-type=module',
  '-e',
  modules.map((name) => `await import(${JSON.stringify(name)});`).join(''),
];

describe('a process that imports', () => {
  test.each([
    ['@overlap/relay', 'native'],
    ['@overlap/client', 'native'],
    ['@overlap/crypto/node', 'native'],
    ['@overlap/protocol, @overlap/log and @overlap/audit only', 'portable'],
  ])(
    '%s runs on the %s backend',
    async (what, expected) => {
      const modules = what.startsWith('@overlap/protocol')
        ? ['@overlap/protocol', '@overlap/log', '@overlap/audit']
        : [what];
      expect(await backendAtExit(importing(modules))).toBe(expected);
    },
    60_000,
  );
});

describe('the overlap command', () => {
  test.each([
    [['crypto', 'hash', '--kind', 'email', '--help']],
    [['session', 'run', '--help']],
    [['audit', 'verify', '--help']],
    [['relay', 'serve', '--help']],
    [['keygen', '--help']],
  ])(
    'overlap %j runs on the native backend',
    async (args) => {
      expect(await backendAtExit([cli, ...args])).toBe('native');
    },
    60_000,
  );

  // `simulate` starts its lab processes before it loads the simulation (relay, client, crypto), so
  // its --help loads none of them, nor does a run refused for a missing file (checked before the
  // labs start): one that gets as far as checking its policy does (a bad one: 64).
  test('overlap simulate, once the simulation is loaded, runs on the native backend', async () => {
    const data = join(root, 'examples', 'data');
    const labs = ['--lab', `lab-a=${join(data, 'lab-a.csv')}`, '--lab', `lab-b=${join(data, 'lab-b.jsonl')}`];
    const args = [cli, 'simulate', ...labs, '--reveal', 'everything', '--out', join(root, 'test', '.no-out')];
    expect(await backendAtExit(args, 64)).toBe('native');
  }, 60_000);
});
