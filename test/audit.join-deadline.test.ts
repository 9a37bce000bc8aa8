/**
 * A session's join deadline (spec/protocol.md §4, spec/relay-api.md §5, spec/audit.md check 20):
 * the relay on loopback aborts a session that a lab has not joined by the proposal's `joinBy`
 * (before its deadline), naming that lab, also after a restart (and then only after a grace, so that
 * a lab whose join the outage refused can send it again); a session every lab joined in time
 * runs on to its deadline. The audit of the exported transcript agrees: the late lab is at fault
 * (DEADLINE_MISSED). A relay that forges such an abort — before the join deadline, naming a lab
 * that had joined, or when every lab had — is named (the relay's key signs a whole new log around
 * it). A proposal without deadlines is held to the protocol's defaults, by the relay and the audit.
 */
import { type AuditReport, verifyTranscript } from '@overlap/audit';
import type { LabKeys } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import {
  type CborValue,
  DEFAULT_JOIN_MS,
  DEFAULT_SESSION_MS,
  encodeDeterministic,
  openEnvelope,
  sealEnvelope,
} from '@overlap/protocol';
import { homePaths, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, hex, joinBody, seal, TestRelay } from '../packages/relay/test/support/harness.js';
import { decodeTranscript, encodeTranscript, relog } from './support/transcript-forge.js';

/** The relay's grace for a join deadline after it starts (60 s by default: short here). */
const GRACE_MS = 1_000;
let t: TestRelay;
let a: Actor;
let b: Actor;
let relayKeys: LabKeys;

beforeAll(async () => {
  t = await TestRelay.start({ limits: { joinDeadlineGraceMs: GRACE_MS } });
  a = await t.enroll('a');
  b = await t.enroll('b');
  relayKeys = await readKeyFile(homePaths(t.options.db).relayKey);
});
afterAll(async () => t.close());

const path = (session: Uint8Array) => `/v1/sessions/${hex(session)}`;

async function join(session: Uint8Array, lab: Actor, size: number): Promise<void> {
  const body = joinBody(lab, session, { email: size });
  const answer = await t.request('POST', `${path(session)}/envelopes`, seal(lab, 'join', session, body).bytes, {
    signer: lab,
  });
  expect(answer.status).toBe(200);
}

interface Status {
  state: string;
  join_by: number;
  deadline: number;
  abort?: { reason: string; culprit?: string };
}

/** The session's status once the relay has aborted it (the inbox long poll wakes on the abort). */
async function abortedStatus(session: Uint8Array, reader: Actor): Promise<Status> {
  for (;;) {
    const status = (await t.request('GET', path(session), undefined, { signer: reader })).body as Status;
    if (status.state === 'aborted') return status;
    await t.request('GET', `${path(session)}/inbox?after=0&wait=5000`, undefined, { signer: reader });
  }
}

async function transcriptOf(session: Uint8Array): Promise<Uint8Array> {
  const answer = await t.request('GET', `${path(session)}/transcript`, undefined, { signer: t.admin });
  expect(answer.status).toBe(200);
  return encodeDeterministic(answer.body as CborValue);
}

function expectVerdict(report: AuditReport, code: string, culprit: string): void {
  const failed = report.checks.filter((c) => c.ok === false).map((c) => `${c.name}: ${c.code} ${c.detail}`);
  expect({ failed: report.failed, code: report.code, culprit: report.culprit }, failed.join('\n')).toEqual({
    failed: 'abort',
    code,
    culprit,
  });
}

describe('the relay aborts a session not joined in time, and the audit agrees', () => {
  test('b never joins: the abort comes at the join deadline, long before the deadline, naming b', async () => {
    const joinBy = Date.now() + 800;
    const deadline = Date.now() + 3_600_000;
    const session = await t.propose([a, b], { joinBy, deadline });
    await join(session, a, 0);
    const status = await abortedStatus(session, a);
    expect(status).toMatchObject({ join_by: joinBy, deadline, abort: { culprit: b.keyId } });
    expect(status.abort?.reason).toBe(`the join deadline passed; not joined: ${b.keyId}`);
    const transcript = await transcriptOf(session);
    const abort = openEnvelope(decodeTranscript(transcript).envelopes.at(-1)?.envelope as Uint8Array, keyOf);
    expect(abort.header.created).toBeGreaterThanOrEqual(joinBy);
    expect(abort.header.created).toBeLessThan(deadline);
    const report = verifyTranscript(transcript);
    expectVerdict(report, 'DEADLINE_MISSED', b.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/the join deadline passed while the session waited on .*its join/);
  });

  test('every lab joined in time: the session runs on, and its deadline (not the join deadline) ends it', async () => {
    const joinBy = Date.now() + 600;
    const deadline = Date.now() + 1_800;
    const session = await t.propose([a, b], { joinBy, deadline });
    await join(session, a, 3);
    await join(session, b, 0);
    const status = await abortedStatus(session, b);
    // a committed 3 items and uploaded none: the deadline's abort names it.
    expect(status.abort).toEqual({ reason: `the session deadline passed; waiting on ${a.keyId}`, culprit: a.keyId });
    const transcript = await transcriptOf(session);
    const abort = openEnvelope(decodeTranscript(transcript).envelopes.at(-1)?.envelope as Uint8Array, keyOf);
    expect(abort.header.created).toBeGreaterThanOrEqual(deadline);
    expectVerdict(verifyTranscript(transcript), 'DEADLINE_MISSED', a.keyId);
  });

  test('the join deadline still holds after a restart (from the logged proposal), after a grace for the labs', async () => {
    const joinBy = Date.now() + 1_000;
    const session = await t.propose([a, b], { joinBy, deadline: Date.now() + 3_600_000 });
    // The relay is down when the join deadline passes, and starts again after it.
    const port = Number(new URL(t.address).port);
    await t.relay.close();
    while (Date.now() <= joinBy) await new Promise((resolve) => setTimeout(resolve, 20));
    const restarted = Date.now();
    t.relay = await startRelayServer({ ...t.options, port });
    const status = await abortedStatus(session, b);
    // A lab whose join the restart refused is given the relay's grace to send it again.
    const transcript = await transcriptOf(session);
    const abort = openEnvelope(decodeTranscript(transcript).envelopes.at(-1)?.envelope as Uint8Array, keyOf);
    expect(abort.header.created).toBeGreaterThanOrEqual(restarted + GRACE_MS);
    expect(status).toMatchObject({ join_by: joinBy, abort: { culprit: a.keyId } });
    expect(status.abort?.reason).toBe(`the join deadline passed; not joined: ${a.keyId}, ${b.keyId}`);
    expectVerdict(verifyTranscript(transcript), 'DEADLINE_MISSED', a.keyId);
  });

  test('a proposal without deadlines is due by the protocol defaults after its created', async () => {
    const session = await t.propose([a, b]);
    const transcript = decodeTranscript(await transcriptOf(session));
    const created = openEnvelope(transcript.envelopes[0]?.envelope as Uint8Array, keyOf).header.created;
    const status = (await t.request('GET', path(session), undefined, { signer: a })).body as Status;
    expect(status).toMatchObject({ join_by: created + DEFAULT_JOIN_MS, deadline: created + DEFAULT_SESSION_MS });
  });
});

function keyOf(id: string): Uint8Array | undefined {
  if (id === relayKeys.keyId) return relayKeys.signing.publicKey;
  return [a, b].find((lab) => lab.keyId === id)?.keys.signing.publicKey;
}

describe('a relay that forges a join deadline abort is named', () => {
  /** A session's log, relogged with its last envelope (the relay's abort) replaced by `abort`. */
  function withAbort(transcript: Uint8Array, abort: { created: number; reason: string; culprit?: string }) {
    const original = decodeTranscript(transcript);
    const envelopes = original.envelopes.map((e) => e.envelope);
    const last = openEnvelope(envelopes.at(-1) as Uint8Array, keyOf);
    expect(last.header).toMatchObject({ type: 'abort', sender: relayKeys.keyId });
    const { created, ...body } = abort;
    const forged = sealEnvelope(
      { ...last.header, created, payload: body as CborValue },
      { keyId: relayKeys.keyId, secretKey: relayKeys.signing.secretKey },
    );
    const membership = original.membership.map((m) => m.envelope);
    return verifyTranscript(
      encodeTranscript(relog(original, relayKeys, membership, [...envelopes.slice(0, -1), forged.bytes])),
    );
  }

  let lateB: { transcript: Uint8Array; joinBy: number };
  let allJoined: { transcript: Uint8Array; joinBy: number };
  beforeAll(async () => {
    const joinBy = Date.now() + 500;
    const first = await t.propose([a, b], { joinBy, deadline: Date.now() + 3_600_000 });
    await join(first, a, 0);
    await abortedStatus(first, a);
    lateB = { transcript: await transcriptOf(first), joinBy };
    const secondJoinBy = Date.now() + 400;
    const second = await t.propose([a, b], { joinBy: secondJoinBy, deadline: secondJoinBy + 1_100 });
    await join(second, a, 0);
    await join(second, b, 2);
    await abortedStatus(second, a);
    allJoined = { transcript: await transcriptOf(second), joinBy: secondJoinBy };
  });

  test('a proposal without a deadline: an abort 24 h after its created is the deadline’s, one before it the relay’s fault', async () => {
    const session = await t.propose([a, b]);
    await join(session, a, 0);
    await join(session, b, 2);
    const transcript = await transcriptOf(session);
    const original = decodeTranscript(transcript);
    const envelopes = original.envelopes.map((e) => e.envelope);
    const proposal = openEnvelope(envelopes[0] as Uint8Array, keyOf);
    const abortAt = (created: number) => {
      const abort = sealEnvelope(
        {
          type: 'abort',
          session,
          seq: 0,
          created,
          payload: { reason: `the session deadline passed; waiting on ${b.keyId}`, culprit: b.keyId },
        },
        { keyId: relayKeys.keyId, secretKey: relayKeys.signing.secretKey },
      );
      const membership = original.membership.map((m) => m.envelope);
      return verifyTranscript(encodeTranscript(relog(original, relayKeys, membership, [...envelopes, abort.bytes])));
    };
    expectVerdict(abortAt(proposal.header.created + DEFAULT_SESSION_MS), 'DEADLINE_MISSED', b.keyId);
    expectVerdict(abortAt(proposal.header.created + DEFAULT_SESSION_MS - 1), 'ABORT_UNFOUNDED', relayKeys.keyId);
  });

  test('the abort as the relay wrote it passes the relay and names b (the forging works)', () => {
    const report = withAbort(lateB.transcript, {
      created: lateB.joinBy + 1,
      reason: `the join deadline passed; not joined: ${b.keyId}`,
      culprit: b.keyId,
    });
    expectVerdict(report, 'DEADLINE_MISSED', b.keyId);
  });

  test('at the join deadline exactly: founded (the join deadline is the first moment it may come)', () => {
    const report = withAbort(lateB.transcript, {
      created: lateB.joinBy,
      reason: `the join deadline passed; not joined: ${b.keyId}`,
      culprit: b.keyId,
    });
    expectVerdict(report, 'DEADLINE_MISSED', b.keyId);
  });

  test('before the join deadline: ABORT_UNFOUNDED, the relay', () => {
    const report = withAbort(lateB.transcript, {
      created: lateB.joinBy - 1,
      reason: `the join deadline passed; not joined: ${b.keyId}`,
      culprit: b.keyId,
    });
    expectVerdict(report, 'ABORT_UNFOUNDED', relayKeys.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(/before the deadline .* and the join deadline/);
  });

  test('naming a lab that had joined: ABORT_CULPRIT_WRONG, the relay', () => {
    const report = withAbort(lateB.transcript, {
      created: lateB.joinBy + 1,
      reason: `the join deadline passed; not joined: ${a.keyId}`,
      culprit: a.keyId,
    });
    expectVerdict(report, 'ABORT_CULPRIT_WRONG', relayKeys.keyId);
    expect(report.checks.at(-1)?.detail).toMatch(
      /join deadline abort names .*; the session was waiting on .* \(its join\)/,
    );
  });

  test('when every lab had joined, before the deadline: ABORT_UNFOUNDED, the relay', () => {
    const report = withAbort(allJoined.transcript, {
      created: allJoined.joinBy + 100,
      reason: `the join deadline passed; not joined: ${b.keyId}`,
      culprit: b.keyId,
    });
    expectVerdict(report, 'ABORT_UNFOUNDED', relayKeys.keyId);
  });
});
