#!/usr/bin/env node
/**
 * Bundles the built CLI (packages/cli/dist, and through it every @overlap/* package's dist and
 * their pure-JavaScript dependencies) into packages/cli/bundle/: the `overlap` bin runs from there.
 * Run by the CLI's `build` script, after tsc; `pnpm build` builds the other packages first.
 *
 *   node scripts/bundle-cli.mjs
 *
 * Why: Node 20 loads ESM one file at a time (resolve, read, compile, link), and `overlap session
 * run` imports some 700 modules: from dist/ that is about 0.45 s of a 2-core machine before any
 * work, in every process of an exchange (a lab, the simulation, the relay). Bundled, the same code
 * loads in about half that (bench/README.md, `small-exchange`).
 *
 * Layout: one ES module per entry, the code they share in chunks beside them, all in one folder,
 * because modules find their neighbours relative to themselves:
 *   - main.js, the bin; simulation-lab-process.js, which the simulation starts beside it;
 *   - worker-entry.js and indicator-reader-worker.js, the worker threads the crypto and client
 *     code start with `new URL('./NAME.js', import.meta.url)` from whichever chunk holds them;
 *   - program.ts reads `../package.json` (packages/cli/package.json, as from dist/).
 * Native packages stay outside (resolved at run time from node_modules, as from dist/):
 * sodium-native and better-sqlite3, and cbor-extract, which cbor-x tries and does without.
 * CommonJS dependencies bundled into ES modules call `require`: each output module defines it
 * with createRequire, relative to itself.
 *
 * zod's error messages in its 40-odd other languages (`z.locales`, 358 KiB, half of zod in the
 * bundle, parsed by every process) are left out: the bundle's `locales` namespace holds English
 * only, which zod uses by default and this project's messages are written in (ENGLISH_ONLY_ZOD).
 *
 * bundle/externals.json lists what the bundle imports from outside itself (builtins and the native
 * packages), from esbuild's own account.
 * Writes to a temporary folder and renames it into place: never a half-written bundle.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages', 'cli');
/** Resolved at run time from node_modules: compiled add-ons and what loads them. */
const NATIVE = ['better-sqlite3', 'sodium-native', 'cbor-extract'];
/** Output name → built module. */
const ENTRIES = {
  main: join(CLI, 'dist', 'main.js'),
  'simulation-lab-process': join(CLI, 'dist', 'simulation-lab-process.js'),
  'worker-entry': join(ROOT, 'packages', 'crypto', 'dist', 'node', 'worker-entry.js'),
  'indicator-reader-worker': join(ROOT, 'packages', 'client', 'dist', 'indicator-reader-worker.js'),
};

/** Resolves zod's `../locales/index.js` (every language) to a module that exports `en` only. */
const ENGLISH_ONLY_ZOD = {
  name: 'english-only-zod',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic|core|mini)$/.test(args.resolveDir)) return undefined;
      const en = join(args.resolveDir, '..', 'locales', 'en.js');
      if (!existsSync(en)) throw new Error(`bundle-cli: zod's English locale is not at ${en}`);
      return { path: en, namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};\n`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

async function main() {
  for (const [name, file] of Object.entries(ENTRIES)) {
    if (!existsSync(file)) throw new Error(`bundle-cli: ${name}: ${file} is missing; build the packages first`);
  }
  const target = join(CLI, 'bundle');
  const partial = join(CLI, `bundle.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  const result = await build({
    entryPoints: ENTRIES,
    outdir: partial,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    external: NATIVE,
    plugins: [ENGLISH_ONLY_ZOD],
    banner: {
      js: "import { createRequire as __overlapCreateRequire } from 'node:module'; const require = __overlapCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error('bundle-cli: esbuild reported errors');
  // What the bundle imports from outside itself, for scripts/pack-cli.mjs to check against what an
  // installed package resolves (regular expressions over bundled code would match its strings too).
  const external = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const used of output.imports) if (used.external) external.add(used.path);
  }
  writeFileSync(join(partial, 'externals.json'), `${JSON.stringify([...external].sort(), null, 2)}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
  const outputs = Object.values(result.metafile.outputs);
  const bytes = outputs.reduce((sum, output) => sum + output.bytes, 0);
  console.error(`bundle-cli: ${target}: ${outputs.length} modules, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
