/**
 * An auditor's witness policy and remembered checkpoint (spec/audit.md check 21, spec/relay-api.md
 * §3 and §7), against a real relay with two real witnesses on loopback: `overlap audit export`
 * with a policy waits for a transcript whose log the quorum cosigned, and remembers the largest
 * checkpoint it verified in its state dir; `overlap audit verify` with the policy passes it, and
 * fails each way a transcript can fall short — no witnessed checkpoint, one that is not the log's
 * note of its size, one that does not cover the session (cosigned by the test with the witnesses'
 * own keys, so that only that check can fail), too few cosignatures; an export against a relay
 * restored from an older copy of its home is refused, with evidence.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '@overlap/cli';
import { OverlapClient } from '@overlap/client';
import { generateSigningKeyPair } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import {
  ED25519_COSIGNATURE_TYPE,
  ed25519Cosigner,
  ed25519NoteSigner,
  formatCheckpoint,
  formatVerifierKey,
  parseSignedNote,
  signNote,
} from '@overlap/log';
import { startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';
import { cli } from './support/run-cli.js';
import { decodeTranscript, encodeTranscript } from './support/transcript-forge.js';
import { startTestWitness, type TestWitness } from './support/witness-server.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-audit-witnesses-'));
const auditorState = join(dir, 'auditor');
let t: TestRelay;
let adminKeyFile: string;
let session: string;
let relayKeys: Awaited<ReturnType<typeof readKeyFile>>;
const witnesses: TestWitness[] = [];

const policy = (keys = witnesses.map((w) => w.vkey), quorum = 2) => [
  '--witness-keys',
  keys.join(','),
  '--witness-quorum',
  String(quorum),
];

/** `overlap audit export` of the session as this auditor runs it, to `out`. */
const exportArgs = (out: string, ...extra: string[]) => [
  'audit',
  'export',
  '--session',
  session,
  '--relay',
  t.url,
  '--admin-key',
  adminKeyFile,
  '--log-key',
  t.relay.vkey,
  '--state-dir',
  auditorState,
  '--out',
  out,
  ...extra,
];

const exportTo = (out: string, ...extra: string[]) => cli(...exportArgs(out, ...extra));

async function verify(bytes: Uint8Array, ...extra: string[]) {
  const file = join(dir, `verify-${Math.random().toString(16).slice(2)}.cbor`);
  writeFileSync(file, bytes);
  const run = await cli('audit', 'verify', '--transcript', file, '--json', ...extra);
  return {
    code: run.code,
    report: JSON.parse(run.out) as {
      ok: boolean;
      checks: { name: string; ok: boolean; code: string; detail: string }[];
    },
  };
}

const witnessCheck = (report: Awaited<ReturnType<typeof verify>>['report']) =>
  report.checks.find((c) => c.name === 'witnesses');

beforeAll(async () => {
  t = await TestRelay.start();
  for (const name of ['witness-1.example', 'witness-2.example'])
    witnesses.push(await startTestWitness({ dir: join(dir, name), name, logKey: t.relay.vkey }));
  t.options.witnesses = witnesses.map((w) => ({ url: w.server.url, vkey: w.vkey }));
  await t.restart();
  const labs: Actor[] = [await t.enroll('lab-a'), await t.enroll('lab-b')];
  relayKeys = await readKeyFile(join(t.dir, 'relay.key'));
  adminKeyFile = join(dir, 'admin.key');
  await writeKeyFile(adminKeyFile, t.admin.keys);
  const clients = await Promise.all(
    labs.map((lab) =>
      OverlapClient.connect({ relayUrl: t.url, keys: lab.keys, logKey: t.relay.vkey, stateDir: join(dir, lab.keyId) }),
    ),
  );
  session = await (clients[0] as OverlapClient).createSession({
    labs: ['lab-a', 'lab-b'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: 50,
  });
  const set = (own: string) => ({ email: ['shared@example.com', `${own}@example.com`] });
  await Promise.all(clients.map((client, i) => client.run(session, set(`lab${i}`))));
}, 120_000);
afterAll(async () => {
  await t.close();
  for (const w of witnesses) {
    await w.server.close().catch(() => {});
    await w.state.close().catch(() => {});
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("an auditor's witness policy and remembered checkpoint", () => {
  let exported: Uint8Array;

  test('export with the policy waits for a transcript the quorum cosigned; verify with it passes, check 21 included', async () => {
    const out = join(dir, 'witnessed.cbor');
    const run = await exportTo(out, ...policy());
    expect(run.code, run.err).toBe(0);
    exported = new Uint8Array(readFileSync(out));
    const transcript = decodeTranscript(exported);
    expect(transcript.witnessed?.size).toBeGreaterThan(Math.max(...transcript.envelopes.map((e) => e.index)));
    const { code, report } = await verify(exported, ...policy());
    expect(code, JSON.stringify(report)).toBe(0);
    expect(witnessCheck(report)).toMatchObject({ ok: true, code: 'OK' });
    expect(witnessCheck(report)?.detail).toMatch(/cosigned by witness-1\.example, witness-2\.example/);
    // Without a policy the 20 checks run, as before.
    expect(witnessCheck((await verify(exported)).report)).toBeUndefined();
    // The auditor remembered the log's checkpoint, in a 0600 trust record of its own.
    const [record] = readdirSync(join(auditorState, 'trust')).filter((n) => n.endsWith('.json'));
    expect(JSON.parse(readFileSync(join(auditorState, 'trust', record as string), 'utf8')).checkpoint).toContain(
      `\n${transcript.checkpoints.at(-1)?.size}\n`,
    );
  }, 60_000);

  test('verify with the policy fails a transcript that falls short, each with its code', async () => {
    const t0 = decodeTranscript(exported);
    const forged = (edit: (t: typeof t0) => void) => {
      const copy = decodeTranscript(exported);
      edit(copy);
      return encodeTranscript(copy);
    };
    const cases: [string, Uint8Array, string[]][] = [
      ['WITNESSED_MISSING', forged((c) => delete c.witnessed), policy()],
      [
        'WITNESSED_INVALID',
        forged((c) => {
          // Another size's log note, claimed as the witnessed size.
          (c.witnessed as { note: string }).note = (c.checkpoints[0] as { note: string }).note;
        }),
        policy(),
      ],
      [
        'WITNESSED_INVALID',
        forged((c) => {
          // The size it lists, signed by the log and cosigned by both witnesses, but another tree
          // (another root) than the transcript's checkpoint of that size: a view the chain does not hold.
          const w = c.witnessed as { size: number; note: string };
          const other = formatCheckpoint({
            origin: c.relay.origin,
            size: w.size,
            rootHash: new Uint8Array(32).fill(7),
            extensions: [],
          });
          const logSigned = signNote(other, [ed25519NoteSigner(c.relay.origin, relayKeys.signing.secretKey)]);
          const lines = witnesses.map((x) =>
            signNote(other, [ed25519Cosigner(x.name, x.secretKey, 1_800_000_000)]).slice(other.length + 1),
          );
          w.note = `${logSigned}${lines.join('')}`;
        }),
        policy(),
      ],
      [
        'WITNESSED_STALE',
        forged((c) => {
          // The first checkpoint (before the session's envelopes), really cosigned by both witnesses.
          const first = c.checkpoints[0] as { size: number; note: string };
          const { text } = parseSignedNote(first.note);
          const lines = witnesses.map((w) =>
            signNote(text, [ed25519Cosigner(w.name, w.secretKey, 1_800_000_000)]).slice(text.length + 1),
          );
          c.witnessed = { size: first.size, note: `${first.note}${lines.join('')}` };
        }),
        policy(),
      ],
      [
        'WITNESS_QUORUM_UNMET',
        exported,
        policy(
          [
            witnesses[0]?.vkey as string,
            formatVerifierKey('witness-3.example', generateSigningKeyPair().publicKey, ED25519_COSIGNATURE_TYPE),
          ],
          2,
        ),
      ],
    ];
    expect(t0.witnessed).toBeDefined();
    for (const [code, bytes, flags] of cases) {
      const { code: exit, report } = await verify(bytes, ...flags);
      expect([code, exit], JSON.stringify(witnessCheck(report))).toEqual([code, 1]);
      expect(witnessCheck(report), code).toMatchObject({ ok: false, code });
      // Nothing else in the transcript is wrong: every other check holds.
      expect(
        report.checks.filter((c) => c.name !== 'witnesses' && c.ok !== true),
        code,
      ).toEqual([]);
    }
  }, 60_000);

  test('export with the policy waits while a witness is down, and finishes once it is back and has cosigned', async () => {
    const down = witnesses[1] as (typeof witnesses)[number];
    const port = Number(new URL(down.server.url).port);
    await down.stop();
    await t.enroll('lab-late'); // a checkpoint the witness that is down has not cosigned
    const out = join(dir, 'waited.cbor');
    // The export, run as the command line runs it, tells us on stderr when it starts waiting.
    let err = '';
    let waiting: () => void = () => {};
    const told = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const exporting = runProgram(exportArgs(out, ...policy(), '--witness-wait', '120'), {
      out: () => {},
      err: (text) => {
        err += text;
        if (err.includes("waiting for the relay's witnesses")) waiting();
      },
    });
    await told;
    // Back on its port with its state: the relay's top-up rounds bring its cosignature to the
    // newest checkpoint, and the export's next attempt finds the quorum met.
    witnesses[1] = await startTestWitness({
      dir: join(dir, down.name),
      name: down.name,
      logKey: t.relay.vkey,
      secretKey: down.secretKey,
      port,
    });
    const run = { code: await exporting, err };
    expect(run.code, run.err).toBe(0);
    expect(run.err).toMatch(
      /waiting for the relay's witnesses: .*cosigned by witness-1\.example of witness-1\.example, witness-2\.example/,
    );
    const { code } = await verify(new Uint8Array(readFileSync(out)), ...policy());
    expect(code).toBe(0);
  }, 180_000);

  test('export with a policy the relay cannot meet gives up after --witness-wait, writing nothing', async () => {
    const out = join(dir, 'never.cbor');
    const stranger = formatVerifierKey(
      'witness-3.example',
      generateSigningKeyPair().publicKey,
      ED25519_COSIGNATURE_TYPE,
    );
    const run = await exportTo(out, ...policy([stranger], 1), '--witness-wait', '1');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /no transcript of \S+ whose log the witness quorum cosigned within 1 s: .*none of witness-3\.example/,
    );
    expect(existsSync(out)).toBe(false);
  });

  test('an export against the relay restored from an older copy of its home is refused, with evidence', async () => {
    const port = Number(new URL(t.url).port);
    await t.relay.close();
    const older = join(dir, 'older-home');
    cpSync(t.dir, older, { recursive: true });
    await t.restart();
    await t.enroll('lab-c'); // the log grows past the copy
    expect((await exportTo(join(dir, 'grown.cbor'))).code).toBe(0); // remembered: the larger log
    await t.relay.close();
    const rolledBack = await startRelayServer({ db: join(older, 'relay.db'), port, controlSocket: false });
    try {
      const run = await exportTo(join(dir, 'rolled-back.cbor'));
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/evidence written to \S+rollback\.json/);
      expect(existsSync(join(dir, 'rolled-back.cbor'))).toBe(false);
    } finally {
      await rolledBack.close();
      await t.restart();
    }
  }, 60_000);
});
