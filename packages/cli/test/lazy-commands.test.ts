/**
 * Each command's code is loaded only when that command runs (program.ts): `overlap --version` and
 * `overlap crypto hash` load neither the relay and SQLite nor the SDK with zod and the phone
 * metadata; `overlap session` loads the SDK but not the relay. Checked on a real process, with a
 * module resolve hook that records every module the process loads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { resolveLog } from '../../../test/support/resolve-log.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Runs `overlap …args` as its own process and answers the URLs of every module it loaded. */
async function modulesLoadedBy(name: string, args: string[], stdin = ''): Promise<string[]> {
  const loaded = resolveLog(dir, name);
  const child = spawn(
    process.execPath,
    [...loaded.args, '--import', 'tsx', '--conditions=@overlap/source', main, ...args],
    {
      env: { ...process.env, ...loaded.env },
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    },
  );
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, err).toBe(0);
  return loaded.urls();
}

const loads = (urls: string[], part: string) => urls.some((url) => url.includes(part));

test('--version loads no command module', async () => {
  const urls = await modulesLoadedBy('version', ['--version']);
  for (const heavy of ['/packages/relay/', 'better-sqlite3', '/packages/client/', '/zod', 'libphonenumber-js', 'tldts'])
    expect(loads(urls, heavy), heavy).toBe(false);
  expect(loads(urls, '/commands/')).toBe(false);
}, 60_000);

test('crypto hash loads the ciphersuite, not the relay or the SDK', async () => {
  const urls = await modulesLoadedBy('crypto', ['crypto', 'hash', '--kind', 'email'], 'a@b.example\n');
  expect(loads(urls, '/commands/crypto.ts')).toBe(true);
  for (const heavy of ['/packages/relay/', 'better-sqlite3', '/packages/client/', 'libphonenumber-js'])
    expect(loads(urls, heavy), heavy).toBe(false);
}, 60_000);

test('session --help loads the SDK, not the relay or SQLite', async () => {
  const urls = await modulesLoadedBy('session', ['session', '--help']);
  expect(loads(urls, '/packages/client/')).toBe(true);
  expect(loads(urls, '/packages/relay/')).toBe(false);
  expect(loads(urls, 'better-sqlite3')).toBe(false);
}, 60_000);

test('audit --help loads the audit library, not the relay or SQLite', async () => {
  const urls = await modulesLoadedBy('audit', ['audit', '--help']);
  expect(loads(urls, '/packages/audit/')).toBe(true);
  expect(loads(urls, '/packages/relay/')).toBe(false);
  expect(loads(urls, 'better-sqlite3')).toBe(false);
}, 60_000);
