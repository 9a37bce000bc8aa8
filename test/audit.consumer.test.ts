/**
 * An auditor's project that has neither the relay nor better-sqlite3: `@overlap/audit` and the
 * workspace packages it depends on, compiled to JavaScript the way their build does (tsc over each
 * package's `src/`, into its `dist/`), laid out as an install would lay them out in a temporary
 * project's node_modules with their package.json (so their `exports` maps apply), next to their
 * third-party dependencies and nothing else. A plain `node consumer.mjs` — no TypeScript loader,
 * no `@overlap/source` condition — imports `verifyTranscript` and checks the transcript of a real
 * session (a relay on loopback, three labs through the SDK) and a tampered copy. A resolve hook
 * records every module the child loads: none may be the relay, SQLite or commander.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { verifyTranscript } from '@overlap/audit';
import { toHex } from '@overlap/crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import { resolveLog } from './support/resolve-log.js';
import { decodeTranscript, encodeTranscript, flipInPart } from './support/transcript-forge.js';

const root = join(import.meta.dirname, '..');
const FORBIDDEN = /packages\/(relay|client|cli)\/|@overlap\/(relay|client|cli)\b|better-sqlite3|commander/;

/** The workspace packages `@overlap/audit` needs (itself included) and every third-party package they declare. */
function dependencyClosure(): { workspace: string[]; external: Map<string, string> } {
  const workspace: string[] = [];
  const external = new Map<string, string>(); // name → the directory it is installed at
  const visit = (name: string) => {
    if (workspace.includes(name)) return;
    workspace.push(name);
    const dir = join(root, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (dep.startsWith('@overlap/')) visit(dep.slice('@overlap/'.length));
      else if (!external.has(dep)) external.set(dep, realpathSync(join(dir, 'node_modules', dep)));
    }
  };
  visit('audit');
  return { workspace, external };
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // No inherited NODE_OPTIONS: the child must not get vitest's or tsx's loaders.
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * Compiles the packages' sources in one tsc run (the options of tsconfig.build.json, without
 * declarations) and installs each as `node_modules/@overlap/NAME/{package.json,dist/}`.
 */
async function installBuilt(project: string, workspace: string[], external: Map<string, string>): Promise<void> {
  const out = join(project, '.build');
  const tsconfig = join(project, 'tsconfig.build.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.base.json'),
      compilerOptions: {
        rootDir: join(root, 'packages'),
        outDir: out,
        customConditions: ['@overlap/source'],
        typeRoots: [join(root, 'node_modules', '@types')],
        declaration: false,
        declarationMap: false,
        sourceMap: false,
      },
      include: workspace.map((name) => join(root, 'packages', name, 'src')),
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const built = await run(process.execPath, [tsc, '-p', tsconfig], project);
  expect(built.code, built.out + built.err).toBe(0);
  for (const name of workspace) {
    const installed = join(project, 'node_modules', '@overlap', name);
    mkdirSync(installed, { recursive: true });
    cpSync(join(root, 'packages', name, 'package.json'), join(installed, 'package.json'));
    renameSync(join(out, name, 'src'), join(installed, 'dist'));
  }
  for (const [name, dir] of external) {
    const link = join(project, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(dir, link, 'dir');
  }
}

const CONSUMER = `
import { readFileSync } from 'node:fs';
import { verifyTranscript } from '@overlap/audit';

const [adminKey, ...files] = process.argv.slice(2);
const pin = { adminKey: new Uint8Array(Buffer.from(adminKey, 'hex')) };
const reports = files.map((file) => verifyTranscript(new Uint8Array(readFileSync(file)), pin));
process.stdout.write(JSON.stringify(reports));
`;

let s: AuditSession;
let project: string;
let closure: ReturnType<typeof dependencyClosure>;
beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'overlap-auditor-'));
  closure = dependencyClosure();
  [s] = await Promise.all([runAuditSession(), installBuilt(project, closure.workspace, closure.external)]);
}, 60_000);
afterAll(async () => {
  await s?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the auditor’s project holds the audit, protocol, log and crypto, and neither the relay, SQLite nor commander', () => {
  expect(closure.workspace).toEqual(expect.arrayContaining(['audit', 'protocol', 'log', 'crypto']));
  const installed = readdirSync(join(project, 'node_modules', '@overlap')).sort();
  expect(installed).toEqual([...closure.workspace].sort());
  for (const name of [...installed.map((n) => `@overlap/${n}`), ...closure.external.keys()]) {
    expect(name).not.toMatch(FORBIDDEN);
  }
  expect(existsSync(join(project, 'node_modules', '@overlap', 'audit', 'dist', 'index.js'))).toBe(true);
});

test('plain node imports verifyTranscript from the built package: a real transcript passes, a tampered one fails', async () => {
  const good = join(project, 'session.cbor');
  writeFileSync(good, s.transcript);
  const t = decodeTranscript(s.transcript);
  const flipped = t.envelopes[4] as (typeof t.envelopes)[number];
  flipped.envelope = flipInPart(flipped.envelope, 's');
  const bad = join(project, 'tampered.cbor');
  writeFileSync(bad, encodeTranscript(t));
  writeFileSync(join(project, 'consumer.mjs'), CONSUMER);
  const resolved = resolveLog(project);

  const adminKey = toHex(s.admin.signing.publicKey);
  const child = await run(
    process.execPath,
    [...resolved.args, 'consumer.mjs', adminKey, good, bad],
    project,
    resolved.env,
  );
  expect(child.code, child.err).toBe(0);
  const [passed, failed] = JSON.parse(child.out) as ReturnType<typeof verifyTranscript>[];

  // The built package says what the sources say, and what the labs learned.
  expect(passed).toEqual(verifyTranscript(s.transcript, { adminKey: s.admin.signing.publicKey }));
  expect(passed?.ok).toBe(true);
  expect(passed?.session).toBe(s.session);
  const shared = s.outcomes.reduce((n, o) => n + o.results.length, 0);
  expect(passed?.checks.find((c) => c.name === 'results')?.detail).toMatch(
    new RegExp(`^${shared.toLocaleString('en-US')} rows`),
  );
  expect(failed).toMatchObject({ ok: false, failed: 'signatures', code: 'SIGNATURE_INVALID' });
  expect(failed?.checks.find((c) => c.name === 'signatures')?.index).toBe(flipped.index);

  // What the child loaded: the built packages from its own node_modules, nothing of the relay.
  const urls = resolved.urls();
  const overlap = urls.filter((url) => url.includes('/node_modules/@overlap/'));
  for (const name of ['audit', 'protocol', 'log', 'crypto']) {
    expect(overlap).toContain(`file://${realpathSync(project)}/node_modules/@overlap/${name}/dist/index.js`);
  }
  expect(
    urls.filter(
      (url) =>
        url.startsWith('file:') &&
        !url.startsWith(`file://${realpathSync(project)}/`) &&
        !url.includes('/node_modules/.pnpm/'),
    ),
  ).toEqual([]);
  expect(urls.filter((url) => FORBIDDEN.test(url) || url.endsWith('.ts'))).toEqual([]);
});
