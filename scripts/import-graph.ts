/**
 * The import graph of the workspace and the rules it must keep (docs/architecture.md §2):
 * - a package imports only the workspace packages docs/architecture.md §2 lets it depend on, and declares them;
 * - a package's source imports only dependencies it declares (or node: built-ins);
 * - the pure packages (protocol, log), and everything crypto's main entry reaches, import no Node.js
 *   built-in, no node-only package (@overlap/files) and not `@overlap/crypto/node`: they load in a
 *   browser (packages/crypto/test/browser-bundle.test.ts bundles crypto's main entry to show it);
 * - there are no import cycles, neither between packages nor between files of one package.
 *
 * Imports are read with TypeScript's own `preProcessFile`, so comments and strings never count.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Which workspace packages each package may depend on (docs/architecture.md §2's table). */
export const ALLOWED_WORKSPACE_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  files: [],
  indicators: [],
  crypto: [],
  protocol: ['crypto'],
  log: ['crypto'],
  relay: ['protocol', 'log', 'crypto'],
  audit: ['protocol', 'log', 'crypto'],
  client: ['protocol', 'log', 'crypto', 'indicators'],
  witness: ['log', 'crypto'],
  agent: ['client', 'protocol', 'crypto', 'indicators'],
  cli: ['indicators', 'crypto', 'protocol', 'log', 'audit', 'relay', 'client', 'witness', 'agent'],
};

/** The error base (pure, no dependencies): every package may depend on it, besides its row above. */
const SHARED_PACKAGES: readonly string[] = ['errors'];

/**
 * Node-only packages (they touch the disk by design), each with the packages that may depend on it
 * besides their rows above: never a pure one.
 */
const NODE_ONLY_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  files: ['crypto', 'relay', 'client', 'witness', 'agent', 'cli'],
};

/** Packages that must do no I/O and load in a browser: no Node.js built-in, no node-only package. */
const PURE_PACKAGES = new Set(['protocol', 'log', 'audit']);
/**
 * Packages with a pure main entry and a node-only one: what `src/index.ts` reaches is held to the
 * pure packages' rules, and no pure package may import the node-only entry (`src/node/`).
 */
const PURE_MAIN_ENTRY: Readonly<Record<string, { main: string; nodeEntry: string }>> = {
  crypto: { main: 'src/index.ts', nodeEntry: '@overlap/crypto/node' },
};
const NODE_ENTRIES = new Set(Object.values(PURE_MAIN_ENTRY).map((entry) => entry.nodeEntry));

export interface Violation {
  file: string;
  message: string;
}

interface PackageInfo {
  name: string;
  dir: string;
  dependencies: Set<string>;
}

export function checkWorkspace(root: string): Violation[] {
  const violations: Violation[] = [];
  const packages = readPackages(root);
  const packageGraph = new Map<string, Set<string>>();

  for (const pkg of packages) {
    const allowed = ALLOWED_WORKSPACE_DEPENDENCIES[pkg.name];
    const manifest = relative(root, join(pkg.dir, 'package.json'));
    if (allowed === undefined) {
      violations.push({
        file: manifest,
        message: `package ${pkg.name} is not in docs/architecture.md's package table`,
      });
      continue;
    }
    const workspaceDeps = new Set<string>();
    packageGraph.set(pkg.name, workspaceDeps);
    for (const dep of pkg.dependencies) {
      if (!dep.startsWith('@overlap/')) continue;
      const target = dep.slice('@overlap/'.length);
      const shared = SHARED_PACKAGES.includes(target) && target !== pkg.name;
      if (!allowed.includes(target) && !shared && !NODE_ONLY_PACKAGES[target]?.includes(pkg.name)) {
        violations.push({
          file: manifest,
          message: `@overlap/${pkg.name} may not depend on ${dep} (docs/architecture.md)`,
        });
      }
    }

    const fileGraph = new Map<string, string[]>();
    const external = new Map<string, string[]>();
    for (const file of sourceFiles(join(pkg.dir, 'src'))) {
      const shown = relative(root, file);
      const local: string[] = [];
      external.set(file, []);
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          local.push(resolveLocal(file, specifier));
          continue;
        }
        external.get(file)?.push(specifier);
        if (specifier.startsWith('node:')) continue;
        const dep = packageNameOf(specifier);
        if (!pkg.dependencies.has(dep)) {
          violations.push({ file: shown, message: `imports ${dep}, which package.json does not declare` });
        }
        if (dep.startsWith('@overlap/')) workspaceDeps.add(dep.slice('@overlap/'.length));
      }
      fileGraph.set(file, local);
    }
    violations.push(...purityViolations(root, pkg.name, fileGraph, external));
    for (const cycle of findCycles(fileGraph)) {
      violations.push({
        file: relative(root, cycle[0] as string),
        message: `import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`,
      });
    }
  }
  for (const cycle of findCycles(packageGraph)) {
    violations.push({ file: 'packages/', message: `package cycle: ${cycle.join(' -> ')}` });
  }
  return violations;
}

/**
 * The pure rules: in a pure package every file, in a package with a pure main entry every file that
 * entry reaches, imports no Node.js built-in, no node-only package and no node-only entry.
 */
function purityViolations(
  root: string,
  name: string,
  fileGraph: ReadonlyMap<string, readonly string[]>,
  external: ReadonlyMap<string, readonly string[]>,
): Violation[] {
  const entry = PURE_MAIN_ENTRY[name];
  let files: Iterable<string>;
  let who: string;
  if (PURE_PACKAGES.has(name)) {
    files = fileGraph.keys();
    who = `pure package ${name}`;
  } else if (entry !== undefined) {
    files = reachable(fileGraph, join(root, 'packages', name, entry.main));
    who = `${name}'s main entry (${entry.main}, pure) reaches this file, which`;
  } else {
    return [];
  }
  const violations: Violation[] = [];
  for (const file of files) {
    for (const specifier of external.get(file) ?? []) {
      const nodeOnly =
        specifier.startsWith('node:') ||
        NODE_ENTRIES.has(specifier) ||
        Object.hasOwn(NODE_ONLY_PACKAGES, packageNameOf(specifier).slice('@overlap/'.length));
      if (nodeOnly) violations.push({ file: relative(root, file), message: `${who} imports ${specifier}` });
    }
  }
  return violations;
}

/** The files `start` imports, directly or not, itself included. */
function reachable(graph: ReadonlyMap<string, readonly string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file) || !graph.has(file)) continue;
    seen.add(file);
    stack.push(...(graph.get(file) ?? []));
  }
  return seen;
}

/** Every elementary cycle found by depth-first search, each closed (first node repeated last). */
export function findCycles(graph: ReadonlyMap<string, Iterable<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

function readPackages(root: string): PackageInfo[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .map((name) => {
      const manifest = JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      return { name, dir: join(dir, name), dependencies: new Set(Object.keys(manifest.dependencies ?? {})) };
    });
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function resolveLocal(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  return target.replace(/\.js$/, '.ts');
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}
