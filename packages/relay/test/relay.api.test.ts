/**
 * The relay's API surface over real HTTP: the OpenAPI document agrees with the routes the server
 * answers, metrics are Prometheus text with the promised series, log endpoints give proofs that
 * verify, uploads are idempotent with the original receipt, reads are limited to a session's labs,
 * deadlines abort naming the late lab, and a second relay on the same database is refused.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { toHex } from '@overlap/crypto';
import {
  leafHash,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import { openEnvelope } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, type RelayError, ROUTES, startRelayServer } from '../src/index.js';
import { hex, joinBody, revealBody, seal, TestRelay } from './support/harness.js';

describe('relay API', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await TestRelay.start();
  });
  afterAll(async () => t.close());

  test('the OpenAPI document and the routes agree', async () => {
    const answer = await t.request('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    const doc = answer.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    // Every documented operation is served: probing it never gives 404 NOT_FOUND or 405.
    for (const [path, ops] of Object.entries(doc.paths)) {
      const concrete = path.replace('{id}', '00'.repeat(16)).replace('{index}', '0');
      for (const method of Object.keys(ops)) {
        const probe = await t.request(method.toUpperCase(), concrete);
        const { code, message } = (probe.body as { error?: { code?: string; message?: string } }).error ?? {};
        // This relay has no witnesses: the route is there, and says that nothing was cosigned.
        if (path === '/v1/log/witnessed') expect(message).toMatch(/no witness has cosigned/);
        if (path === '/v1/log/witnessed') continue;
        expect({
          route: `${method} ${path}`,
          status: probe.status === 405 ? 405 : 'served',
          code: code === 'NOT_FOUND' ? code : 'ok',
        }).toEqual({
          route: `${method} ${path}`,
          status: 'served',
          code: 'ok',
        });
      }
    }
    // And a path outside the document is a 404.
    expect((await fetch(`${t.url}/v1/nothing-here`)).status).toBe(404);
  });

  test("metrics are Prometheus text with requests, errors, bytes, log size and sessions, on the operator's listener only", async () => {
    await t.request('GET', '/v1/nothing-here');
    // Not on the public listener: an outsider would read a lab's upload sizes from them.
    expect((await t.request('GET', '/metrics')).status).toBe(404);
    const answer = await fetch(`${t.relay.metricsUrl}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(`${t.relay.metricsUrl}/v1/relay`)).status).toBe(404); // nothing else there
    const text = await answer.text();
    for (const series of [
      'overlap_relay_requests_total{',
      'overlap_relay_errors_total{code="NOT_FOUND"}',
      'overlap_relay_bytes_in_total ',
      'overlap_relay_bytes_out_total ',
      'overlap_relay_log_size ',
      'overlap_relay_sessions{state="joining"}',
      'overlap_relay_long_polls{read="inbox"} 0',
      'overlap_relay_long_polls{read="sessions"} 0',
    ]) {
      expect(text).toContain(series);
    }
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)+\})? \d+(\.\d+)?)$/);
    }
  });

  test('GET /v1/relay announces every limit spec/relay-api.md §3 lists, and only those, with the values in force', async () => {
    const spec = readFileSync(new URL('../../../spec/relay-api.md', import.meta.url), 'utf8');
    const listed = /"limits": \{([^}]*)\}/.exec(spec)?.[1] ?? '';
    const names = [...listed.matchAll(/"(\w+)"/g)].map((m) => m[1]).sort();
    const { limits } = (await t.request('GET', '/v1/relay')).body as { limits: Record<string, number> };
    expect(Object.keys(limits).sort()).toEqual(names);
    expect(names).toContain('cpu_ms_burst_per_lab');
    expect(limits).toMatchObject({
      max_body_bytes: DEFAULT_LIMITS.maxBodyBytes,
      rate_per_second: DEFAULT_LIMITS.rate.perSecond,
      bytes_per_second_per_lab: DEFAULT_LIMITS.bytesPerKey.perSecond,
      bytes_burst_per_lab: DEFAULT_LIMITS.bytesPerKey.burst,
      cpu_ms_per_second_per_lab: DEFAULT_LIMITS.cpuMsPerKey.perSecond,
      cpu_ms_burst_per_lab: DEFAULT_LIMITS.cpuMsPerKey.burst,
    });
  });

  test('receipts verify, resends return the original receipt, and log proofs hold', async () => {
    const info = (await t.request('GET', '/v1/relay')).body as { vkey: string; origin: string };
    const verifier = parseVerifierKey(info.vkey);
    const a = await t.enroll('a');
    const b = await t.enroll('b');
    const session = await t.propose([a, b]);
    const join = seal(a, 'join', session, joinBody(a, session, { email: 3 }));
    const path = `/v1/sessions/${hex(session)}/envelopes`;
    const first = await t.request('POST', path, join.bytes, { signer: a });
    expect(first.status).toBe(200);
    const receipt = first.body as { index: number; proof: Uint8Array[]; checkpoint: string };
    const checkpoint = verifyReceipt(join.bytes, receipt, [verifier]);
    expect(checkpoint.origin).toBe(info.origin);
    const again = await t.request('POST', path, join.bytes, { signer: a });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(receipt);

    const latestNote = (await t.request('GET', '/v1/log/checkpoint')).body as string;
    const latest = parseCheckpoint(verifySignedNote(latestNote, [verifier]).text);
    const consistency = (await t.request('GET', `/v1/log/consistency?from=${checkpoint.size}&to=${latest.size}`))
      .body as { proof: Uint8Array[] };
    if (checkpoint.size < latest.size) {
      expect(
        verifyConsistency(checkpoint.size, latest.size, consistency.proof, checkpoint.rootHash, latest.rootHash),
      ).toBe(true);
    }
    const byLeaf = (await t.request('GET', `/v1/log/inclusion?leaf=${toHex(leafHash(join.bytes))}`)).body as {
      index: number;
      size: number;
      proof: Uint8Array[];
    };
    expect(byLeaf.index).toBe(receipt.index);
    expect(verifyInclusion(leafHash(join.bytes), byLeaf.index, byLeaf.size, byLeaf.proof, latest.rootHash)).toBe(true);

    // Entries: leaf hashes for all, bytes only for membership entries.
    const entries = (
      await t.request('GET', `/v1/log/entries?start=0&end=${latest.size}`, undefined, { signer: t.admin })
    ).body as {
      entries: { index: number; type: string; leaf_hash: Uint8Array; envelope?: Uint8Array }[];
    };
    expect(entries.entries).toHaveLength(latest.size);
    for (const entry of entries.entries) {
      if (entry.type === 'enrollment') expect(leafHash(entry.envelope as Uint8Array)).toEqual(entry.leaf_hash);
      else expect(entry.envelope).toBeUndefined();
    }
    const membership = (await t.request('GET', '/v1/membership', undefined, { signer: t.admin })).body as {
      entries: { envelope: Uint8Array }[];
    };
    const admin = t.admin.keys.signing.publicKey;
    for (const { envelope } of membership.entries) {
      expect(openEnvelope(envelope, () => admin).header.type).toBe('enrollment');
    }
  });

  test('a session is readable only by its labs', async () => {
    const a = await t.enroll('r1');
    const b = await t.enroll('r2');
    const c = await t.enroll('r3');
    const session = await t.propose([a, b]);
    expect((await t.request('GET', `/v1/sessions/${hex(session)}`, undefined, { signer: b })).status).toBe(200);
    const outsider = await t.request('GET', `/v1/sessions/${hex(session)}`, undefined, { signer: c });
    expect(outsider.status).toBe(403);
    expect((await t.request('GET', `/v1/sessions/${hex(session)}`)).status).toBe(401);
    const mine = (await t.request('GET', '/v1/sessions', undefined, { signer: c })).body as { sessions: unknown[] };
    expect(mine.sessions).toEqual([]);
  });

  test('a missed deadline aborts the session with a relay-signed abort naming the late lab', async () => {
    const a = await t.enroll('d1');
    const b = await t.enroll('d2');
    const session = await t.propose([a, b], { deadline: Date.now() + 600 });
    const path = `/v1/sessions/${hex(session)}`;
    // a commits an empty set, so it owes nothing more: only b is late.
    const join = seal(a, 'join', session, joinBody(a, session, { email: 0 }));
    expect((await t.request('POST', `${path}/envelopes`, join.bytes, { signer: a })).status).toBe(200);
    const inbox = await t.request('GET', `${path}/inbox?after=0&wait=5000`, undefined, { signer: a });
    const items = (inbox.body as { items: { type: string; envelope: Uint8Array }[]; state: string }).items;
    expect(items.map((i) => i.type)).toEqual(['abort']);
    const relayKey = ((await t.request('GET', '/v1/relay')).body as { log_key: Uint8Array }).log_key;
    const abort = openEnvelope((items[0] as { envelope: Uint8Array }).envelope, (id) =>
      id === t.relay.relayKeyId ? relayKey : undefined,
    );
    expect(abort.payload).toMatchObject({ culprit: b.keyId });
    const status = (await t.request('GET', path, undefined, { signer: b })).body as { state: string };
    expect(status.state).toBe('aborted');
    const late = seal(b, 'join', session, joinBody(b, session, { email: 1 }));
    const refused = await t.request('POST', `${path}/envelopes`, late.bytes, { signer: b });
    expect(refused.status).toBe(409);
    expect((refused.body as { error: { code: string } }).error.code).toBe('SESSION_CLOSED');
  });

  test.each([
    ['30 days ahead', () => Date.now() + 30 * 86_400_000, /is 720 h away; this relay holds a session at most 72 h/],
    ['in the year 275760', () => 8.64e15, /this relay holds a session at most 72 h/],
  ])(
    'a proposal with a deadline %s is 422, naming the relay maximum; one within it is taken',
    async (_label, deadline, words) => {
      const a = await t.enroll(`x${Math.round(Math.random() * 1e9)}`);
      const b = await t.enroll(`y${Math.round(Math.random() * 1e9)}`);
      const { answer } = await t.postProposal([a, b], { deadline: deadline() });
      expect(answer.status).toBe(422);
      expect((answer.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'PROTOCOL_VIOLATION',
        message: expect.stringMatching(words),
      });
      expect((await t.postProposal([a, b], { deadline: Date.now() + 71 * 3_600_000 })).answer.status).toBe(200);
      const limits = ((await t.request('GET', '/v1/relay')).body as { limits: { max_session_ms: number } }).limits;
      expect(limits.max_session_ms).toBe(72 * 3_600_000);
    },
  );

  test.each([
    [
      '7 hours ahead',
      () => Date.now() + 7 * 3_600_000,
      /the join deadline \(joinBy\) is 7 h away; this relay gives labs at most 6 h to join \(max_join_window_ms/,
    ],
    ['already passed', () => Date.now() - 1, /the join deadline \(joinBy\) has already passed/],
  ])(
    'a proposal with a joinBy %s is 422, saying why; one within the window is taken',
    async (_label, joinBy, words) => {
      const a = await t.enroll(`j${Math.round(Math.random() * 1e9)}`);
      const b = await t.enroll(`k${Math.round(Math.random() * 1e9)}`);
      const { answer } = await t.postProposal([a, b], { joinBy: joinBy() });
      expect(answer.status).toBe(422);
      expect((answer.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'PROTOCOL_VIOLATION',
        message: expect.stringMatching(words),
      });
      expect((await t.postProposal([a, b], { joinBy: Date.now() + 5 * 3_600_000 })).answer.status).toBe(200);
      const limits = ((await t.request('GET', '/v1/relay')).body as { limits: { max_join_window_ms: number } }).limits;
      expect(limits.max_join_window_ms).toBe(6 * 3_600_000);
    },
  );

  test('a relay whose join window is under the default 1 h refuses a proposal without joinBy, naming the default', async () => {
    const short = await TestRelay.start({ limits: { maxJoinWindowMs: 30 * 60_000 } });
    try {
      const a = await short.enroll('p');
      const b = await short.enroll('q');
      const { answer } = await short.postProposal([a, b]);
      expect(answer.status).toBe(422);
      expect((answer.body as { error: { message: string } }).error.message).toMatch(
        /the join deadline \(the proposal sets no joinBy: 1 h after its created\) is 1 h away; this relay gives labs at most 0\.5 h to join/,
      );
      expect((await short.postProposal([a, b], { joinBy: Date.now() + 20 * 60_000 })).answer.status).toBe(200);
    } finally {
      await short.close();
    }
  });

  test('a second relay on the same database is refused', async () => {
    await expect(startRelayServer({ db: t.options.db as string, port: 0 })).rejects.toMatchObject({
      code: 'DB_LOCKED',
    } satisfies Partial<RelayError>);
  });

  test('state survives a restart: sessions, membership, chains and the log', async () => {
    const a = await t.enroll('s1');
    const b = await t.enroll('s2');
    const session = await t.propose([a, b]);
    const join = seal(a, 'join', session, joinBody(a, session, { email: 2 }));
    const path = `/v1/sessions/${hex(session)}`;
    const receipt = (await t.request('POST', `${path}/envelopes`, join.bytes, { signer: a })).body;
    const before = t.relay.core.latest;
    await t.restart();
    expect(t.relay.core.latest.size).toBe(before.size);
    const status = (await t.request('GET', path, undefined, { signer: b })).body as { joined: string[] };
    expect(status.joined).toEqual([a.keyId]);
    expect((await t.request('POST', `${path}/envelopes`, join.bytes, { signer: a })).body).toEqual(receipt);
    const next = seal(b, 'join', session, joinBody(b, session, { email: 2 }));
    expect((await t.request('POST', `${path}/envelopes`, next.bytes, { signer: b })).status).toBe(200);
    // A fresh random session id still works after the restart.
    expect(await t.propose([a, b], { maxItemsPerKind: 10 })).toHaveLength(16);
    expect(randomBytes(1)).toHaveLength(1);
  });
});

describe('session transcript', () => {
  test('the admin gets every envelope of the session with receipts and consistent checkpoints; labs do not', async () => {
    const t = await TestRelay.start();
    try {
      const a = await t.enroll('ta');
      const b = await t.enroll('tb');
      const session = await t.propose([a, b]);
      const path = `/v1/sessions/${hex(session)}`;
      for (const lab of [a, b]) {
        const join = seal(lab, 'join', session, joinBody(lab, session, { email: 0 }));
        expect((await t.request('POST', `${path}/envelopes`, join.bytes, { signer: lab })).status).toBe(200);
      }
      // Both sets empty: every hop is in at once, and the proof round has nothing to prove but the coins.
      for (const lab of [a, b]) {
        const reveal = seal(lab, 'reveal', session, revealBody(lab, session));
        expect((await t.request('POST', `${path}/envelopes`, reveal.bytes, { signer: lab })).status).toBe(200);
      }
      expect((await t.request('GET', `${path}/transcript`, undefined, { signer: a })).status).toBe(403);
      const answer = await t.request('GET', `${path}/transcript`, undefined, { signer: t.admin });
      expect(answer.status).toBe(200);
      const transcript = answer.body as {
        relay: { origin: string; log_key: Uint8Array };
        membership: unknown[];
        envelopes: {
          index: number;
          envelope: Uint8Array;
          receipt: { index: number; proof: Uint8Array[]; checkpoint: string };
        }[];
        checkpoints: { size: number; note: string }[];
        consistency: { from: number; to: number; proof: Uint8Array[] }[];
      };
      const { ed25519NoteVerifier } = await import('@overlap/log');
      const verifier = ed25519NoteVerifier(transcript.relay.origin, transcript.relay.log_key);
      // The proposal, two joins (both sets empty, so every hop is in at once), the proof request, the
      // reveals, the challenge (no chunk to prove: the session is done with it), the result rows.
      const keyOf = (id: string) =>
        id === a.keyId
          ? a.keys.signing.publicKey
          : id === b.keyId
            ? b.keys.signing.publicKey
            : transcript.relay.log_key;
      expect(transcript.envelopes.map((e) => openEnvelope(e.envelope, keyOf).header.type)).toEqual([
        'session_proposal',
        'join',
        'join',
        'proof_request',
        'reveal',
        'reveal',
        'challenge',
        'result_rows',
        'result_rows',
      ]);
      expect(transcript.membership).toHaveLength(2);
      for (const { envelope, receipt } of transcript.envelopes) verifyReceipt(envelope, receipt, [verifier]);
      const checkpoints = transcript.checkpoints.map((c) => parseCheckpoint(verifySignedNote(c.note, [verifier]).text));
      transcript.consistency.forEach((c, i) => {
        const from = checkpoints[i] as (typeof checkpoints)[number];
        const to = checkpoints[i + 1] as (typeof checkpoints)[number];
        expect(verifyConsistency(c.from, c.to, c.proof, from.rootHash, to.rootHash)).toBe(true);
      });
      const status = (await t.request('GET', path, undefined, { signer: b })).body as { proposal_envelope: Uint8Array };
      expect(toHex(status.proposal_envelope)).toBe(toHex(transcript.envelopes[0]?.envelope as Uint8Array));
    } finally {
      await t.close();
    }
  });
});
