/**
 * Every bad envelope gets the status and code spec/errors.md gives it, over real HTTP on loopback:
 * an envelope that does not parse is 400 BAD_ENVELOPE (`{}` too), bytes that are not deterministic
 * CBOR 400 BAD_CBOR wherever they are, a payload that fails its message's schema 422
 * PROTOCOL_VIOLATION naming the field (enrollments and revocations included: they were a 500), and
 * chain errors 409 CONFLICT or CHAIN_BROKEN. A sweep of junk payloads through every write route
 * never gets a 5xx, and nothing refused is stored.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { generateLabKeys, sha256, sign } from '@overlap/crypto';
import {
  type CborValue,
  decodeDeterministic,
  ENVELOPE_DOMAIN,
  MESSAGE_TYPES,
  type OpenedEnvelope,
  PROTOCOL_VERSION,
  sealEnvelope,
} from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MEMBERSHIP_SESSION } from '../src/index.js';
import {
  type Actor,
  type Answer,
  actor,
  cbor,
  codeOf,
  hex,
  joinBody,
  messageOf,
  seal,
  sealAside,
  TestRelay,
} from './support/harness.js';

/** An envelope built by hand: any header and payload bytes, signed (over `h`) by `who`. */
function handBuilt(who: Actor, header: Record<string, unknown>, payload: Uint8Array, h = cbor(header)): Uint8Array {
  const signingInput = Buffer.concat([Buffer.from(`${ENVELOPE_DOMAIN}\0`), h]);
  return cbor({ h, p: payload, s: sign(who.keys.signing.secretKey, signingInput) });
}

/** A valid header for `payload` from `who` at seq 0 of `session`, with `changes` applied. */
function header(who: Actor, session: Uint8Array, payload: Uint8Array, changes: Record<string, unknown> = {}) {
  return {
    v: PROTOCOL_VERSION,
    type: 'join',
    session,
    sender: who.keyId,
    seq: 0,
    prev: new Uint8Array(32),
    created: Date.now(),
    len: payload.length,
    digest: sha256(payload),
    ...changes,
  };
}

/** Whether an error message names the field at `path` (as `path: why`), however it words the why. */
function namesField(answer: Answer, path: string): boolean {
  return new RegExp(`(^|: |; )${path.replaceAll('.', '\\.')}: `).test(messageOf(answer) ?? '');
}

describe('bad envelopes get the status and code of spec/errors.md', () => {
  let t: TestRelay;
  let a: Actor;
  let b: Actor;
  let session: Uint8Array;
  let path: string;

  beforeAll(async () => {
    t = await TestRelay.start();
    a = await t.enroll('a');
    b = await t.enroll('b');
    session = await t.propose([a, b]);
    path = `/v1/sessions/${hex(session)}/envelopes`;
  });
  afterAll(async () => t.close());

  const logSize = () => t.relay.core.latest.size;

  async function expectRefused(send: () => Promise<Answer>, status: number, code: string): Promise<Answer> {
    const before = logSize();
    const answer = await send();
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status, code });
    expect(logSize()).toBe(before);
    return answer;
  }

  /**
   * As expectRefused, for a refusal that proves the lab broke the session's rules: the relay's
   * abort of the session (relay.refusal-abort.test.ts) is the one entry logged.
   */
  async function expectRefusedAborting(send: () => Promise<Answer>, status: number, code: string): Promise<Answer> {
    const before = logSize();
    const answer = await send();
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status, code });
    expect(messageOf(answer)).toMatch(/; the relay aborted the session naming [0-9a-f]{32}/);
    expect(logSize()).toBe(before + 1);
    return answer;
  }

  const post = (route: string, bytes: Uint8Array, signer: Actor) => t.request('POST', route, bytes, { signer });
  const routes = () => [
    { route: '/v1/admin', signer: t.admin },
    { route: '/v1/sessions', signer: a },
    { route: path, signer: a },
  ];

  describe('envelopes that do not parse: 400 BAD_ENVELOPE', () => {
    const shapes: [string, () => unknown][] = [
      ['the empty map {}', () => ({})],
      ['an array', () => []],
      ['a text string', () => 'envelope'],
      ['a map with h and p but no s', () => ({ h: new Uint8Array(1), p: new Uint8Array(1) })],
      [
        'a map with an extra field',
        () => ({ h: new Uint8Array(1), p: new Uint8Array(1), s: new Uint8Array(64), x: 1 }),
      ],
      ['a signature of 63 bytes', () => ({ h: new Uint8Array(1), p: new Uint8Array(1), s: new Uint8Array(63) })],
    ];
    test.each(shapes)('%s, on every write route', async (_, value) => {
      for (const { route, signer } of routes()) {
        await expectRefused(() => post(route, cbor(value()), signer), 400, 'BAD_ENVELOPE');
      }
    });

    test('a header of another protocol version, or with a field too many or too few', async () => {
      const p = cbor({ sizes: { email: 1 } });
      for (const changes of [{ v: 2 }, { extra: 1 }, { digest: undefined }, { sender: 'A'.repeat(32) }, { seq: -1 }]) {
        const h = Object.fromEntries(Object.entries(header(a, session, p, changes)).filter(([, v]) => v !== undefined));
        await expectRefused(() => post(path, handBuilt(a, h, p), a), 400, 'BAD_ENVELOPE');
      }
    });

    test('a payload whose length or digest is not the header’s', async () => {
      const p = cbor({ sizes: { email: 1 } });
      await expectRefused(() => post(path, handBuilt(a, header(a, session, p, { len: 1 }), p), a), 400, 'BAD_ENVELOPE');
      const digest = sha256(new Uint8Array(1));
      await expectRefused(() => post(path, handBuilt(a, header(a, session, p, { digest }), p), a), 400, 'BAD_ENVELOPE');
    });

    test('an envelope from an unknown sender, in a request signed by a lab (before SENDER_MISMATCH)', async () => {
      const stranger = actor(generateLabKeys());
      const envelope = seal(stranger, 'join', session, joinBody(stranger, session, { email: 1 }));
      await expectRefused(() => post(path, envelope.bytes, a), 400, 'BAD_ENVELOPE');
    });
  });

  describe('bytes that are not deterministic CBOR: 400 BAD_CBOR, wherever they are', () => {
    test('the envelope, its header, or its payload', async () => {
      const p = cbor({ sizes: { email: 1 } });
      const indefinite = Uint8Array.of(0xbf, 0xff); // an indefinite-length map
      await expectRefused(() => post(path, indefinite, a), 400, 'BAD_CBOR');
      await expectRefused(() => post(path, handBuilt(a, {}, p, indefinite), a), 400, 'BAD_CBOR');
      await expectRefused(
        () => post(path, handBuilt(a, header(a, session, indefinite), indefinite), a),
        400,
        'BAD_CBOR',
      );
    });
  });

  describe('payloads that fail their message schema: 422 PROTOCOL_VIOLATION naming the field', () => {
    const enrollment = (lab: string, name: string) => ({
      lab,
      name,
      signing_key: generateLabKeys().signing.publicKey,
      sealing_key: new Uint8Array(32),
      valid_from: Date.now() - 1000,
      valid_until: Date.now() + 86_400_000,
    });
    const admin = (type: 'enrollment' | 'revocation', payload: unknown) =>
      post('/v1/admin', sealAside(t.admin, type, MEMBERSHIP_SESSION, payload).bytes, t.admin);

    test('an enrollment whose lab id is "Lab A"', async () => {
      const answer = await expectRefused(
        () => admin('enrollment', enrollment('Lab A', 'Lab A')),
        422,
        'PROTOCOL_VIOLATION',
      );
      expect(namesField(answer, 'lab')).toBe(true);
    });

    test('an enrollment whose name is over 200 characters', async () => {
      const answer = await expectRefused(
        () => admin('enrollment', enrollment('e', 'n'.repeat(201))),
        422,
        'PROTOCOL_VIOLATION',
      );
      expect(namesField(answer, 'name')).toBe(true);
    });

    test('an enrollment with both problems names both fields', async () => {
      const answer = await expectRefused(
        () => admin('enrollment', enrollment('Lab A', 'n'.repeat(201))),
        422,
        'PROTOCOL_VIOLATION',
      );
      expect([namesField(answer, 'lab'), namesField(answer, 'name')]).toEqual([true, true]);
    });

    test('a revocation whose reason is over 1024 characters', async () => {
      const revocation = { key: b.keyId, reason: 'r'.repeat(1025), effective: Date.now() };
      const answer = await expectRefused(() => admin('revocation', revocation), 422, 'PROTOCOL_VIOLATION');
      expect(namesField(answer, 'reason')).toBe(true);
      expect(t.relay.core.membership.standing(b.keyId, Date.now())).toBe('ok');
    });

    test('a session proposal with one lab', async () => {
      const proposal = { labs: [a.keyId], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 10 };
      const envelope = sealAside(a, 'session_proposal', randomBytes(16), proposal);
      const answer = await expectRefused(() => post('/v1/sessions', envelope.bytes, a), 422, 'PROTOCOL_VIOLATION');
      expect(namesField(answer, 'labs')).toBe(true);
    });

    test('a join whose sizes are not counts', async () => {
      const own = await t.propose([a, b]);
      const envelope = sealAside(a, 'join', own, joinBody(a, own, { email: -1 }));
      const answer = await expectRefusedAborting(
        () => post(`/v1/sessions/${hex(own)}/envelopes`, envelope.bytes, a),
        422,
        'PROTOCOL_VIOLATION',
      );
      expect(namesField(answer, 'sizes.email')).toBe(true);
    });
  });

  describe('chain errors: 409 CONFLICT for a used seq, 409 CHAIN_BROKEN for a gap or a wrong prev', () => {
    /** a's envelope at `seq` with `prev` in `id`, outside the harness's chain bookkeeping. */
    const at = (who: Actor, id: Uint8Array, seq: number, prev: Uint8Array, payload: CborValue): OpenedEnvelope =>
      sealEnvelope(
        { type: 'join', session: id, seq, ...(seq > 0 && { prev }), created: Date.now(), payload },
        { keyId: who.keyId, secretKey: who.keys.signing.secretKey },
      );

    test('in a session (a gap aborts nothing; a used seq or a wrong prev aborts the session)', async () => {
      /** A session a proposed (its seq 0) and joined (seq 1). */
      const joined = async () => {
        const id = await t.propose([a, b]);
        const route = `/v1/sessions/${hex(id)}/envelopes`;
        const join = seal(a, 'join', id, joinBody(a, id, { email: 2 }));
        expect((await post(route, join.bytes, a)).status).toBe(200);
        return { id, route, join, other: joinBody(a, id, { email: 3 }) as unknown as CborValue };
      };
      const gap = await joined();
      await expectRefused(
        () => post(gap.route, at(a, gap.id, 3, gap.join.hash, gap.other).bytes, a),
        409,
        'CHAIN_BROKEN',
      );
      // The same bytes again are no error: the original receipt.
      expect((await post(gap.route, gap.join.bytes, a)).status).toBe(200);
      const used = await joined();
      const conflict = at(a, used.id, 1, used.join.header.prev, used.other);
      await expectRefusedAborting(() => post(used.route, conflict.bytes, a), 409, 'CONFLICT');
      const fork = await joined();
      const forked = at(a, fork.id, 2, randomBytes(32), fork.other);
      await expectRefusedAborting(() => post(fork.route, forked.bytes, a), 409, 'CHAIN_BROKEN');
    });

    test("in the admin's chain", async () => {
      const next = (t.admin.chains.get(hex(MEMBERSHIP_SESSION)) as { seq: number }).seq;
      const payload = {
        lab: 'chain',
        name: 'chain',
        signing_key: generateLabKeys().signing.publicKey,
        sealing_key: new Uint8Array(32),
        valid_from: Date.now() - 1000,
        valid_until: Date.now() + 86_400_000,
      };
      const enrollAt = (seq: number, prev: Uint8Array) =>
        sealEnvelope(
          {
            type: 'enrollment',
            session: MEMBERSHIP_SESSION,
            seq,
            ...(seq > 0 && { prev }),
            created: Date.now(),
            payload,
          },
          { keyId: t.admin.keyId, secretKey: t.admin.keys.signing.secretKey },
        ).bytes;
      await expectRefused(() => post('/v1/admin', enrollAt(0, new Uint8Array(32)), t.admin), 409, 'CONFLICT');
      await expectRefused(() => post('/v1/admin', enrollAt(next + 1, randomBytes(32)), t.admin), 409, 'CHAIN_BROKEN');
      await expectRefused(() => post('/v1/admin', enrollAt(next, randomBytes(32)), t.admin), 409, 'CHAIN_BROKEN');
    });
  });

  describe('no client-caused error is a 5xx', () => {
    const junk: CborValue[] = [{}, [], 'x', 0, null, { lab: 'Lab A' }, { sizes: 'many' }, { labs: 'a' }];

    test('junk payloads of every message type, through every write route', async () => {
      const seen = new Set<string>();
      // The first junk a lab posts into a session aborts it (its abort is the one entry logged);
      // the later ones are still refused for what they are.
      const junkSession = await t.propose([a, b]);
      const junkRoute = `/v1/sessions/${hex(junkSession)}/envelopes`;
      const junkRoutes = routes().map((r) => (r.route === path ? { ...r, route: junkRoute } : r));
      for (const { route, signer } of junkRoutes) {
        for (const type of MESSAGE_TYPES) {
          for (const payload of junk) {
            const id =
              route === '/v1/admin' ? MEMBERSHIP_SESSION : route === '/v1/sessions' ? randomBytes(16) : junkSession;
            const aborts = route === junkRoute && t.relay.core.sessions.get(hex(junkSession))?.open === true;
            const before = logSize() + (aborts ? 1 : 0);
            const answer = await post(route, sealAside(signer, type, id, payload).bytes, signer);
            expect({ route, type, payload, status: answer.status >= 400 && answer.status < 500 }).toEqual({
              route,
              type,
              payload,
              status: true,
            });
            expect(logSize()).toBe(before);
            seen.add(codeOf(answer) ?? '');
          }
        }
      }
      expect([...seen].sort()).toEqual(['PROTOCOL_VIOLATION']);
    });

    test('a request target the URL parser refuses is 400 BAD_REQUEST, and the relay stays up', async () => {
      const { hostname, port } = new URL(t.url);
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end('GET //[ HTTP/1.1\r\nHost: x\r\n\r\n'));
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
      });
      const split = raw.indexOf('\r\n\r\n');
      expect(raw.subarray(0, split).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
      const body = decodeDeterministic(raw.subarray(split + 4)) as { error: { code: string } };
      expect(body.error.code).toBe('BAD_REQUEST');
      expect((await t.request('GET', '/healthz')).status).toBe(200);
    });
  });
});
