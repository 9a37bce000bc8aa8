#!/usr/bin/env node
/**
 * Packs the `overlap` command into one npm tarball that `npm install -g` takes, after `pnpm install`
 * and `pnpm build` in a checkout:
 *
 *   node scripts/pack-cli.mjs [--out DIR]      (default DIR: dist/ at the repository root)
 *
 * Prints the tarball's path on stdout (progress goes to stderr). The tarball is a package named
 * `overlap` whose bin is the built CLI. Every `@overlap/*` package it needs is bundled inside it
 * (`bundleDependencies`): npm never asks a registry for those names, which are not ours there. The
 * external dependencies of those packages are ordinary dependencies at the exact versions this
 * checkout installed (the lockfile's), so npm fetches and builds them as usual. better-sqlite3,
 * which only the relay uses and which compiles for about two minutes, is an optional peer: npm does
 * not install optional peers, so a lab's install compiles nothing; the forum names it on the same
 * command line (`npm install -g ./overlap-V.tgz better-sqlite3@12`).
 *
 * The layout inside the package is the repository's, for the paths the CLI resolves relative to its
 * own modules: the bin is the CLI's bundle at packages/cli/bundle (scripts/bundle-cli.mjs: it reads
 * ../package.json for `--version`, and `demo` finds examples/data above it), packages/cli/dist
 * beside it, the libraries at node_modules/@overlap/NAME with their dist/ (worker threads are started
 * by URL beside their module, so dist/ is copied whole).
 * Only compiled JavaScript is shipped: no sources, declarations or source maps.
 *
 * Refuses, naming the package and file, when a package has no dist/ or a source file is newer than
 * its build, and when a built module imports a package its package.json does not declare.
 * The tarball is written to a temporary name and renamed: never a half-written one.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = '@overlap/cli';
/** Dependencies a lab does not need and that compile on install: optional peers, named by the forum. */
const FORUM_ONLY = new Set(['better-sqlite3']);
/** The CLI's place in the package, and with it the bin (see the layout above). */
const CLI_DIR = 'packages/cli';

class PackError extends Error {}

function main() {
  const out = resolve(parseOut(process.argv.slice(2)));
  const workspace = readWorkspace();
  const bundled = dependencyClosure(workspace, CLI);
  for (const name of bundled) checkBuilt(workspace.get(name));
  const externals = externalVersions(workspace, bundled);
  for (const name of bundled) checkImports(workspace.get(name), externals);
  checkBundle(workspace.get(CLI), externals);

  const stage = mkdtempSync(join(tmpdir(), 'overlap-pack-'));
  try {
    const cli = workspace.get(CLI);
    copyBuilt(cli.dir, join(stage, CLI_DIR));
    copyTree(join(cli.dir, 'bundle'), join(stage, CLI_DIR, 'bundle'), (file) => file.endsWith('.js'));
    writeJson(join(stage, CLI_DIR, 'package.json'), {
      name: cli.json.name,
      version: cli.json.version,
      license: cli.json.license,
      type: 'module',
    });
    for (const name of bundled) {
      if (name === CLI) continue;
      const pkg = workspace.get(name);
      const target = join(stage, 'node_modules', name);
      copyBuilt(pkg.dir, target);
      writeJson(join(target, 'package.json'), bundledManifest(pkg, workspace));
    }
    copyTree(join(ROOT, 'examples/data'), join(stage, 'examples/data'), () => true);
    copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    copyFileSync(join(cli.dir, 'README.md'), join(stage, 'README.md'));
    writeJson(join(stage, 'package.json'), topManifest(workspace, bundled, externals));

    const packed = join(stage, '.packed');
    mkdirSync(packed);
    const report = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packed], {
        cwd: stage,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const { filename, size, unpackedSize, entryCount } = report[0];
    mkdirSync(out, { recursive: true });
    const tarball = join(out, filename);
    const partial = `${tarball}.partial-${process.pid}`;
    copyFileSync(join(packed, filename), partial);
    renameSync(partial, tarball);
    const kb = (n) => `${Math.round(n / 1024)} KiB`;
    console.error(
      `pack-cli: ${filename}: ${entryCount} files, ${kb(size)} packed, ${kb(unpackedSize)} unpacked; ` +
        `bundled ${[...bundled].join(', ')}; from the registry ${Object.keys(externals.lab).length} packages; ` +
        `optional peer ${Object.keys(externals.forum).join(', ')}`,
    );
    console.log(tarball);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function parseOut(args) {
  if (args.length === 0) return join(ROOT, 'dist');
  if (args.length === 2 && args[0] === '--out' && args[1] !== '') return args[1];
  throw new PackError(`usage: node scripts/pack-cli.mjs [--out DIR] (got ${JSON.stringify(args)})`);
}

/** Every workspace package under packages/, by name: its folder and its package.json. */
function readWorkspace() {
  const packages = new Map();
  for (const folder of readdirSync(join(ROOT, 'packages'))) {
    const dir = join(ROOT, 'packages', folder);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    packages.set(json.name, { dir, json });
  }
  return packages;
}

function isWorkspaceVersion(range) {
  return typeof range === 'string' && range.startsWith('workspace:');
}

/** `start` and the workspace packages it depends on (runtime dependencies only), transitively. */
function dependencyClosure(workspace, start) {
  const seen = new Set();
  const visit = (name, from) => {
    if (seen.has(name)) return;
    const pkg = workspace.get(name);
    if (pkg === undefined) throw new PackError(`${from} depends on ${name}, which is not a package under packages/`);
    seen.add(name);
    for (const [dep, range] of Object.entries(pkg.json.dependencies ?? {})) {
      if (isWorkspaceVersion(range)) visit(dep, name);
    }
  };
  visit(start, 'the CLI');
  return seen;
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** A package is packed only from a build at least as new as each of its source files. */
function checkBuilt({ dir, json }) {
  const dist = join(dir, 'dist');
  if (!existsSync(dist)) throw new PackError(`${json.name} has no dist/ (${dist}): run pnpm build first`);
  for (const source of filesUnder(join(dir, 'src'))) {
    if (!source.endsWith('.ts') || source.endsWith('.d.ts')) continue;
    const built = join(dist, relative(join(dir, 'src'), source)).replace(/\.ts$/, '.js');
    if (!existsSync(built))
      throw new PackError(
        `${json.name}: ${relative(ROOT, source)} has no build (${relative(ROOT, built)}): run pnpm build`,
      );
    if (statSync(built).mtimeMs < statSync(source).mtimeMs)
      throw new PackError(`${json.name}: ${relative(ROOT, source)} is newer than its build: run pnpm build`);
  }
}

const BUILTINS = new Set(builtinModules);

/** The package a bare import names (`@scope/name` or `name`), or undefined for a Node.js builtin. */
function packageOf(specifier) {
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The CLI's bundle (scripts/bundle-cli.mjs), the bin: built after dist/, and importing nothing but
 * builtins and what the installed package resolves from its own node_modules (the native packages
 * left outside the bundle are dependencies of the top package, or the forum's optional peer).
 */
function checkBundle({ dir, json }, externals) {
  const main = join(dir, 'bundle', 'main.js');
  if (!existsSync(main)) throw new PackError(`${json.name} has no bundle (${relative(ROOT, main)}): run pnpm build`);
  if (statSync(main).mtimeMs < statSync(join(dir, 'dist', 'main.js')).mtimeMs)
    throw new PackError(`${json.name}: ${relative(ROOT, main)} is older than dist/: run pnpm build`);
  // cbor-extract: cbor-x's optional dependency, which npm installs beside it when it can; cbor-x
  // requires it inside a try and decodes without it.
  const resolvable = new Set([...Object.keys(externals.lab), ...Object.keys(externals.forum), 'cbor-extract']);
  const listed = join(dir, 'bundle', 'externals.json');
  for (const specifier of JSON.parse(readFileSync(listed, 'utf8'))) {
    const name = packageOf(specifier);
    if (name !== undefined && !resolvable.has(name))
      throw new PackError(
        `the CLI's bundle imports ${name} (${relative(ROOT, listed)}), which the installed package would not have`,
      );
  }
}

/**
 * The exact version this checkout installed of every external dependency of the bundled packages
 * (pnpm links each package's dependencies into its own node_modules), split into what every
 * install gets (`lab`) and the forum's optional peers (`forum`, with the range the package declares).
 */
function externalVersions(workspace, bundled) {
  const lab = {};
  const forum = {};
  const wantedBy = {};
  for (const name of bundled) {
    const { dir, json } = workspace.get(name);
    for (const [dep, range] of Object.entries(json.dependencies ?? {})) {
      if (isWorkspaceVersion(range)) continue;
      const manifest = join(dir, 'node_modules', dep, 'package.json');
      if (!existsSync(manifest))
        throw new PackError(`${name} depends on ${dep}, not installed in ${relative(ROOT, dir)}: run pnpm install`);
      const version = JSON.parse(readFileSync(manifest, 'utf8')).version;
      const into = FORUM_ONLY.has(dep) ? forum : lab;
      const wanted = FORUM_ONLY.has(dep) ? range : version;
      if (into[dep] !== undefined && into[dep] !== wanted)
        throw new PackError(
          `${dep}: ${wantedBy[dep]} wants ${into[dep]}, ${name} wants ${wanted}; one install holds one`,
        );
      into[dep] = wanted;
      wantedBy[dep] = name;
    }
  }
  return { lab, forum };
}

/**
 * Every bare import in a package's built modules names a Node.js builtin, a bundled package or a
 * dependency its package.json declares: what resolves in the workspace by accident (a hoisted or
 * a root devDependency) would not resolve in the installed package.
 */
function checkImports({ dir, json }) {
  const declared = new Set([json.name, ...Object.keys(json.dependencies ?? {})]);
  const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"./\s][^'"\s]*)['"]/gm;
  for (const file of filesUnder(join(dir, 'dist'))) {
    if (!file.endsWith('.js')) continue;
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const name = packageOf(specifier);
      if (name === undefined) continue;
      if (!declared.has(name))
        throw new PackError(
          `${relative(ROOT, file)} imports ${name}, which ${json.name}'s package.json does not declare`,
        );
    }
  }
}

/** dist/ without declarations and source maps: the JavaScript only. */
function copyBuilt(from, to) {
  copyTree(join(from, 'dist'), join(to, 'dist'), (file) => file.endsWith('.js'));
}

function copyTree(from, to, keep) {
  for (const file of filesUnder(from)) {
    if (!keep(file)) continue;
    const target = join(to, relative(from, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}

/** Only the conditions the installed package can meet: no `@overlap/source` (src/ is not shipped), no types. */
function installedExports(exports) {
  return Object.fromEntries(
    Object.entries(exports).map(([path, target]) => {
      if (typeof target === 'string') return [path, target];
      if (typeof target.default !== 'string') throw new PackError(`exports ${path} has no default condition`);
      return [path, target.default];
    }),
  );
}

/**
 * A bundled package's manifest names only its bundled (workspace) dependencies, at their exact
 * versions. Its registry dependencies are the top package's: npm counts a dependency of a bundled
 * package that lands beside it as part of the bundle, and then links no bins for it, so an install
 * script that runs one (cbor-extract's `node-gyp-build-optional-packages`) fails. Node resolves them
 * all the same, from the top package's node_modules.
 */
function bundledManifest({ json }, workspace) {
  const dependencies = {};
  for (const [dep, range] of Object.entries(json.dependencies ?? {})) {
    if (isWorkspaceVersion(range)) dependencies[dep] = workspace.get(dep).json.version;
  }
  const sideEffects = Array.isArray(json.sideEffects)
    ? json.sideEffects.filter((path) => path.startsWith('./dist/'))
    : json.sideEffects;
  return {
    name: json.name,
    version: json.version,
    description: json.description,
    license: json.license,
    type: json.type,
    sideEffects,
    engines: json.engines,
    exports: installedExports(json.exports),
    dependencies,
  };
}

function optionalPeers(peers) {
  if (Object.keys(peers).length === 0) return {};
  const meta = Object.fromEntries(Object.keys(peers).map((name) => [name, { optional: true }]));
  return { peerDependencies: peers, peerDependenciesMeta: meta };
}

function topManifest(workspace, bundled, externals) {
  const cli = workspace.get(CLI);
  const others = [...bundled].filter((name) => name !== CLI).sort();
  const sorted = (record) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: 'overlap',
    version: cli.json.version,
    description: cli.json.description,
    license: cli.json.license,
    type: 'module',
    engines: cli.json.engines,
    bin: { overlap: cli.json.bin.overlap.replace(/^\.\//, `${CLI_DIR}/`) },
    files: [CLI_DIR, 'examples/data', 'README.md', 'LICENSE'],
    dependencies: sorted({
      ...Object.fromEntries(others.map((name) => [name, workspace.get(name).json.version])),
      ...externals.lab,
    }),
    bundleDependencies: others,
    ...optionalPeers(externals.forum),
  };
}

function writeJson(file, value) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof PackError)) throw error;
  console.error(`pack-cli: ${error.message}`);
  process.exit(1);
}
