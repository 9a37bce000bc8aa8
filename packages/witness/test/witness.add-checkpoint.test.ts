/**
 * A witness's answers to add-checkpoint (C2SP tlog-witness v1), each status carried out against a
 * real Witness on a real state directory: the checkpoints come from a Merkle tree the test builds
 * (the independent truth of what is consistent), signed by a log key; a fork is a second tree that
 * shares a prefix. Every cosignature is verified with the cosigner verifier parsed from the
 * witness's own vkey.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@overlap/crypto';
import {
  ed25519NoteSigner,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatVerifierKey,
  leafHash,
  MerkleTree,
  parseSignatureLines,
  parseSignedNote,
  parseVerifierKey,
  signNote,
  verifySignedNote,
} from '@overlap/log';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { trustedLogs, Witness, WitnessError, WitnessState, witnessVkey } from '../src/index.js';

const ORIGIN = 'relay.forum.example/overlap';
const logKeys = generateSigningKeyPair();
const logVkey = formatVerifierKey(ORIGIN, logKeys.publicKey);
const witnessKeys = generateSigningKeyPair();
const NOW = new Date('2026-12-07T12:00:00Z');

/** A log of `n` leaves (branch `b` changes every leaf from `forkAt` on). */
function tree(n: number, branch = 'a', forkAt = n): MerkleTree {
  return new MerkleTree(
    Array.from({ length: n }, (_, i) =>
      leafHash(new TextEncoder().encode(i < forkAt ? `leaf ${i}` : `leaf ${i} ${branch}`)),
    ),
  );
}

function checkpointNote(t: MerkleTree, size = t.size, signer = ed25519NoteSigner(ORIGIN, logKeys.secretKey)): string {
  return signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: t.root(size), extensions: [] }), [signer]);
}

function request(t: MerkleTree, oldSize: number, size = t.size, note = checkpointNote(t, size)): string {
  return formatAddCheckpointRequest({
    oldSize,
    proof: oldSize === 0 ? [] : t.consistencyProof(oldSize, size),
    checkpoint: note,
  });
}

/** A new state, made by init for the witness `name` (with witnessKeys), and opened. */
async function newState(path: string, name = 'witness.lab-a.example'): Promise<WitnessState> {
  await WitnessState.init(path, witnessVkey(name, witnessKeys.secretKey));
  return WitnessState.open(path);
}

let dir: string;
let state: WitnessState;
let witness: Witness;
const refusals: { status: number; reason: string; evidenceKept?: boolean }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'overlap-witness-'));
  state = await newState(join(dir, 'state'));
  refusals.length = 0;
  witness = new Witness({
    name: 'witness.lab-a.example',
    secretKey: witnessKeys.secretKey,
    logs: trustedLogs([logVkey]),
    state,
    now: () => NOW,
    onRefusal: (r) => refusals.push(r),
  });
});
afterEach(async () => {
  await state.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The cosignature lines of a 200, verified as a relay would: concatenated to the note, under the vkey. */
function verifyCosigned(note: string, body: string): number {
  const verifier = parseVerifierKey(witness.vkey) as ReturnType<typeof parseVerifierKey> & {
    lastTimestamp: number | undefined;
  };
  const { text } = parseSignedNote(note);
  const lines = parseSignatureLines(body);
  expect(lines).toHaveLength(1);
  expect(verifySignedNote(`${note}${body}`, [verifier]).verifiedBy).toEqual(['witness.lab-a.example']);
  expect(verifySignedNote(`${text}\n${body}`, [verifier]).verifiedBy).toEqual(['witness.lab-a.example']);
  return verifier.lastTimestamp as number;
}

describe('add-checkpoint', () => {
  test('200: the first checkpoint from old size 0, then each larger one with its proof, then the same one again', async () => {
    const t = tree(40);
    const first = await witness.addCheckpoint(request(t, 0, 10));
    expect(first.status).toBe(200);
    expect(verifyCosigned(checkpointNote(t, 10), first.body)).toBe(NOW.getTime() / 1000);
    for (const [old, size] of [
      [10, 11],
      [11, 32],
      [32, 40],
      [40, 40],
    ] as const) {
      const answer = await witness.addCheckpoint(request(t, old, size));
      expect(answer.status, `${old} → ${size}: ${answer.body}`).toBe(200);
      verifyCosigned(checkpointNote(t, size), answer.body);
    }
    expect(state.sizes()).toEqual(new Map([[ORIGIN, 40]]));
    expect(refusals).toEqual([]);
  });

  test('409: an old size that is not the last cosigned says that size (text/x.tlog.size), also before any', async () => {
    const t = tree(20);
    const early = await witness.addCheckpoint(request(t, 5, 20));
    expect(early).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '0\n' });
    expect((await witness.addCheckpoint(request(t, 0, 8))).status).toBe(200);
    const stale = await witness.addCheckpoint(request(t, 5, 20));
    expect(stale).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '8\n' });
    expect((await witness.addCheckpoint(request(t, 8, 20))).status).toBe(200); // retried from the size it said
  });

  test('a rollback (a smaller tree after a larger one) is never cosigned: 409 from its old size, 400 from the larger', async () => {
    const t = tree(30);
    expect((await witness.addCheckpoint(request(t, 0, 30))).status).toBe(200);
    expect((await witness.addCheckpoint(request(t, 0, 12))).body).toBe('30\n');
    const back = await witness.addCheckpoint(
      formatAddCheckpointRequest({ oldSize: 30, proof: [], checkpoint: checkpointNote(t, 12) }),
    );
    expect(back.status).toBe(400);
    expect(back.body).toContain('old size 30 is larger than the checkpoint');
    expect(state.sizes().get(ORIGIN)).toBe(30);
  });

  test('a fork at the same size is 409 and kept as evidence; a fork past it is 422 and kept; the witness stays on its branch', async () => {
    const a = tree(16);
    const b = tree(24, 'b', 12); // shares the first 12 leaves
    expect((await witness.addCheckpoint(request(a, 0, 16))).status).toBe(200);
    const same = await witness.addCheckpoint(
      formatAddCheckpointRequest({ oldSize: 16, proof: [], checkpoint: checkpointNote(b, 16) }),
    );
    expect(same).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '16\n' });
    // b's honest proof from 16 proves b's 16, not a's: the witness refuses it.
    const past = await witness.addCheckpoint(request(b, 16, 24));
    expect(past.status).toBe(422);
    expect(refusals.map((r) => [r.status, r.evidenceKept])).toEqual([
      [409, true],
      [422, true],
    ]);
    const evidence = readdirSync(join(dir, 'state', 'evidence'));
    expect(evidence).toHaveLength(2);
    const kept = readFileSync(join(dir, 'state', 'evidence', evidence[0] as string), 'utf8');
    expect(kept.startsWith(`cosigned\n${checkpointNote(a, 16)}\nrefused\nold 16\n`)).toBe(true);
    expect(statSync(join(dir, 'state', 'evidence', evidence[0] as string)).mode & 0o777).toBe(0o600);
    // a's own continuation is still cosigned.
    expect((await witness.addCheckpoint(request(tree(20), 16, 20))).status).toBe(200);
  });

  test('two requests at once from the same old size: one is cosigned, the other told the new size (no rollback)', async () => {
    const t = tree(20);
    expect((await witness.addCheckpoint(request(t, 0, 8))).status).toBe(200);
    const answers = await Promise.all([
      witness.addCheckpoint(request(t, 8, 20)),
      witness.addCheckpoint(request(t, 8, 12)),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 409]);
    expect(answers[1]?.body).toBe('20\n');
    expect(state.sizes().get(ORIGIN)).toBe(20);
  });

  test('422: a proof that does not hold, a proof from old size 0, a proof for the same size', async () => {
    const t = tree(20);
    const noProof = formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: checkpointNote(t, 8) });
    expect((await witness.addCheckpoint(noProof)).status).toBe(200);
    const wrong = t.consistencyProof(8, 20);
    wrong[0] = new Uint8Array(32).fill(7);
    const bad = formatAddCheckpointRequest({ oldSize: 8, proof: wrong, checkpoint: checkpointNote(t, 20) });
    expect((await witness.addCheckpoint(bad)).status).toBe(422);
    const short = formatAddCheckpointRequest({
      oldSize: 8,
      proof: t.consistencyProof(8, 20).slice(1),
      checkpoint: checkpointNote(t, 20),
    });
    expect((await witness.addCheckpoint(short)).status).toBe(422);
    const equal = `old 8\n${Buffer.alloc(32).toString('base64')}\n\n${checkpointNote(t, 8)}`;
    expect((await witness.addCheckpoint(equal)).status).toBe(422);
    const fresh = await newState(join(dir, 'other'), 'w2.example');
    const other = new Witness({
      name: 'w2.example',
      secretKey: witnessKeys.secretKey,
      logs: trustedLogs([logVkey]),
      state: fresh,
    });
    const fromZero = `old 0\n${Buffer.alloc(32).toString('base64')}\n\n${checkpointNote(t, 8)}`;
    expect((await other.addCheckpoint(fromZero)).status).toBe(422);
    await fresh.close();
    expect(state.sizes().get(ORIGIN)).toBe(8);
  });

  test('404 for an origin it does not witness; 403 for a checkpoint not signed by a trusted key of its origin', async () => {
    const t = tree(4);
    const stranger = generateSigningKeyPair();
    const otherOrigin = signNote(
      formatCheckpoint({ origin: 'other.example/log', size: 4, rootHash: t.root(), extensions: [] }),
      [ed25519NoteSigner('other.example/log', logKeys.secretKey)],
    );
    expect(
      (await witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: otherOrigin })))
        .status,
    ).toBe(404);
    const forged = checkpointNote(t, 4, ed25519NoteSigner(ORIGIN, stranger.secretKey));
    expect((await witness.addCheckpoint(request(t, 0, 4, forged))).status).toBe(403);
    // The right key, a broken signature: a known key that fails rejects the note.
    const good = checkpointNote(t, 4);
    const broken = good.replace(
      /([A-Za-z0-9+/])(=*\n)$/,
      (_, c: string, end: string) => `${c === 'A' ? 'B' : 'A'}${end}`,
    );
    expect((await witness.addCheckpoint(request(t, 0, 4, broken))).status).toBe(403);
    expect(state.sizes().size).toBe(0);
  });

  test('400 for bodies that are not requests, naming what is wrong', async () => {
    const t = tree(4);
    const note = checkpointNote(t, 4);
    for (const [body, says] of [
      ['', 'no blank line'],
      [`old 01\n\n${note}`, 'line 1'],
      [`old -1\n\n${note}`, 'line 1'],
      [`new 0\n\n${note}`, 'line 1'],
      [`old 0\nnot base64!\n\n${note}`, 'line 2'],
      [`old 0\n${'AAAA\n'.repeat(64)}\n${note}`, 'at most 63'],
      ['old 0\n\n', 'no checkpoint'],
      ['old 0\n\nnot a note\n', 'not a signed note'],
    ] as const) {
      const answer = await witness.addCheckpoint(body);
      expect(answer.status, JSON.stringify(body.slice(0, 30))).toBe(400);
      expect(answer.body).toContain(says);
    }
  });

  test('its state: the last cosigned checkpoint survives a restart; a second process is refused; a damaged file stops it', async () => {
    const t = tree(9);
    expect((await witness.addCheckpoint(request(t, 0, 9))).status).toBe(200);
    await expect(WitnessState.open(join(dir, 'state'))).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    await state.close();
    const again = await WitnessState.open(join(dir, 'state'));
    expect(again.sizes()).toEqual(new Map([[ORIGIN, 9]]));
    const [file] = readdirSync(join(dir, 'state', 'logs'));
    expect(statSync(join(dir, 'state', 'logs', file as string)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    await again.close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'state', 'logs', file as string), '{"origin":"relay.forum.example/overlap","note":"x"}');
    const error = await WitnessState.open(join(dir, 'state')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WitnessError);
    expect(error).toMatchObject({ code: 'STATE_DAMAGED' });
    expect((error as Error).message).toContain('retire this witness');
    state = await newState(join(dir, 'other')); // for afterEach
  });

  test('witness.json lists every log it cosigned: a listed log whose checkpoint file is gone stops it', async () => {
    const t = tree(5);
    expect((await witness.addCheckpoint(request(t, 0, 5))).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dir, 'state', 'witness.json'), 'utf8')).origins).toEqual([ORIGIN]);
    await state.close();
    // A partial restore: the marker came back, the log's checkpoint did not.
    for (const name of readdirSync(join(dir, 'state', 'logs'))) rmSync(join(dir, 'state', 'logs', name));
    const error = await WitnessState.open(join(dir, 'state')).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STATE_DAMAGED',
      message: expect.stringContaining(`cosigned checkpoints of ${ORIGIN}`),
    });
    state = await newState(join(dir, 'other')); // for afterEach
  });

  test('a state is made once, by init, for one key: open never makes one, and a witness refuses a state of another key', async () => {
    const t = tree(6);
    expect((await witness.addCheckpoint(request(t, 0, 6))).status).toBe(200);
    await state.close();
    // Restarted on an empty or missing directory (a lost volume), it refuses to start instead of
    // cosigning from size 0 again — which would cosign any fork of what it cosigned before.
    for (const empty of [join(dir, 'missing'), dir]) {
      const error = await WitnessState.open(empty).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STATE_MISSING' });
      expect((error as Error).message).toContain('overlap witness init');
    }
    expect(readdirSync(dir).sort()).toEqual(['state']); // nothing made on the way
    await expect(WitnessState.init(join(dir, 'state'), witness.vkey)).rejects.toMatchObject({ code: 'STATE_EXISTS' });
    // Its marker lost but its checkpoints kept: init will not start it over.
    rmSync(join(dir, 'state', 'witness.json'));
    await expect(WitnessState.init(join(dir, 'state'), witness.vkey)).rejects.toMatchObject({ code: 'STATE_EXISTS' });
    await expect(WitnessState.open(join(dir, 'state'))).rejects.toMatchObject({ code: 'STATE_MISSING' });
    // Another key's witness, or the same key under another name, cannot use this state.
    state = await newState(join(dir, 'second'), 'witness.other.example');
    expect(
      () => new Witness({ name: 'witness.lab-a.example', secretKey: witnessKeys.secretKey, logs: [], state }),
    ).toThrow(
      expect.objectContaining({ code: 'STATE_MISMATCH', message: expect.stringContaining('witness.other.example') }),
    );
    const { writeFileSync } = await import('node:fs');
    await state.close();
    writeFileSync(join(dir, 'second', 'witness.json'), '{"format":"other","vkey":"x"}');
    await expect(WitnessState.open(join(dir, 'second'))).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
    state = await newState(join(dir, 'third')); // for afterEach
  });
});
