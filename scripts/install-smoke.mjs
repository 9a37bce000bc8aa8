#!/usr/bin/env node
/**
 * CI's install check (a step of .ci/run after the build, not part of `pnpm test`): packs the CLI
 * (scripts/pack-cli.mjs), installs the tarball with `npm install -g` into a temporary prefix as a
 * lab would, and uses the `overlap` found on PATH from folders outside the checkout, with paths
 * relative to them:
 *
 *   node scripts/install-smoke.mjs [TARBALL] [--forum]
 *
 * 1. install: npm resolves `@overlap/*` from a registry on a closed loopback port, so fetching any
 *    of them fails the install (they must come from the tarball's bundle); nothing is compiled and
 *    better-sqlite3 is not installed.
 * 2. `overlap --version` from another folder, and its start-up time against bare `node` (the
 *    target is 150 ms; a benchmark, which fails only when far off).
 * 3. Every lab command loads without better-sqlite3 (`--help` of each command `overlap --help`
 *    lists, which loads its module); `overlap relay init` fails, naming better-sqlite3, and writes
 *    nothing.
 * 4. The worker threads (input reading, hashing and blinding) start from the installed files.
 * 5. A short exchange: a relay, two labs each in its own folder with keys from the installed
 *    `overlap keygen`, enrolled with the installed `overlap admin enroll`, both running
 *    `overlap session run`; the shared indicators equal the plaintext intersection of the inputs;
 *    the transcript exported and verified with the installed `overlap audit`.
 *
 * The relay runs from the checkout's build (node packages/cli/bundle/main.js relay …): a forum's
 * install compiles better-sqlite3 (no prebuilt binary can be downloaded here), about two minutes
 * that this step does not need, since the relay from dist/ is tested by scripts/smoke-dist.mjs and
 * the test suite. With --forum, it installs as a forum does instead, into a second prefix
 * (`npm install -g TARBALL better-sqlite3@12`), and serves the relay from there.
 *
 * Exit 0 when every check holds; on a failure the temporary folder is kept and its path printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The commands that start a relay in the process, and so need better-sqlite3. */
const FORUM_COMMANDS = new Set(['relay', 'simulate', 'demo']);
/** A registry no one listens on: any request npm makes for an `@overlap/*` name fails. */
const NO_REGISTRY = 'http://127.0.0.1:9/';
const VERSION_TARGET_MS = 150;
/** `overlap --version` above bare `node` by more than this fails the step: something loads what it should not. */
const VERSION_FAIL_OVERHEAD_MS = 1000;

class SmokeFailure extends Error {}

const args = process.argv.slice(2);
const forum = args.includes('--forum');
const tarballArg = args.find((arg) => arg !== '--forum');
const work = mkdtempSync(join(tmpdir(), 'overlap-install-smoke-'));
const children = new Set();

function check(condition, message) {
  if (!condition) throw new SmokeFailure(message);
}

async function phase(name, run) {
  const started = performance.now();
  const result = await run();
  console.log(`install-smoke: ${name}: ok in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** The environment the installed command runs in: the prefix's bin first on PATH, no OVERLAP_* of the caller. */
function commandEnv(prefix, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OVERLAP_')));
  return { ...env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`); resolves with its exit and output. */
function run(command, commandArgs, { cwd, env, timeoutMs = 120_000 }) {
  return new Promise((done, fail) => {
    const child = spawn(command, commandArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => {
      stdout += data;
    });
    child.stderr.on('data', (data) => {
      stderr += data;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      done({ code, signal, stdout, stderr, what: `${command} ${commandArgs.join(' ')} (in ${cwd})` });
    });
  });
}

async function runOk(command, commandArgs, options) {
  const result = await run(command, commandArgs, options);
  check(
    result.code === 0,
    `${result.what} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`.trimEnd(),
  );
  return result;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function pack() {
  if (tarballArg !== undefined) return resolve(tarballArg);
  const { stdout } = await runOk(process.execPath, [join(ROOT, 'scripts/pack-cli.mjs'), '--out', join(work, 'pack')], {
    cwd: ROOT,
    env: process.env,
  });
  return stdout.trim().split('\n').at(-1);
}

/** `npm install -g` into `prefix`, `@overlap/*` from nowhere; returns npm's log (http level). */
async function npmInstall(prefix, specs) {
  const result = await runOk(
    'npm',
    ['install', '-g', '--prefix', prefix, `--@overlap:registry=${NO_REGISTRY}`, '--loglevel=http', ...specs],
    { cwd: work, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' }, timeoutMs: 600_000 },
  );
  const log = result.stdout + result.stderr;
  const fetched = log.split('\n').filter((line) => /http fetch .*@overlap(\/|%2f)/i.test(line));
  check(fetched.length === 0, `npm asked a registry for @overlap packages:\n${fetched.join('\n')}`);
  const installed = join(prefix, 'lib/node_modules/overlap');
  for (const name of ['crypto', 'client', 'relay']) {
    check(
      existsSync(join(installed, 'node_modules/@overlap', name, 'dist/index.js')),
      `@overlap/${name} is not inside the installed package (${installed})`,
    );
  }
  return log;
}

async function labInstall(tarball) {
  const prefix = join(work, 'prefix');
  const log = await npmInstall(prefix, [tarball]);
  const installed = join(prefix, 'lib/node_modules/overlap');
  check(!existsSync(join(installed, 'node_modules/better-sqlite3')), "a lab's install installed better-sqlite3");
  const compiled = log.split('\n').filter((line) => /node-gyp rebuild|prebuild-install|better-sqlite3/.test(line));
  check(compiled.length === 0, `a lab's install compiled or fetched native code:\n${compiled.join('\n')}`);
  const found = spawnSync('sh', ['-c', 'command -v overlap'], { env: commandEnv(prefix), encoding: 'utf8' });
  check(found.stdout.trim() === join(prefix, 'bin/overlap'), `overlap on PATH is ${found.stdout.trim() || 'missing'}`);
  return { prefix, version: JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version };
}

async function version({ prefix, version: expected }) {
  const elsewhere = join(work, 'elsewhere');
  mkdirSync(elsewhere);
  const env = commandEnv(prefix);
  const { stdout } = await runOk('overlap', ['--version'], { cwd: elsewhere, env });
  check(stdout.trim() === expected, `overlap --version printed ${JSON.stringify(stdout)}, the package is ${expected}`);
  const timed = async (command, commandArgs) => {
    const times = [];
    for (let i = 0; i < 9; i++) {
      const started = performance.now();
      await runOk(command, commandArgs, { cwd: elsewhere, env });
      times.push(performance.now() - started);
    }
    return median(times);
  };
  const node = await timed(process.execPath, ['-e', '']);
  const overlap = await timed('overlap', ['--version']);
  const verdict = overlap <= VERSION_TARGET_MS ? 'within' : 'above';
  console.log(
    `install-smoke: overlap --version: median ${overlap.toFixed(0)} ms of 9 (bare node ${node.toFixed(0)} ms), ` +
      `${verdict} the ${VERSION_TARGET_MS} ms target`,
  );
  check(
    overlap - node <= VERSION_FAIL_OVERHEAD_MS,
    `overlap --version takes ${(overlap - node).toFixed(0)} ms more than bare node: far off the ${VERSION_TARGET_MS} ms target`,
  );
}

async function labCommands({ prefix }) {
  const env = commandEnv(prefix);
  const cwd = join(work, 'elsewhere');
  const help = (await runOk('overlap', ['--help'], { cwd, env })).stdout;
  const listed = help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z-]*)\b/gm);
  const commands = [...listed].map((match) => match[1]).filter((name) => name !== 'help');
  for (const name of FORUM_COMMANDS) check(commands.includes(name), `overlap --help lists no ${name} command`);
  const labCommands = commands.filter((name) => !FORUM_COMMANDS.has(name));
  for (const name of labCommands) await runOk('overlap', [name, '--help'], { cwd, env });
  console.log(`install-smoke: without better-sqlite3, these load: ${labCommands.join(', ')}`);

  const relay = await run('overlap', ['relay', 'init', '--db', 'forum/relay.db'], { cwd, env });
  check(relay.code !== 0, 'overlap relay init succeeded without better-sqlite3');
  check(/better-sqlite3/.test(relay.stderr), `overlap relay init without better-sqlite3 said:\n${relay.stderr}`);
  check(!existsSync(join(cwd, 'forum')), 'overlap relay init without better-sqlite3 left files behind');
  const message = relay.stderr.trim().split('\n')[0];
  console.log(`install-smoke: without better-sqlite3, overlap relay init exits ${relay.code}: ${message}`);
  check(
    /npm install -g .*better-sqlite3@12/.test(relay.stderr),
    `the message does not say how to add it:\n${relay.stderr}`,
  );
  check(!/ERR_MODULE_NOT_FOUND/.test(relay.stderr), `Node's module error reached the user:\n${relay.stderr}`);
}

/**
 * The worker threads start from files beside their modules (by URL): from the installed package's
 * own copies, a reader worker reads a file and a pool of two hashes and blinds, as one thread would.
 */
async function workerThreads({ prefix }) {
  const installed = join(prefix, 'lib/node_modules/overlap/node_modules/@overlap');
  const client = await import(pathToFileURL(join(installed, 'client/dist/index.js')).href);
  const crypto = await import(pathToFileURL(join(installed, 'crypto/dist/index.js')).href);
  await import(pathToFileURL(join(installed, 'crypto/dist/node/index.js')).href);
  const file = join(work, 'worker-input.txt');
  writeFileSync(file, 'a@example.com\nb@example.com\na@example.com\n');
  const read = await client.readIndicatorFile(file, { kind: 'email', isolate: true });
  const values = Object.values(read.sets).flat().sort();
  check(values.join(' ') === 'a@example.com b@example.com', `the reader worker read ${JSON.stringify(read.sets)}`);

  const items = Array.from({ length: 500 }, (_, i) => ({ kind: 'email', value: `worker${i}@example.com` }));
  const key = crypto.BlindingKey.generate();
  try {
    const alone = items.map((item) => crypto.toHex(crypto.hashAndBlind(key, item.kind, item.value)));
    const pooled = [];
    for await (const tag of crypto.hashAndBlindBatch(key, items, { workers: 2 })) pooled.push(crypto.toHex(tag));
    check(pooled.join() === alone.join(), 'two workers of the installed package blinded otherwise than one thread');
  } finally {
    key.dispose();
  }
}

/** The relay command: the forum's install with --forum, else the checkout's build. */
async function relayCommand(tarball) {
  if (!forum)
    return { command: process.execPath, prefixArgs: [join(ROOT, 'packages/cli/bundle/main.js')], prefix: null };
  const prefix = join(work, 'forum-prefix');
  await npmInstall(prefix, [tarball, 'better-sqlite3@12']);
  return { command: join(prefix, 'bin/overlap'), prefixArgs: [], prefix };
}

/** Starts `relay serve` and resolves once it printed its URL and log key. */
function serveRelay({ command, prefixArgs }, cwd, env) {
  const child = spawn(command, [...prefixArgs, 'relay', 'serve', '--db', 'relay.db', '--port', '0'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new SmokeFailure(`the relay did not start in 60 s:\n${output}`)), 60_000);
    const look = (data) => {
      output += data;
      const url = /relay listening on (\S+)/.exec(output)?.[1];
      const logKey = /log key\s+(\S+)/.exec(output)?.[1];
      if (url !== undefined && logKey !== undefined) {
        clearTimeout(timer);
        done({ url, logKey });
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('close', (code) => {
      children.delete(child);
      clearTimeout(timer);
      fail(new SmokeFailure(`the relay exited ${code} before it listened:\n${output}`));
    });
  });
}

/** Two labs' suspect lists (canonical values, so the truth needs no canonicalization) and their overlap. */
function writeSuspects(labA, labB) {
  const records = (from, to) => {
    const rows = [];
    for (let i = from; i < to; i++) {
      rows.push({ kind: 'email', value: `suspect${i}@example.com` });
      rows.push({ kind: 'ip', value: `198.51.${Math.floor(i / 250)}.${i % 250}` });
    }
    return rows;
  };
  const a = records(0, 150);
  const b = records(113, 260);
  const csv = (rows) => `kind,value\n${rows.map((row) => `${row.kind},${row.value}`).join('\n')}\n`;
  writeFileSync(join(labA, 'suspects.csv'), csv(a));
  writeFileSync(join(labB, 'suspects.csv'), csv(b));
  const inB = new Set(b.map((row) => `${row.kind} ${row.value}`));
  return new Set(a.map((row) => `${row.kind} ${row.value}`).filter((key) => inB.has(key)));
}

async function exchange({ prefix }, tarball) {
  const relay = await relayCommand(tarball);
  // A passphrase for every key file, made here and never printed.
  const env = commandEnv(prefix, { OVERLAP_KEY_PASSPHRASE: randomBytes(16).toString('hex') });
  const dirs = { forum: join(work, 'forum'), 'lab-a': join(work, 'lab-a'), 'lab-b': join(work, 'lab-b') };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  const truth = writeSuspects(dirs['lab-a'], dirs['lab-b']);

  await runOk(relay.command, [...relay.prefixArgs, 'relay', 'init', '--db', 'relay.db'], { cwd: dirs.forum, env });
  const { url, logKey } = await serveRelay(relay, dirs.forum, env);
  for (const lab of ['lab-a', 'lab-b']) {
    await runOk('overlap', ['keygen', '--out', 'lab.key', '--public', 'lab.identity.json'], { cwd: dirs[lab], env });
    const identity = `../${lab}/lab.identity.json`;
    const enroll = [
      'admin',
      'enroll',
      '--relay',
      url,
      '--admin-key',
      'admin.key',
      '--identity',
      identity,
      '--lab',
      lab,
    ];
    await runOk('overlap', enroll, { cwd: dirs.forum, env });
  }
  const labArgs = ['--relay', url, '--key', 'lab.key', '--log-key', logKey];
  const create = ['session', 'create', ...labArgs, '--labs', 'lab-a,lab-b', '--kinds', 'email,ip'];
  const created = await runOk('overlap', [...create, '--chunk-size', '1024', '--json'], { cwd: dirs['lab-a'], env });
  const session = JSON.parse(created.stdout).session;
  check(/^[0-9a-f]{32}$/.test(session), `session create printed ${created.stdout}`);

  // Two workers: the hashing and the input-reading worker threads start from the installed files.
  const runArgs = ['session', 'run', ...labArgs, '--session', session, '--workers', '2'];
  runArgs.push('--input', 'suspects.csv', '--out', 'shared.jsonl');
  await Promise.all(
    ['lab-a', 'lab-b'].map((lab) => runOk('overlap', runArgs, { cwd: dirs[lab], env, timeoutMs: 300_000 })),
  );
  for (const lab of ['lab-a', 'lab-b']) checkShared(dirs[lab], lab, truth);

  const csv = await runOk('overlap', ['results', '--session', session, '--format', 'csv'], { cwd: dirs['lab-b'], env });
  const rows = csv.stdout.trim().split('\n').length - 1;
  check(rows === truth.size, `overlap results --format csv has ${rows} rows, the inputs share ${truth.size}`);

  const exportArgs = ['--session', session, '--relay', url, '--admin-key', 'admin.key', '--out', 'transcript.cbor'];
  await runOk('overlap', ['audit', 'export', ...exportArgs, '--log-key', logKey], { cwd: dirs.forum, env });
  const verify = ['audit', 'verify', '--transcript', '../forum/transcript.cbor', '--json'];
  const report = JSON.parse((await runOk('overlap', verify, { cwd: dirs['lab-a'], env })).stdout);
  check(report.ok === true, `overlap audit verify failed: ${JSON.stringify(report.failed)}`);
  console.log(
    `install-smoke: session ${session}: both labs found the ${truth.size} shared indicators; the audit passed ` +
      `(relay from ${relay.prefix === null ? 'the checkout' : "the forum's install"})`,
  );
}

/** The lab's results: in its own folder (relative paths), 0600, exactly the plaintext intersection. */
function checkShared(dir, lab, truth) {
  const file = join(dir, 'shared.jsonl');
  check(existsSync(file), `${lab}: no shared.jsonl in its folder ${dir}`);
  check(existsSync(join(dir, '.overlap/lab')), `${lab}: its state is not in its own folder (.overlap/lab)`);
  check((statSync(file).mode & 0o777) === 0o600, `${lab}: shared.jsonl is not 0600`);
  const shared = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
  const got = new Set(shared.map((row) => `${row.kind} ${row.value}`));
  const missing = [...truth].filter((key) => !got.has(key));
  const extra = [...got].filter((key) => !truth.has(key));
  check(
    shared.length === truth.size && missing.length === 0 && extra.length === 0,
    `${lab}: ${shared.length} shared rows, expected ${truth.size}; missing ${missing.slice(0, 3)}, extra ${extra.slice(0, 3)}`,
  );
  const other = lab === 'lab-a' ? 'lab-b' : 'lab-a';
  check(
    shared.every((row) => Array.isArray(row.labs) && row.labs.length === 1 && row.labs[0] === other),
    `${lab}: a shared row does not name ${other} as the one other lab`,
  );
}

let failed = false;
try {
  const started = performance.now();
  const tarball = await phase('pack', pack);
  const install = await phase('install', () => labInstall(tarball));
  await phase('version', () => version(install));
  await phase('lab commands', () => labCommands(install));
  await phase('worker threads', () => workerThreads(install));
  await phase('exchange', () => exchange(install, tarball));
  console.log(`install-smoke: all checks passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  failed = true;
  console.error(`install-smoke: FAILED: ${error instanceof SmokeFailure ? error.message : error?.stack}`);
  console.error(`install-smoke: its files are kept in ${work}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  if (!failed) rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
