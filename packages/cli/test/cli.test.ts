import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { CLI_VERSION, EXIT } from '../src/index.js';
import { runInProcess } from './run-in-process.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const version = (JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { version: string }).version;

describe('overlap CLI in-process', () => {
  test('--version prints the package version', async () => {
    expect(CLI_VERSION).toBe(version);
    expect(await runInProcess(['--version'])).toEqual({ code: EXIT.OK, out: `${version}\n`, err: '' });
  });

  test('--help describes the command and its exit codes', async () => {
    const { code, out } = await runInProcess(['--help']);
    expect(code).toBe(EXIT.OK);
    expect(out).toContain('Usage: overlap');
    expect(out).toContain('64 usage error');
  });

  test('an unknown option is a usage error (64) with a hint', async () => {
    const { code, err } = await runInProcess(['--frobnicate']);
    expect(code).toBe(EXIT.USAGE);
    expect(err).toContain("unknown option '--frobnicate'");
    expect(err).toContain('--help');
  });
});

describe('overlap CLI as a child process, from source', () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const node = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], { cwd: packageDir });

  test('--version exits 0 and prints the version', async () => {
    const { stdout, stderr } = await node(['--version']);
    expect(stdout).toBe(`${version}\n`);
    expect(stderr).toBe('');
  });

  test('a usage error exits 64', async () => {
    await expect(node(['--frobnicate'])).rejects.toMatchObject({ code: 64 });
  });
});
