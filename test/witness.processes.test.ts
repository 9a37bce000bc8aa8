/**
 * `overlap witness serve` as a real process over HTTP. First its HTTP surface (statuses of
 * C2SP tlog-witness, limits); then a kill -9 campaign: bursts of concurrent add-checkpoint
 * requests from two histories of one log that fork after leaf 50, the witness killed with SIGKILL
 * while bursts are in flight and restarted on the same state directory. The truth is the two
 * Merkle trees the test built: at the end, every cosignature the witness ever returned verifies
 * under its vkey and all the checkpoints it cosigned lie on one history; after each restart it
 * holds a checkpoint at least as large as every one it cosigned before the kill.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin } from '@overlap/client';
import { generateLabKeys, generateSigningKeyPair } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import {
  ed25519NoteSigner,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatVerifierKey,
  leafHash,
  MerkleTree,
  parseVerifierKey,
  signNote,
  verifySignedNote,
} from '@overlap/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cli } from './support/run-cli.js';

const ORIGIN = 'relay.forum.example/overlap';
const FORK_AFTER = 50;
const LEAVES = 400;
const main = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'overlap-witness-proc-'));
const stateDir = join(dir, 'state');
const keyFile = join(dir, 'witness.key');
const logKeys = generateSigningKeyPair();
const signer = ed25519NoteSigner(ORIGIN, logKeys.secretKey);
const histories = {
  a: history('a'),
  b: history('b'),
};
let child: ChildProcess | undefined;

function history(branch: 'a' | 'b'): MerkleTree {
  const encoder = new TextEncoder();
  return new MerkleTree(
    Array.from({ length: LEAVES }, (_, i) =>
      leafHash(encoder.encode(i < FORK_AFTER ? `leaf ${i}` : `leaf ${i} of ${branch}`)),
    ),
  );
}

function note(branch: 'a' | 'b', size: number): string {
  const t = histories[branch];
  return signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: t.root(size), extensions: [] }), [signer]);
}

function body(branch: 'a' | 'b', oldSize: number, size: number): string {
  const t = histories[branch];
  const proof = oldSize === 0 || oldSize === size ? [] : t.consistencyProof(oldSize, size);
  return formatAddCheckpointRequest({ oldSize, proof, checkpoint: note(branch, size) });
}

/** `overlap witness init`, once per state directory, as its operator would. */
async function initWitness(state = stateDir, name = 'witness.lab-a.example'): Promise<void> {
  const made = await cli('witness', 'init', '--name', name, '--key', keyFile, '--state-dir', state);
  expect(made.code, made.err).toBe(0);
}

async function startWitness(
  options: { name?: string; state?: string; logKey?: string } = {},
): Promise<{ process: ChildProcess; url: string; vkey: string }> {
  const witness = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@overlap/source',
      main,
      'witness',
      'serve',
      '--json',
      '--port',
      '0',
      '--name',
      options.name ?? 'witness.lab-a.example',
      '--key',
      keyFile,
      '--state-dir',
      options.state ?? stateDir,
      '--log-keys',
      options.logKey ?? formatVerifierKey(ORIGIN, logKeys.publicKey),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: import.meta.dirname }, // no overlap.toml there
  );
  let output = '';
  let errors = '';
  const banner = await new Promise<{ url: string; vkey: string }>((resolve, reject) => {
    witness.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && output.includes('\n')) resolve(JSON.parse(line) as { url: string; vkey: string });
    });
    witness.stderr?.on('data', (data: Buffer) => {
      errors += data.toString();
    });
    witness.once('exit', (code) => reject(new Error(`the witness exited with ${code} before listening:\n${errors}`)));
  });
  return { process: witness, ...banner };
}

const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) =>
    p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve()),
  );

beforeAll(async () => {
  await writeKeyFile(keyFile, generateLabKeys());
});
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('overlap witness serve', () => {
  test('answers C2SP tlog-witness statuses over HTTP, refuses what it must, and stops on SIGTERM', async () => {
    // No state made by init: it refuses to start, rather than cosign from nothing.
    const refused = await startWitness().catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/exited with 64[\s\S]*overlap witness init/);
    await initWitness();
    const again = await cli(
      'witness',
      'init',
      '--name',
      'witness.lab-a.example',
      '--key',
      keyFile,
      '--state-dir',
      stateDir,
    );
    expect([again.code, again.err]).toEqual([64, expect.stringContaining('holds a witness state already')]);
    const { process: witness, url, vkey } = await startWitness();
    child = witness;
    const post = (text: string, path = '/add-checkpoint') => fetch(`${url}${path}`, { method: 'POST', body: text });
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${url}/add-checkpoint`)).status).toBe(405);
    expect((await post('x', '/nope')).status).toBe(404);
    expect((await post('old 0\n'.padEnd(70_000, 'A'))).status).toBe(413);
    expect((await post(body('a', 3, 10))).status).toBe(409);
    const first = await post(body('a', 0, 10));
    expect(first.status).toBe(200);
    const cosignature = await first.text();
    expect(verifySignedNote(`${note('a', 10)}${cosignature}`, [parseVerifierKey(vkey)]).verifiedBy).toEqual([
      'witness.lab-a.example',
    ]);
    const stale = await post(body('a', 0, 12));
    expect([stale.status, stale.headers.get('content-type'), await stale.text()]).toEqual([
      409,
      'text/x.tlog.size',
      '10\n',
    ]);
    const unsigned = formatAddCheckpointRequest({
      oldSize: 10,
      proof: histories.a.consistencyProof(10, 12),
      checkpoint: signNote(
        formatCheckpoint({ origin: ORIGIN, size: 12, rootHash: histories.a.root(12), extensions: [] }),
        [ed25519NoteSigner(ORIGIN, generateSigningKeyPair().secretKey)],
      ),
    });
    expect((await post(unsigned)).status).toBe(403);
    witness.kill('SIGTERM');
    await exited(witness);
    expect(witness.exitCode).toBe(0);
    expect(readdirSync(stateDir)).not.toContain('witness.lock'); // it let its state go
  });

  test('kill -9 during concurrent add-checkpoint bursts from two forked histories: it never cosigns both, never rolls back', async () => {
    rmSync(stateDir, { recursive: true, force: true });
    await initWitness();
    const cosigned: { branch: 'a' | 'b'; size: number }[] = [];
    let known = 0; // the size the witness last said it holds
    let kills = 0;
    let answered = 0;
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor(seed / 65536) % n; // the high bits: an LCG's low bits cycle
    };
    while (kills < 8) {
      const { process: witness, url, vkey } = await startWitness();
      child = witness;
      const verifier = parseVerifierKey(vkey);
      // After a restart the witness holds at least what it cosigned: ask from old 0, it says its size.
      const largest = Math.max(0, ...cosigned.map((c) => c.size));
      const asked = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: body('a', 0, Math.max(1, largest)) });
      if (largest > 0) {
        expect(asked.status).toBe(409);
        known = Number(await asked.text());
        expect(known).toBeGreaterThanOrEqual(largest);
      } else {
        await asked.text();
      }
      let alive = true;
      witness.once('exit', () => {
        alive = false;
      });
      for (let burst = 0; burst < 6 && alive; burst++) {
        const killNow = burst === 5 || random(3) === 0;
        const requests = Array.from({ length: 4 }, () => {
          const branch = random(2) === 0 ? 'a' : 'b';
          const size = Math.min(LEAVES, known + 1 + random(12));
          return { branch, size } as const;
        });
        const sent = requests.map(async ({ branch, size }) => {
          try {
            const answer = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: body(branch, known, size) });
            const text = await answer.text();
            answered++;
            if (answer.status === 200) {
              expect(verifySignedNote(`${note(branch, size)}${text}`, [verifier]).verifiedBy).toEqual([
                'witness.lab-a.example',
              ]);
              cosigned.push({ branch, size });
            } else if (answer.status === 409 && answer.headers.get('content-type') === 'text/x.tlog.size') {
              return Number(text);
            } else {
              expect([409, 422]).toContain(answer.status);
            }
            return answer.status === 200 ? size : undefined;
          } catch {
            return undefined; // killed while in flight: no answer, nothing to count
          }
        });
        if (killNow) {
          witness.kill('SIGKILL');
          kills++;
        }
        const sizes = (await Promise.all(sent)).filter((s): s is number => s !== undefined);
        if (sizes.length > 0) known = Math.max(known, ...sizes);
        if (killNow) await exited(witness);
      }
    }
    // Everything cosigned lies on one history: no size past the fork cosigned on both branches.
    const pastFork = new Set(cosigned.filter((c) => c.size > FORK_AFTER).map((c) => c.branch));
    expect(pastFork.size).toBeLessThanOrEqual(1);
    expect(cosigned.length).toBeGreaterThan(10);
    expect(answered).toBeGreaterThan(cosigned.length); // forks and stale sizes were refused, not only cosigned
    expect(readdirSync(join(stateDir, 'evidence')).length).toBeGreaterThan(0);
    expect(readdirSync(join(stateDir, 'logs')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  test('`overlap relay serve --witnesses` with two `overlap witness serve` processes: each checkpoint ends up cosigned by both', async () => {
    const db = join(dir, 'relay', 'relay.db');
    const cli = (args: string[]) =>
      spawn(process.execPath, ['--import', 'tsx', '--conditions=@overlap/source', main, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: import.meta.dirname,
      });
    const firstJson = (p: ChildProcess) =>
      new Promise<Record<string, string>>((resolve, reject) => {
        let out = '';
        let err = '';
        p.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line !== undefined && out.includes('}\n')) resolve(JSON.parse(line) as Record<string, string>);
        });
        p.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
        });
        p.once('exit', (code) => reject(new Error(`exited with ${code}:\n${err}`)));
      });
    const init = await firstJson(cli(['relay', 'init', '--db', db, '--json']));
    expect(init.vkey).toMatch(/^overlap-relay\/[0-9a-f]{16}\+[0-9a-f]{8}\+/);
    const started: ChildProcess[] = [];
    try {
      const ws = [];
      for (const name of ['witness-1.example', 'witness-2.example']) {
        await initWitness(join(dir, name), name);
        const w = await startWitness({ name, state: join(dir, name), logKey: init.vkey as string });
        started.push(w.process);
        ws.push(w);
      }
      const relay = cli([
        'relay',
        'serve',
        '--db',
        db,
        '--port',
        '0',
        '--json',
        '--witnesses',
        ws.map((w) => `${w.url} ${w.vkey}`).join(','),
      ]);
      started.push(relay);
      const { url } = (await firstJson(relay)) as { url: string };
      const admin = new ForumAdmin(url, await readKeyFile(init.adminKeyFile as string));
      const lab = generateLabKeys();
      await admin.enroll({ signingKey: lab.signing.publicKey, sealingKey: lab.sealing.publicKey }, 'lab-a');
      const verifiers = [parseVerifierKey(init.vkey as string), ...ws.map((w) => parseVerifierKey(w.vkey))];
      const size = Number(/\n(\d+)\n/.exec(await (await fetch(`${url}/v1/log/checkpoint`)).text())?.[1]);
      for (let i = 0; ; i++) {
        const answer = await fetch(`${url}/v1/log/witnessed`);
        const note = await answer.text();
        if (answer.status === 200) {
          const { text, verifiedBy } = verifySignedNote(note, verifiers);
          if (Number(text.split('\n')[1]) >= size && verifiedBy.length === 3) {
            expect(verifiedBy.slice(1)).toEqual(['witness-1.example', 'witness-2.example']);
            break;
          }
        }
        if (i > 2000) throw new Error('the relay never served a checkpoint both witnesses cosigned');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      for (const p of started) p.kill('SIGKILL');
      await Promise.all(started.map(exited));
    }
  }, 120_000);
});
