/**
 * The bad-input suite: every hostile or broken request gets a 4xx with its typed code, nothing is
 * stored (the log does not grow), and the relay stays healthy. Real SQLite file, real HTTP on
 * loopback. A refused envelope that proves its lab broke the session's rules (over the session's
 * cap, a low-order tag, beyond the committed size, other bytes for a filled place) aborts the
 * session instead: relay.refusal-abort.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { BlindingKey, generateLabKeys, hashAndBlind } from '@overlap/crypto';
import { decodeDeterministic, packTags } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, type Answer, actor, hex, joinBody, seal, TestRelay } from './support/harness.js';

function tags(count: number, seed = 'x'): Uint8Array[] {
  const key = BlindingKey.generate();
  const out = Array.from({ length: count }, (_, i) => hashAndBlind(key, 'email', `${seed}${i}@example.org`));
  key.dispose();
  return out;
}

describe('relay bad-input suite', () => {
  let t: TestRelay;
  let a: Actor;
  let b: Actor;
  let c: Actor;
  let session: Uint8Array;
  let path: string;

  beforeAll(async () => {
    t = await TestRelay.start({ limits: { maxBodyBytes: 256 * 1024, requestTimeoutMs: 800 } });
    a = await t.enroll('a');
    b = await t.enroll('b');
    c = await t.enroll('c');
    session = await t.propose([a, b], { maxItemsPerKind: 100 });
    path = `/v1/sessions/${hex(session)}/envelopes`;
    for (const lab of [a, b]) {
      const join = seal(lab, 'join', session, joinBody(lab, session, { email: 10 }));
      expect((await t.request('POST', path, join.bytes, { signer: lab })).status).toBe(200);
    }
  });
  afterAll(async () => t.close());

  const logSize = () => t.relay.core.latest.size;

  /** Sends, then checks status, code, that the log did not grow and that the relay is healthy. */
  async function refused(send: () => Promise<Answer>, status: number, code: string): Promise<Answer> {
    const before = logSize();
    const answer = await send();
    expect({ status: answer.status, code: (answer.body as { error?: { code?: string } }).error?.code }).toEqual({
      status,
      code,
    });
    expect(logSize()).toBe(before);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    return answer;
  }

  /** An envelope of `lab` that is not committed to its chain (the chain is restored). */
  function unsent(lab: Actor, type: 'tag_chunk' | 'join', payload: unknown) {
    const saved = new Map(lab.chains);
    const envelope = seal(lab, type, session, payload);
    lab.chains.clear();
    for (const [k, v] of saved) lab.chains.set(k, v);
    return envelope;
  }

  const chunk = (first: number, list: Uint8Array[]) => ({
    kind: 'email',
    owner: a.keyId,
    hop: 0,
    first,
    tags: packTags(list),
  });

  test('truncated CBOR', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    await refused(() => t.request('POST', path, envelope.bytes.subarray(0, 40), { signer: a }), 400, 'BAD_CBOR');
  });

  test('garbage bytes', async () => {
    await refused(() => t.request('POST', path, randomBytes(300), { signer: a }), 400, 'BAD_CBOR');
  });

  test('non-deterministic CBOR (an indefinite-length map)', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    const bytes = Buffer.from(envelope.bytes);
    expect(bytes[0]).toBe(0xa3); // map of 3
    const indefinite = Buffer.concat([Buffer.of(0xbf), bytes.subarray(1), Buffer.of(0xff)]);
    await refused(() => t.request('POST', path, indefinite, { signer: a }), 400, 'BAD_CBOR');
  });

  test('an envelope whose signature does not verify', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    const bytes = Buffer.from(envelope.bytes);
    const last = bytes.length - 1;
    bytes[last] = (bytes[last] as number) ^ 1; // the signature is the last field
    await refused(() => t.request('POST', path, bytes, { signer: a }), 400, 'BAD_ENVELOPE');
  });

  test('no request signature', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    await refused(() => t.request('POST', path, envelope.bytes), 401, 'SIGNATURE_MISSING');
  });

  test('a request signed by another key than its keyid says', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    const impostor: Actor = { ...actor(generateLabKeys()), keyId: a.keyId };
    await refused(() => t.request('POST', path, envelope.bytes, { signer: impostor }), 401, 'SIGNATURE_INVALID');
  });

  test('a Content-Digest header swapped after signing', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    const other = unsent(a, 'tag_chunk', chunk(0, tags(2, 'y')));
    const digest = (await import('@overlap/protocol')).contentDigest(other.bytes);
    await refused(
      () => t.request('POST', path, envelope.bytes, { signer: a, headers: { 'content-digest': digest } }),
      401,
      'SIGNATURE_INVALID',
    );
  });

  test('a body other than the one signed and digested', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(0, tags(2)));
    const other = unsent(a, 'tag_chunk', chunk(0, tags(2, 'y')));
    await refused(
      () => t.request('POST', path, envelope.bytes, { signer: a, signedBody: other.bytes }),
      401,
      'DIGEST_MISMATCH',
    );
  });

  test('a replayed request (same nonce)', async () => {
    // a's whole set: the proposal's cut makes it one chunk of 10 (spec/protocol.md §5.1).
    const envelope = seal(a, 'tag_chunk', session, chunk(0, tags(10)));
    const nonce = randomBytes(18).toString('base64url');
    expect((await t.request('POST', path, envelope.bytes, { signer: a, nonce })).status).toBe(200);
    await refused(() => t.request('POST', path, envelope.bytes, { signer: a, nonce }), 401, 'NONCE_REPLAYED');
    // The same envelope under a fresh signature is an idempotent resend: the original receipt.
    const again = await t.request('POST', path, envelope.bytes, { signer: a });
    expect(again.status).toBe(200);
    expect((again.body as { index: number }).index).toBeLessThan(logSize());
  });

  test('an expired request signature', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    const created = Math.floor(Date.now() / 1000) - 1000;
    await refused(
      () => t.request('POST', path, envelope.bytes, { signer: a, created, expires: created + 100 }),
      401,
      'SIGNATURE_EXPIRED',
    );
  });

  test('a signature window over 300 s', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    const created = Math.floor(Date.now() / 1000);
    await refused(
      () => t.request('POST', path, envelope.bytes, { signer: a, created, expires: created + 301 }),
      401,
      'SIGNATURE_WINDOW_TOO_LONG',
    );
  });

  test('an unknown key', async () => {
    const stranger = actor(generateLabKeys());
    const envelope = seal(stranger, 'join', session, joinBody(stranger, session, { email: 1 }));
    await refused(() => t.request('POST', path, envelope.bytes, { signer: stranger }), 401, 'UNKNOWN_KEY');
  });

  test('a revoked key', async () => {
    const d = await t.enroll('d');
    expect((await t.revoke(d)).status).toBe(200);
    const envelope = seal(d, 'join', session, joinBody(d, session, { email: 1 }));
    await refused(() => t.request('POST', path, envelope.bytes, { signer: d }), 403, 'KEY_REVOKED');
  });

  test('an envelope signed by one lab, the request by another', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(() => t.request('POST', path, envelope.bytes, { signer: b }), 403, 'SENDER_MISMATCH');
  });

  test('a session that does not exist', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(
      () => t.request('POST', `/v1/sessions/${hex(randomBytes(16))}/envelopes`, envelope.bytes, { signer: a }),
      404,
      'NO_SUCH_SESSION',
    );
  });

  test('another lab’s envelope to a session that does not exist: the sender first (spec/errors.md §4)', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(
      () => t.request('POST', `/v1/sessions/${hex(randomBytes(16))}/envelopes`, envelope.bytes, { signer: b }),
      403,
      'SENDER_MISMATCH',
    );
  });

  test('an envelope of one session posted to another', async () => {
    const other = await t.propose([a, b]);
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(
      () => t.request('POST', `/v1/sessions/${hex(other)}/envelopes`, envelope.bytes, { signer: a }),
      422,
      'PROTOCOL_VIOLATION',
    );
  });

  test('a lab posting into a session it is not in', async () => {
    const envelope = seal(c, 'join', session, joinBody(c, session, { email: 1 }));
    await refused(() => t.request('POST', path, envelope.bytes, { signer: c }), 403, 'NOT_A_SESSION_LAB');
    const read = await t.request('GET', `/v1/sessions/${hex(session)}/inbox`, undefined, { signer: c });
    expect(read.status).toBe(403);
  });

  test('a body over the size limit', async () => {
    const big = unsent(a, 'tag_chunk', chunk(2, tags(8))); // small, but sent with a padded body
    const body = Buffer.concat([Buffer.from(big.bytes), randomBytes(300 * 1024)]);
    await refused(() => t.request('POST', path, body, { signer: a }), 413, 'BODY_TOO_LARGE');
  });

  test('a proposal with sets over the relay limit', async () => {
    const huge = randomBytes(16);
    const envelope = seal(a, 'session_proposal', huge, {
      labs: [a.keyId, b.keyId],
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: 50_000_000,
    });
    await refused(() => t.request('POST', '/v1/sessions', envelope.bytes, { signer: a }), 413, 'SET_TOO_LARGE');
  });

  test('a threshold proposal with fewer labs than t, which could never reveal anything', async () => {
    const before = logSize();
    const envelope = seal(a, 'session_proposal', randomBytes(16), {
      labs: [a.keyId, b.keyId],
      kinds: ['email'],
      policy: { kind: 'threshold', t: 3 },
      maxItemsPerKind: 10,
    });
    await refused(() => t.request('POST', '/v1/sessions', envelope.bytes, { signer: a }), 422, 'PROTOCOL_VIOLATION');
    expect(logSize()).toBe(before);
  });

  test('a slow-drip body is cut off', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    const before = logSize();
    const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const url = new URL(`${t.url}${path}`);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          // Signed, so that it passes the checks on its headers and the relay waits for the body.
          headers: {
            ...t.headersFor('POST', path, envelope.bytes, { signer: a }),
            'content-length': envelope.bytes.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: decodeDeterministic(Buffer.concat(chunks)) }),
          );
        },
      );
      req.on('error', reject);
      let sent = 0;
      const drip = setInterval(() => {
        if (sent >= 20 || req.destroyed) return clearInterval(drip);
        req.write(envelope.bytes.subarray(sent, sent + 1));
        sent++;
      }, 100);
    });
    expect(answer.status).toBe(408);
    expect((answer.body as { error: { code: string } }).error.code).toBe('REQUEST_TIMEOUT');
    expect(logSize()).toBe(before);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });

  test('a gap in the sender chain', async () => {
    seal(a, 'tag_chunk', session, chunk(2, tags(2))); // sealed, never sent
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(() => t.request('POST', path, envelope.bytes, { signer: a }), 409, 'CHAIN_BROKEN');
    const key = hex(session);
    const chain = a.chains.get(key) as { seq: number; prev?: Uint8Array };
    a.chains.set(key, { seq: chain.seq - 1, ...(chain.prev && { prev: chain.prev }) }); // not used further
  });

  test('a body that is not CBOR by content type', async () => {
    const envelope = unsent(a, 'tag_chunk', chunk(2, tags(2)));
    await refused(
      () => t.request('POST', path, envelope.bytes, { signer: a, contentType: 'application/json' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  test('malformed query parameters', async () => {
    for (const query of ['index=-1', 'index=1e3', 'index=abc', 'leaf=zz', 'index=99999999']) {
      const answer = await t.request('GET', `/v1/log/inclusion?${query}`);
      expect(answer.status, query).toBe(400);
      expect((answer.body as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
  });
});

describe('relay rate limit', () => {
  test('a key over its rate gets 429 with Retry-After', async () => {
    const t = await TestRelay.start({ limits: { rate: { perSecond: 1, burst: 3 } } });
    try {
      const a = await t.enroll('a');
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const answer = await t.request('GET', '/v1/sessions', undefined, { signer: a });
        statuses.push(answer.status);
        if (answer.status === 429) {
          retryAfter = answer.headers.get('retry-after');
          expect((answer.body as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
        }
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});
