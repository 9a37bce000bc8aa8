/**
 * The relay and its witnesses over HTTP on loopback (spec/log.md §7, spec/relay-api.md §3): the
 * relay sends each new checkpoint to every witness in the background and serves the newest one
 * they cosigned, with every cosignature of its round, at `GET /v1/log/witnessed`; a witness that is
 * down is skipped and the others still cosign; one that comes back is brought up to date with a
 * consistency proof from the size it holds; a witness key that is a log's key is refused at start.
 * Every note is checked against the keys the test holds, not the relay's word.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@overlap/crypto';
import {
  ED25519_COSIGNATURE_TYPE,
  formatVerifierKey,
  parseCheckpoint,
  parseVerifierKey,
  verifySignedNote,
} from '@overlap/log';
import { type RunningWitnessServer, startWitnessServer, trustedLogs, Witness, WitnessState } from '@overlap/witness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, TestRelay } from '../packages/relay/test/support/harness.js';

interface RunningWitness {
  name: string;
  vkey: string;
  url: string;
  state: WitnessState;
  server: RunningWitnessServer;
  stop(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-witnesses-'));
let t: TestRelay;
let logVkey: string;
const keys = { a: generateSigningKeyPair(), b: generateSigningKeyPair() };
const witnesses: Partial<Record<'a' | 'b', RunningWitness>> = {};

async function startWitness(which: 'a' | 'b', port = 0): Promise<RunningWitness> {
  const name = `witness-${which}.example`;
  const state = await WitnessState.open(join(dir, which));
  const witness = new Witness({ name, secretKey: keys[which].secretKey, logs: trustedLogs([logVkey]), state });
  const server = await startWitnessServer(witness, { port });
  const running = {
    name,
    vkey: witness.vkey,
    url: server.url,
    state,
    server,
    async stop() {
      await server.close();
      await state.close();
    },
  };
  witnesses[which] = running;
  return running;
}

async function witnessed(): Promise<{ status: number; note: string }> {
  const response = await fetch(`${t.address}/v1/log/witnessed`);
  return { status: response.status, note: await response.text() };
}

/** Waits until the relay serves a witnessed checkpoint of at least `size` cosigned by `names`. */
async function witnessedAt(size: number, names: string[]): Promise<string> {
  const verifiers = [parseVerifierKey(logVkey), ...Object.values(witnesses).map((w) => parseVerifierKey(w.vkey))];
  for (let i = 0; ; i++) {
    const { status, note } = await witnessed();
    if (status === 200) {
      const { text, verifiedBy } = verifySignedNote(note, verifiers);
      if (parseCheckpoint(text).size >= size && names.every((n) => verifiedBy.includes(n))) return note;
    }
    if (i > 2000) throw new Error(`no checkpoint of size ${size} cosigned by ${names.join(', ')}`);
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

  test('a witness that is down is skipped: the other still cosigns; back, it is caught up with a proof', async () => {
    const b = witnesses.b as RunningWitness;
    const port = Number(new URL(b.url).port);
    const heldBefore = [...b.state.sizes().values()][0] as number;
    await b.stop();
    await t.enroll('lab-b');
    await t.enroll('lab-c');
    const onlyA = await witnessedAt(logSize(), ['witness-a.example']);
    expect(verifySignedNote(onlyA, [parseVerifierKey(logVkey), parseVerifierKey(b.vkey)]).verifiedBy).not.toContain(
      'witness-b.example',
    );
    const metrics = await t.metrics();
    expect(metrics).toMatch(/^overlap_relay_witness_failures_total\{witness="witness-b.example"\} [1-9]/m);
    // Back on its port with its state: it holds the old size, and the relay proves the new one from it
    // (the skip after a failure is at most a minute; the next commit after it brings b in).
    await startWitness('b', port);
    for (let i = 0; ; i++) {
      await t.enroll(`lab-d${i}`);
      const { status, note } = await witnessed();
      if (status === 200 && note.includes('— witness-b.example ')) break;
      if (i > 200) throw new Error('witness b was never asked again');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const both = await witnessedAt(logSize(), ['witness-a.example', 'witness-b.example']);
    const held = [...(witnesses.b as RunningWitness).state.sizes().values()][0] as number;
    expect(held).toBeGreaterThan(heldBefore);
    expect(parseCheckpoint(verifySignedNote(both, [parseVerifierKey(logVkey)]).text).size).toBeGreaterThanOrEqual(held);
  }, 120_000);

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
