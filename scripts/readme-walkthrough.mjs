#!/usr/bin/env node
/**
 * Runs the README's walkthrough ("A forum and three labs, step by step") as a script, so that what
 * the README tells a new user is what works: every ```sh block between the `<!-- walkthrough -->`
 * and `<!-- /walkthrough -->` markers, in order, in one bash process with `set -euo pipefail`,
 * started in the checkout with a temporary npm prefix (so the global install goes into a temporary
 * directory, never the machine's), `$PREFIX/bin` first on PATH. HOME and the user's npm settings
 * stay (a forum install compiles better-sqlite3, and node-gyp may need the npmrc's `nodedir`). Background jobs the
 * walkthrough starts (the relay) are killed at the end, whatever happened.
 *
 *   node scripts/readme-walkthrough.mjs            (CI runs it after the build)
 *
 * Exit status: the script's. Prints each block before running it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const start = readme.indexOf('<!-- walkthrough -->');
const end = readme.indexOf('<!-- /walkthrough -->');
if (start < 0 || end < start) {
  console.error('README.md has no <!-- walkthrough --> … <!-- /walkthrough --> section');
  process.exit(1);
}
const blocks = [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
if (blocks.length === 0) {
  console.error('the walkthrough section has no ```sh blocks');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'overlap-walkthrough-'));
const prefix = join(work, 'prefix');
const script = [
  'set -euo pipefail',
  // Every background job (the relay) goes when the script ends, however it ends.
  "trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT",
  ...blocks.map((block, i) => `echo "::: walkthrough block ${i + 1}/${blocks.length}"\n${block}`),
].join('\n');
writeFileSync(join(work, 'walkthrough.sh'), script);
console.log(`walkthrough: ${blocks.length} blocks from README.md, npm prefix ${prefix}`);

const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OVERLAP_'))),
  npm_config_prefix: prefix,
  // `mktemp -d` in the walkthrough makes its folder in here, removed with it.
  TMPDIR: work,
  PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
};
const child = spawn('bash', [join(work, 'walkthrough.sh')], { cwd: root, env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (code === 0) rmSync(work, { recursive: true, force: true });
else console.error(`walkthrough failed (exit ${code}); the script and the prefix are kept in ${work}`);
process.exit(code);
