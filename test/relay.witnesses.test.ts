/**
 * The relay and its witnesses over HTTP on loopback (spec/log.md §7, spec/relay-api.md §3): the
 * relay sends each new checkpoint to every witness in the background and serves the newest one
 * they cosigned, with every cosignature of its round, at `GET /v1/log/witnessed`; a witness that is
 * down is skipped and the others still cosign; one that comes back is brought up to date with a
 * consistency proof from the size it holds, without waiting for another commit; one whose size
 * went down is reported and never resynced; a witness key that is a log's key is refused at start.
 * Every note is checked against the keys the test holds, not the relay's word.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@overlap/crypto';
import {
  ED25519_COSIGNATURE_TYPE,
  ed25519Cosigner,
  formatVerifierKey,
  parseAddCheckpointRequest,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  policyCosigners,
  signNote,
  verifySignedNote,
  witnessPolicy,
} from '@overlap/log';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, TestRelay } from '../packages/relay/test/support/harness.js';
import { startTestWitness, type TestWitness } from './support/witness-server.js';

type RunningWitness = TestWitness;

const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-witnesses-'));
let t: TestRelay;
let logVkey: string;
const keys = { a: generateSigningKeyPair(), b: generateSigningKeyPair() };
const witnesses: Partial<Record<'a' | 'b', RunningWitness>> = {};

async function startWitness(which: 'a' | 'b', port = 0): Promise<RunningWitness> {
  const running = await startTestWitness({
    dir: join(dir, which),
    name: `witness-${which}.example`,
    logKey: logVkey,
    secretKey: keys[which].secretKey,
    port,
  });
  witnesses[which] = running;
  return running;
}

async function witnessed(): Promise<{ status: number; note: string }> {
  const response = await fetch(`${t.address}/v1/log/witnessed`);
  return { status: response.status, note: await response.text() };
}

/** Waits until the relay serves a witnessed checkpoint of at least `size` cosigned by `names`. */
async function witnessedAt(size: number, names: string[], tries = 2000): Promise<string> {
  const verifiers = [parseVerifierKey(logVkey), ...Object.values(witnesses).map((w) => parseVerifierKey(w.vkey))];
  for (let i = 0; ; i++) {
    const { status, note } = await witnessed();
    if (status === 200) {
      const { text, verifiedBy } = verifySignedNote(note, verifiers);
      if (parseCheckpoint(text).size >= size && names.every((n) => verifiedBy.includes(n))) return note;
    }
    if (i > tries) throw new Error(`no checkpoint of size ${size} cosigned by ${names.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const logSize = () => t.relay.core.latest.size;

beforeAll(async () => {
  t = await TestRelay.start();
  logVkey = ((await t.request('GET', '/v1/relay')).body as { vkey: string }).vkey;
  const a = await startWitness('a');
  const b = await startWitness('b');
  t.options.witnesses = [
    { url: a.url, vkey: a.vkey },
    { url: b.url, vkey: b.vkey },
  ];
  await t.restart();
});
afterAll(async () => {
  await t.close();
  for (const w of Object.values(witnesses)) await w.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe("the relay's witnesses", () => {
  test('a relay without witnesses answers 404; with them, each new checkpoint is cosigned by both, on one note', async () => {
    const lone = await TestRelay.start();
    try {
      const answer = await lone.request('GET', '/v1/log/witnessed');
      expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 404, code: 'NOT_FOUND' });
    } finally {
      await lone.close();
    }
    await t.enroll('lab-a');
    const note = await witnessedAt(logSize(), ['witness-a.example', 'witness-b.example']);
    const { text, verifiedBy } = verifySignedNote(note, [
      parseVerifierKey(logVkey),
      parseVerifierKey((witnesses.a as RunningWitness).vkey),
      parseVerifierKey((witnesses.b as RunningWitness).vkey),
    ]);
    expect(verifiedBy).toEqual([parseCheckpoint(text).origin, 'witness-a.example', 'witness-b.example']);
    expect(witnesses.a?.state.sizes().get(parseCheckpoint(text).origin)).toBe(parseCheckpoint(text).size);
  });

  test('a witness that is down is skipped: the other still cosigns; back, a top-up round brings it in on the same checkpoint with a proof', async () => {
    const b = witnesses.b as RunningWitness;
    const port = Number(new URL(b.url).port);
    const heldBefore = [...b.state.sizes().values()][0] as number;
    await b.stop();
    await t.enroll('lab-b');
    await t.enroll('lab-c');
    const size = logSize();
    const onlyA = await witnessedAt(size, ['witness-a.example']);
    expect(verifySignedNote(onlyA, [parseVerifierKey(logVkey), parseVerifierKey(b.vkey)]).verifiedBy).not.toContain(
      'witness-b.example',
    );
    const metrics = await t.metrics();
    expect(metrics).toMatch(/^overlap_relay_witness_failures_total\{witness="witness-b.example"\} [1-9]/m);
    // Back on its port with its state, and no upload since: the relay asks the missing witness
    // again on its own, proving the same checkpoint from the size b holds, and adds b's
    // cosignature to the note a already cosigned.
    await startWitness('b', port);
    const both = await witnessedAt(size, ['witness-a.example', 'witness-b.example'], 6000);
    expect(logSize()).toBe(size);
    expect(parseCheckpoint(verifySignedNote(both, [parseVerifierKey(logVkey)]).text).size).toBe(size);
    const held = [...(witnesses.b as RunningWitness).state.sizes().values()][0] as number;
    expect([heldBefore < size, held]).toEqual([true, size]);
  }, 120_000);

  test('a witness that forgot what it cosigned (its size went down) is reported, never brought back up from the smaller size', async () => {
    const b = witnesses.b as RunningWitness;
    const port = Number(new URL(b.url).port);
    await t.enroll('lab-e');
    await witnessedAt(logSize(), ['witness-a.example', 'witness-b.example']);
    await b.stop();
    rmSync(join(dir, 'b'), { recursive: true, force: true }); // its state lost, made anew
    const forgetful = await startWitness('b', port);
    const failures = async () =>
      Number(
        /^overlap_relay_witness_failures_total\{witness="witness-b.example"\} (\d+)/m.exec(await t.metrics())?.[1] ?? 0,
      );
    const before = await failures();
    await t.enroll('lab-f');
    await witnessedAt(logSize(), ['witness-a.example']);
    for (let i = 0; (await failures()) < before + 2; i++) {
      if (i > 6000) throw new Error('the relay never asked the forgetful witness again');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // It said 409 "0" to every round; the relay did not answer with old 0 and no proof.
    expect(forgetful.state.sizes().size).toBe(0);
    const { note } = await witnessed();
    expect(note).not.toContain('— witness-b.example ');
  }, 120_000);

  test('a witness that answers its cosignature with 99 more lines under its name gets one line, its verified one, on the note', async () => {
    const flooder = generateSigningKeyPair();
    const name = 'witness-flood.example';
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { checkpoint } = parseAddCheckpointRequest(Buffer.concat(chunks).toString('utf8'));
        const { text } = parseSignedNote(checkpoint);
        const good = signNote(text, [ed25519Cosigner(name, flooder.secretKey, 1_800_000_000)]).slice(text.length + 1);
        const junk = Array.from({ length: 99 }, (_, i) => `— ${name} ${Buffer.alloc(76, i + 1).toString('base64')}\n`);
        response
          .writeHead(200, { 'content-type': 'text/plain' })
          .end([...junk.slice(0, 50), good, ...junk.slice(50)].join(''));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const vkey = formatVerifierKey(name, flooder.publicKey, ED25519_COSIGNATURE_TYPE);
    const lone = await TestRelay.start({
      witnesses: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, vkey }],
    });
    try {
      await lone.enroll('lab-z');
      let note = '';
      for (let i = 0; ; i++) {
        const answer = await fetch(`${lone.address}/v1/log/witnessed`);
        note = await answer.text();
        if (answer.status === 200) break;
        if (i > 2000) throw new Error('never witnessed');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const lines = parseSignedNote(note).signatures.filter((line) => line.name === name);
      expect(lines).toHaveLength(1);
      expect(policyCosigners(note, witnessPolicy([vkey]))).toEqual([name]);
    } finally {
      await lone.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a witness key that is a log's key, or a witness given twice, is refused at start naming it", async () => {
    const logLike = formatVerifierKey('witness-c.example', generateSigningKeyPair().publicKey);
    const other = await TestRelay.start({ witnesses: [{ url: 'http://127.0.0.1:9', vkey: logLike }] }).catch(
      (e: unknown) => e,
    );
    expect(other).toMatchObject({ code: 'BAD_CONFIG' });
    expect((other as Error).message).toMatch(/witness 1: .*expected a witness's cosigner key \(type 0x04\)/);
    const cosigner = formatVerifierKey(
      'witness-c.example',
      generateSigningKeyPair().publicKey,
      ED25519_COSIGNATURE_TYPE,
    );
    const twice = await TestRelay.start({
      witnesses: [
        { url: 'http://127.0.0.1:9', vkey: cosigner },
        { url: 'http://127.0.0.1:10', vkey: cosigner },
      ],
    }).catch((e: unknown) => e);
    expect((twice as Error).message).toMatch(/witness witness-c\.example is configured twice/);
  });
});
