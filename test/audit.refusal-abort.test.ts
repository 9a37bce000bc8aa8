/**
 * The audit of a session the relay aborted for a refused envelope (spec/audit.md check 20,
 * spec/protocol.md §5): the relay on loopback refuses a lab's envelope that breaks the rules and
 * aborts, its abort carrying the envelope; the exported transcript's audit fails naming that lab
 * (VIOLATION_REFUSED), agreeing with the relay, for every kind of violation the relay aborts for.
 * A relay that frames a lab — evidence it made up, signed by another, of another session, an
 * envelope it had accepted, a sound envelope it refused, one after a gap — is named instead, each
 * by the code of what it did (the relay's key signs a whole new log around the forged abort).
 */
import { randomBytes } from 'node:crypto';
import { type AuditReport, verifyTranscript } from '@overlap/audit';
import { fromHex, type LabKeys, LOW_ORDER_ENCODINGS } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { type CborValue, encodeDeterministic, openEnvelope, sealEnvelope } from '@overlap/protocol';
import { homePaths } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Actor,
  blindedTags,
  hex,
  joinBody,
  seal,
  sealAside,
  TestRelay,
  uploadOf,
} from '../packages/relay/test/support/harness.js';
import { decodeTranscript, encodeTranscript, relog } from './support/transcript-forge.js';

let t: TestRelay;
let a: Actor;
let b: Actor;
let relayKeys: LabKeys;

beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('a');
  b = await t.enroll('b');
  relayKeys = await readKeyFile(homePaths(t.options.db).relayKey);
});
afterAll(async () => t.close());

const post = (session: Uint8Array, bytes: Uint8Array, signer: Actor) =>
  t.request('POST', `/v1/sessions/${hex(session)}/envelopes`, bytes, { signer });

async function joinedSession(): Promise<Uint8Array> {
  const session = await t.propose([a, b], { maxItemsPerKind: 100 });
  for (const lab of [a, b]) {
    const answer = await post(session, seal(lab, 'join', session, joinBody(lab, session, { email: 10 })).bytes, lab);
    expect(answer.status).toBe(200);
  }
  return session;
}

async function transcriptOf(session: Uint8Array): Promise<Uint8Array> {
  const answer = await t.request('GET', `/v1/sessions/${hex(session)}/transcript`, undefined, { signer: t.admin });
  expect(answer.status).toBe(200);
  // The harness decodes CBOR answers; deterministic CBOR encodes back to the very bytes.
  return encodeDeterministic(answer.body as CborValue);
}

/** Posts `bytes` as `culprit` (refused, aborting the session) and returns the session's transcript. */
async function refused(session: Uint8Array, bytes: Uint8Array, culprit: Actor): Promise<Uint8Array> {
  const answer = await post(session, bytes, culprit);
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect((await t.request('GET', `/v1/sessions/${hex(session)}`, undefined, { signer: a })).body).toMatchObject({
    state: 'aborted',
    abort: { culprit: culprit.keyId },
  });
  return transcriptOf(session);
}

function expectVerdict(report: AuditReport, code: string, culprit: string): void {
  const failed = report.checks.filter((c) => c.ok === false).map((c) => `${c.name}: ${c.code} ${c.detail}`);
  expect(
    { ok: report.ok, failed: report.failed, code: report.code, culprit: report.culprit },
    failed.join('\n'),
  ).toEqual({
    ok: false,
    failed: 'abort',
    code,
    culprit,
  });
}

describe('a refusal abort: the audit names the lab, as the relay did', () => {
  test('a join over the session cap', async () => {
    const session = await t.propose([a, b], { maxItemsPerKind: 5 });
    const join = seal(b, 'join', session, joinBody(b, session, { email: 6 }));
    const report = verifyTranscript(await refused(session, join.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/session terms check \(JOIN_INVALID\)/);
  });

  test('a join with an unacceptable key commitment (the identity)', async () => {
    const session = await t.propose([a, b]);
    const body = { ...joinBody(b, session, { email: 1 }), key: fromHex(LOW_ORDER_ENCODINGS[0] as string) };
    const report = verifyTranscript(await refused(session, seal(b, 'join', session, body).bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/key commitments check/);
  });

  test('a low-order tag', async () => {
    const session = await joinedSession();
    const bad = [...blindedTags(9), fromHex(LOW_ORDER_ENCODINGS[1] as string)];
    const report = verifyTranscript(
      await refused(session, seal(a, 'tag_chunk', session, uploadOf(a, 0, bad)).bytes, a),
    );
    expectVerdict(report, 'VIOLATION_REFUSED', a.keyId);
  });

  test('a chunk beyond the committed size', async () => {
    const session = await joinedSession();
    const chunk = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    const report = verifyTranscript(await refused(session, chunk.bytes, a));
    expectVerdict(report, 'VIOLATION_REFUSED', a.keyId);
  });

  test('a message type a lab does not send', async () => {
    const session = await joinedSession();
    const rows = seal(a, 'result_rows', session, { kind: 'email', lab: a.keyId, rows: [] });
    const report = verifyTranscript(await refused(session, rows.bytes, a));
    expectVerdict(report, 'VIOLATION_REFUSED', a.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/MESSAGE_NOT_ALLOWED/);
  });

  test("a lab's abort with evidence", async () => {
    const session = await joinedSession();
    const abort = seal(b, 'abort', session, { reason: 'x', evidence: new Uint8Array([1]) });
    const report = verifyTranscript(await refused(session, abort.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
  });

  test('equivocation: another envelope at a used seq', async () => {
    const session = await joinedSession();
    const other = sealEnvelope(
      { type: 'reveal', session, seq: 0, created: Date.now(), payload: { coin: new Uint8Array(32).fill(1) } },
      { keyId: b.keyId, secretKey: b.keys.signing.secretKey },
    );
    const report = verifyTranscript(await refused(session, other.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/another envelope at seq 0/);
  });

  test('a fork of its own chain', async () => {
    const session = await joinedSession();
    const forked = sealEnvelope(
      {
        type: 'reveal',
        session,
        seq: 1,
        prev: randomBytes(32),
        created: Date.now(),
        payload: { coin: new Uint8Array(32).fill(1) },
      },
      { keyId: b.keyId, secretKey: b.keys.signing.secretKey },
    );
    const report = verifyTranscript(await refused(session, forked.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/fork/);
  });

  test('other bytes for a place already filled', async () => {
    const session = await joinedSession();
    expect((await post(session, seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))).bytes, a)).status).toBe(
      200,
    );
    const again = seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10, 'other')));
    const report = verifyTranscript(await refused(session, again.bytes, a));
    expectVerdict(report, 'VIOLATION_REFUSED', a.keyId);
  });

  test('a blind result with fewer tags than its task', async () => {
    const session = await joinedSession();
    expect((await post(session, seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))).bytes, a)).status).toBe(
      200,
    );
    const short = seal(b, 'blind_result', session, { ...uploadOf(a, 0, blindedTags(9)), hop: 1 });
    const report = verifyTranscript(await refused(session, short.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/HOP_MISALIGNED/);
  });

  test('a blind result overlapping one logged after it in position order: the later logged is named', async () => {
    const session = await t.propose([a, b], { maxItemsPerKind: 4096, chunkSize: 1024 });
    for (const lab of [a, b]) {
      const join = seal(lab, 'join', session, joinBody(lab, session, { email: 2048 }));
      expect((await post(session, join.bytes, lab)).status).toBe(200);
    }
    for (const first of [0, 1024]) {
      const upload = seal(a, 'tag_chunk', session, uploadOf(a, first, blindedTags(1024, `u${first}`)));
      expect((await post(session, upload.bytes, a)).status).toBe(200);
    }
    // b answers the task at 1024 only; then a chunk at 100 that overlaps it, for a task never given.
    const answer = seal(b, 'blind_result', session, { ...uploadOf(a, 1024, blindedTags(1024, 'v')), hop: 1 });
    expect((await post(session, answer.bytes, b)).status).toBe(200);
    const misplaced = seal(b, 'blind_result', session, { ...uploadOf(a, 100, blindedTags(1024, 'w')), hop: 1 });
    const report = verifyTranscript(await refused(session, misplaced.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/HOP_MISALIGNED/);
  });

  test('a blind result for a task never given', async () => {
    const session = await joinedSession();
    const unasked = seal(b, 'blind_result', session, { ...uploadOf(a, 0, blindedTags(10)), hop: 1 });
    const report = verifyTranscript(await refused(session, unasked.bytes, b));
    expectVerdict(report, 'VIOLATION_REFUSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/HOP_MISALIGNED/);
  });
});

describe('a relay that frames a lab with its abort is named', () => {
  const relayKeyId = () => t.relay.relayKeyId;
  const keyOf = (id: string) =>
    id === relayKeys.keyId
      ? relayKeys.signing.publicKey
      : id === a.keyId
        ? a.keys.signing.publicKey
        : b.keys.signing.publicKey;

  /**
   * A refusal abort (a's chunk beyond its committed size), then the relay's abort sealed again
   * carrying `evidence` (given the session and its logged envelopes), in a log the relay signs anew.
   */
  async function forged(evidence: (session: Uint8Array, logged: Uint8Array[]) => Uint8Array): Promise<AuditReport> {
    const session = await joinedSession();
    const chunk = sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11)));
    const original = decodeTranscript(await refused(session, chunk.bytes, a));
    const envelopes = original.envelopes.map((e) => e.envelope);
    const last = openEnvelope(envelopes.at(-1) as Uint8Array, keyOf);
    expect(last.header).toMatchObject({ type: 'abort', sender: relayKeys.keyId });
    const payload = { ...(last.payload as Record<string, CborValue>), evidence: evidence(session, envelopes) };
    const abort = sealEnvelope(
      { ...last.header, payload: payload as CborValue },
      { keyId: relayKeys.keyId, secretKey: relayKeys.signing.secretKey },
    );
    const membership = original.membership.map((m) => m.envelope);
    return verifyTranscript(
      encodeTranscript(relog(original, relayKeys, membership, [...envelopes.slice(0, -1), abort.bytes])),
    );
  }

  test('relogged with the evidence it really refused, the audit still names the lab', async () => {
    const report = await forged((session) => sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(11))).bytes);
    expectVerdict(report, 'VIOLATION_REFUSED', a.keyId);
  });

  test('an envelope of another session', async () => {
    const report = await forged(
      () => sealAside(a, 'tag_chunk', randomBytes(16), uploadOf(a, 0, blindedTags(11))).bytes,
    );
    expectVerdict(report, 'EVIDENCE_INVALID', relayKeyId());
  });

  test('bytes that are no envelope', async () => {
    expectVerdict(await forged(() => randomBytes(200)), 'EVIDENCE_INVALID', relayKeyId());
  });

  test("another lab's envelope, while the abort names a", async () => {
    const report = await forged((session) => sealAside(b, 'abort', session, { reason: 'b did this' }).bytes);
    expectVerdict(report, 'EVIDENCE_INVALID', relayKeyId());
  });

  test("an envelope the relay had accepted (a's join)", async () => {
    const report = await forged(
      (_session, logged) =>
        logged.find((bytes) => {
          const { sender, type } = openEnvelope(bytes, keyOf).header;
          return sender === a.keyId && type === 'join';
        }) as Uint8Array,
    );
    expectVerdict(report, 'EVIDENCE_INVALID', relayKeyId());
    expect(report.checks.at(-1)?.detail).toMatch(/it was accepted/);
  });

  test("a sound envelope of a's, refused anyway", async () => {
    const report = await forged((session) => sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))).bytes);
    expectVerdict(report, 'ABORT_UNFOUNDED', relayKeyId());
    expect(report.checks.at(-1)?.detail).toMatch(/breaks no rule/);
  });

  test('an envelope after a gap in its chain', async () => {
    const report = await forged((session) => {
      seal(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))); // sealed, never sent: the gap
      return sealAside(a, 'tag_chunk', session, uploadOf(a, 0, blindedTags(10))).bytes;
    });
    expectVerdict(report, 'ABORT_UNFOUNDED', relayKeyId());
    expect(report.checks.at(-1)?.detail).toMatch(/gap/);
  });
});
