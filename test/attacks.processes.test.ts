/**
 * Every attack on verifiable hops (spec/protocol.md §5.2–5.3), carried out in a real multi-process
 * session: the relay is `overlap relay serve` in a process of its own, the two honest labs are
 * `overlap session run` processes, and the cheating lab is a process running the real SDK with its
 * engine replaced (test/support/cheating-lab-process.ts, attacks in test/support/attacks.ts). Each
 * case must end with the session aborted before any result, the honest labs told and writing no
 * results file, and `overlap audit verify` on the exported transcript failing with the cheater named
 * — agreeing with the relay's abort. The probabilistic cases (1%, 5% of a chunk) are measured by
 * scripts/detection-rate.ts; the cofactored verifier is a regression test in packages/crypto.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ATTACKS, type LabName } from './support/attacks.js';
import { finished, freePort } from './support/processes.js';
import { cli } from './support/run-cli.js';

const root = join(import.meta.dirname, '..');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');
const cheatingLab = join(root, 'test', 'support', 'cheating-lab-process.ts');
const dir = mkdtempSync(join(tmpdir(), 'overlap-attacks-'));
const db = join(dir, 'relay.db');
const LABS: LabName[] = ['north', 'south', 'east'];
const keyFile = (lab: LabName) => join(dir, `${lab}.key`);
let relay: ChildProcess | undefined;
let url = '';
let vkey = '';
let adminKeyFile = '';
const keyIds = new Map<LabName, string>();

function node(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

beforeAll(async () => {
  const init = await cli('relay', 'init', '--db', db, '--json');
  expect(init.code, init.err).toBe(0);
  adminKeyFile = JSON.parse(init.out).adminKeyFile;
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  relay = node([main, 'relay', 'serve', '--db', db, '--port', String(port)]);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    relay?.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      if (/log key +\S+\n/.test(output)) resolve();
    });
    relay?.stderr?.on('data', (data: Buffer) => {
      output += data.toString();
    });
    relay?.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${output}`)));
  });
  vkey = (/log key +(\S+)\n/.exec(output) as RegExpExecArray)[1] as string;
  for (const lab of LABS) {
    const identity = join(dir, `${lab}.identity.json`);
    const made = await cli('keygen', '--out', keyFile(lab), '--public', identity);
    expect(made.code, made.err).toBe(0);
    const enrolled = await cli(
      'admin',
      'enroll',
      '--relay',
      url,
      '--admin-key',
      adminKeyFile,
      '--identity',
      identity,
      '--lab',
      lab,
    );
    expect(enrolled.code, enrolled.err).toBe(0);
    keyIds.set(lab, JSON.parse(readFileSync(identity, 'utf8')).key_id);
  }
}, 120_000);

afterAll(() => {
  relay?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Each lab's items: some held by all three, some by each pair, the rest its own. */
function values(lab: LabName, items: number, run: string): string[] {
  const i = LABS.indexOf(lab);
  return Array.from({ length: items }, (_, k) => {
    if (k < 5) return `all-${k}-${run}@attack.example`;
    if (k < 10) return `pair-${Math.min(i, (i + 1) % 3)}${Math.max(i, (i + 1) % 3)}-${k}-${run}@attack.example`;
    return `own-${lab}-${k}-${run}@attack.example`;
  });
}

// `session run` is given its own state dir after these; the others keep their trust record here.
const common = () => ['--relay', url, '--log-key', vkey, '--state-dir', join(dir, 'lab-state')];

// Sessions are independent: a few run at once against the one relay (vitest's maxConcurrency).
describe.concurrent('a cheating lab process in a real session', () => {
  test.each(Object.entries(ATTACKS))(
    '%s: aborted before any result, the cheater named by the relay and by the audit',
    async (name, attack) => {
      const run = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      const created = await cli(
        'session',
        'create',
        ...common(),
        '--key',
        keyFile('north'),
        '--labs',
        LABS.join(','),
        '--kinds',
        'email',
        '--reveal',
        'count',
        // A case that cannot go on ends at its deadline, which names the lab the relay waits on: late
        // enough that the honest labs' processes have started and done their part by then.
        '--deadline-minutes',
        attack.ends === 'deadline' ? '0.75' : '10',
        '--json',
      );
      expect(created.code, created.err).toBe(0);
      const session = JSON.parse(created.out).session as string;
      const processes = LABS.map((lab) => {
        const input = join(dir, `${run}-${lab}.txt`);
        writeFileSync(input, `${values(lab, attack.items ?? 40, run).join('\n')}\n`);
        const state = join(dir, `${run}-${lab}.state`);
        if (lab === attack.cheater) {
          return finished(node([cheatingLab, url, vkey, keyFile(lab), session, input, state, name]));
        }
        const out = join(dir, `${run}-${lab}.results.jsonl`);
        const args = [main, 'session', 'run', ...common(), '--key', keyFile(lab), '--session', session];
        return finished(
          node([...args, '--input', input, '--kind', 'email', '--state-dir', state, '--out', out, '--workers', '1']),
        );
      });
      const exits = await Promise.all(processes);
      LABS.forEach((lab, i) => {
        const exit = exits[i] as { code: number | null; out: string; err: string };
        if (lab === attack.cheater) {
          expect(exit.code, exit.out + exit.err).not.toBe(0);
          return;
        }
        // An honest lab is told of the abort (exit 1, "aborted") and writes no results.
        expect(exit.code, exit.err).toBe(1);
        expect(exit.err).toMatch(/aborted/);
        expect(existsSync(join(dir, `${run}-${lab}.results.jsonl`))).toBe(false);
      });

      const transcript = join(dir, `${run}.transcript`);
      const exported = await cli(
        'audit',
        'export',
        '--relay',
        url,
        '--admin-key',
        adminKeyFile,
        '--log-key',
        vkey,
        '--session',
        session,
        '--out',
        transcript,
        '--state-dir',
        join(dir, 'auditor'),
      );
      expect(exported.code, exported.err).toBe(0);
      const verified = await cli('audit', 'verify', '--transcript', transcript, '--json');
      expect(verified.code, verified.out).toBe(1);
      const report = JSON.parse(verified.out);
      const culprit = keyIds.get(attack.culprit);
      expect(report).toMatchObject({ ok: false, culprit, culpritName: attack.culprit });
      const abort = report.checks.find((c: { name: string }) => c.name === 'abort');
      if (attack.ends === 'deadline') {
        // Nothing cheated in the log itself: the audit fails on the deadline, naming the lab it waited on.
        expect(abort, verified.out).toMatchObject({ ok: false, code: 'DEADLINE_MISSED', culprit });
      } else if (attack.ends === 'refusal') {
        // The refused envelope is in the relay's abort: the audit finds in it the rule it breaks.
        expect(abort, verified.out).toMatchObject({ ok: false, code: 'VIOLATION_REFUSED', culprit });
      } else {
        // The relay's abort named the same lab (the audit's abort check holds it to its own finding).
        expect(abort, verified.out).toMatchObject({ ok: true });
      }
    },
    240_000,
  );
});
