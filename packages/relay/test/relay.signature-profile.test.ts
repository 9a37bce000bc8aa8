/**
 * The RFC 9421 profile of spec/relay-api.md §2 over real HTTP: exactly one signature, labelled
 * `sig1` (another label, a second signature, or a field on two header lines is
 * SIGNATURE_MALFORMED); a request that fails several checks gets the code of the first in §2.2's
 * order (and the stages after it, spec/errors.md §4); and a signature made for another host than
 * the relay's public URL is SIGNATURE_INVALID with a message that names the public URL.
 */
import { randomBytes } from 'node:crypto';
import { generateLabKeys } from '@overlap/crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Actor,
  type Answer,
  actor,
  cbor,
  codeOf,
  hex,
  joinBody,
  messageOf,
  type RequestOptions,
  seal,
  sealAside,
  TestRelay,
} from './support/harness.js';

describe('the RFC 9421 profile', () => {
  let t: TestRelay;
  let a: Actor;
  let session: Uint8Array;
  let path: string;

  beforeAll(async () => {
    t = await TestRelay.start();
    a = await t.enroll('a');
    const b = await t.enroll('b');
    session = await t.propose([a, b]);
    path = `/v1/sessions/${hex(session)}/envelopes`;
  });
  afterAll(async () => t.close());

  const result = (answer: Answer) => ({ status: answer.status, code: codeOf(answer) });
  const join = () => sealAside(a, 'join', session, joinBody(a, session, { email: 1 }));
  /** The signed headers of a's join, for editing. */
  const signed = (options: RequestOptions = {}) => {
    const body = join().bytes;
    return { body, headers: t.headersFor('POST', path, body, { signer: a, ...options }) };
  };

  describe('exactly one signature, labelled sig1', () => {
    test('a signature labelled sig2 is 401 SIGNATURE_MALFORMED', async () => {
      const { body, headers } = signed();
      headers['signature-input'] = (headers['signature-input'] as string).replace(/^sig1=/, 'sig2=');
      headers.signature = (headers.signature as string).replace(/^sig1=/, 'sig2=');
      expect(result(await t.rawRequest('POST', path, body, headers))).toEqual({
        status: 401,
        code: 'SIGNATURE_MALFORMED',
      });
    });

    test('a second signature beside sig1, in the same fields, is 401 SIGNATURE_MALFORMED', async () => {
      const { body, headers } = signed();
      const input = headers['signature-input'] as string;
      const signature = headers.signature as string;
      headers['signature-input'] = `${input}, ${input.replace(/^sig1=/, 'sig2=')}`;
      headers.signature = `${signature}, ${signature.replace(/^sig1=/, 'sig2=')}`;
      expect(result(await t.rawRequest('POST', path, body, headers))).toEqual({
        status: 401,
        code: 'SIGNATURE_MALFORMED',
      });
    });

    test('signature fields on two header lines are 401 SIGNATURE_MALFORMED, even when both say sig1', async () => {
      const first = signed();
      const second = t.headersFor('POST', path, first.body, { signer: a });
      for (const twice of [['signature'], ['signature-input'], ['signature', 'signature-input']]) {
        const headers: Record<string, string | string[]> = { ...first.headers };
        for (const name of twice) headers[name] = [first.headers[name] as string, second[name] as string];
        expect({ twice, ...result(await t.rawRequest('POST', path, first.body, headers)) }).toEqual({
          twice,
          status: 401,
          code: 'SIGNATURE_MALFORMED',
        });
      }
    });
  });

  describe('a request that fails several checks gets the code of the first', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const impostor = () => ({ ...actor(generateLabKeys()), keyId: a.keyId });
    const otherBody = () => sealAside(a, 'join', session, joinBody(a, session, { email: 2 })).bytes;
    const without = (headers: Record<string, string>, name: string) => {
      const { [name]: _, ...rest } = headers;
      return rest;
    };
    const cases: [string, () => Promise<Answer>, number, string][] = [
      [
        'no Signature, and a Signature-Input labelled sig2',
        () => {
          const { body, headers } = signed();
          const input = (headers['signature-input'] as string).replace(/^sig1=/, 'sig2=');
          return t.rawRequest('POST', path, body, { ...without(headers, 'signature'), 'signature-input': input });
        },
        401,
        'SIGNATURE_MISSING',
      ],
      [
        'a sig2 label, and expired',
        () => {
          const { body, headers } = signed({ created: now() - 1000, expires: now() - 900 });
          const input = (headers['signature-input'] as string).replace(/^sig1=/, 'sig2=');
          return t.rawRequest('POST', path, body, { ...headers, 'signature-input': input });
        },
        401,
        'SIGNATURE_MALFORMED',
      ],
      [
        'a window over 300 s, and expired',
        () => t.request('POST', path, join().bytes, { signer: a, created: now() - 1000, expires: now() - 1000 + 301 }),
        401,
        'SIGNATURE_WINDOW_TOO_LONG',
      ],
      [
        'created in the future, and no Content-Digest',
        () => {
          const { body, headers } = signed({ created: now() + 1000, expires: now() + 1060 });
          return t.rawRequest('POST', path, body, without(headers, 'content-digest'));
        },
        401,
        'SIGNATURE_NOT_YET_VALID',
      ],
      [
        'expired, and no Content-Digest',
        () => {
          const { body, headers } = signed({ created: now() - 200, expires: now() - 100 });
          return t.rawRequest('POST', path, body, without(headers, 'content-digest'));
        },
        401,
        'SIGNATURE_EXPIRED',
      ],
      [
        'no Content-Digest, and an unknown key',
        () => {
          const stranger = actor(generateLabKeys());
          const body = join().bytes;
          const headers = t.headersFor('POST', path, body, { signer: stranger });
          return t.rawRequest('POST', path, body, without(headers, 'content-digest'));
        },
        401,
        'DIGEST_MISSING',
      ],
      [
        'an unknown key, and a body other than the digested one',
        () => t.request('POST', path, join().bytes, { signer: actor(generateLabKeys()), signedBody: otherBody() }),
        401,
        'UNKNOWN_KEY',
      ],
      [
        'a signature that does not verify, and a body other than the digested one (signature first)',
        () => t.request('POST', path, join().bytes, { signer: impostor(), signedBody: otherBody() }),
        401,
        'SIGNATURE_INVALID',
      ],
      [
        'a signature that does not verify, and an envelope {} (authentication first)',
        () => t.request('POST', path, cbor({}), { signer: impostor() }),
        401,
        'SIGNATURE_INVALID',
      ],
      [
        'a lab key on an admin route, and an envelope {} (authentication first)',
        () => t.request('POST', '/v1/admin', cbor({}), { signer: a }),
        403,
        'NOT_ADMIN',
      ],
      [
        'not application/cbor, and no signature',
        () => t.request('POST', path, join().bytes, { contentType: 'application/json' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'an envelope {}, and an envelope sender that is not the signer (envelope before route)',
        () => t.request('POST', path, cbor({}), { signer: t.admin }),
        400,
        'BAD_ENVELOPE',
      ],
    ];
    test.each(cases)('%s', async (_, send, status, code) => {
      expect(result(await send())).toEqual({ status, code });
    });

    test('a digest mismatch from a revoked key is KEY_REVOKED (the body is checked after all the headers say)', async () => {
      const d = await t.enroll('d');
      const envelope = seal(d, 'join', session, joinBody(d, session, { email: 1 }));
      // Before the revocation: the mismatch is what is wrong.
      const before = await t.request('POST', path, envelope.bytes, { signer: d, signedBody: otherBody() });
      expect(result(before)).toEqual({ status: 401, code: 'DIGEST_MISMATCH' });
      expect((await t.revoke(d)).status).toBe(200);
      const answer = await t.request('POST', path, envelope.bytes, { signer: d, signedBody: otherBody() });
      expect(result(answer)).toEqual({ status: 403, code: 'KEY_REVOKED' });
      expect(result(await t.request('POST', path, envelope.bytes, { signer: d }))).toEqual({
        status: 403,
        code: 'KEY_REVOKED',
      });
    });

    test('a used nonce from a revoked key is KEY_REVOKED, and a used nonce on an admin route NONCE_REPLAYED', async () => {
      const e = await t.enroll('e');
      const nonce = randomBytes(18).toString('base64url');
      const id = randomBytes(16);
      const proposal = { labs: [e.keyId, a.keyId], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 10 };
      const proposed = seal(e, 'session_proposal', id, proposal);
      expect((await t.request('POST', '/v1/sessions', proposed.bytes, { signer: e, nonce })).status).toBe(200);
      expect(result(await t.request('POST', '/v1/admin', cbor({}), { signer: e, nonce }))).toEqual({
        status: 401,
        code: 'NONCE_REPLAYED',
      });
      expect((await t.revoke(e)).status).toBe(200);
      expect(result(await t.request('POST', '/v1/sessions', proposed.bytes, { signer: e, nonce }))).toEqual({
        status: 403,
        code: 'KEY_REVOKED',
      });
    });
  });

  describe("a signature for another host than the relay's public URL", () => {
    test('signed for localhost, sent to a relay published as 127.0.0.1: SIGNATURE_INVALID naming the public URL', async () => {
      const { port } = new URL(t.url);
      const body = join().bytes;
      const elsewhere = `http://localhost:${port}`;
      const headers = t.headersFor('POST', path, body, { signer: a, signedTarget: `${elsewhere}${path}` });
      const answer = await t.rawRequest('POST', path, body, { ...headers, host: `localhost:${port}` });
      expect(result(answer)).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
      expect(t.url).toBe(`http://127.0.0.1:${port}`);
      expect(messageOf(answer)).toContain(t.url);
    });

    test('a signature that fails for another reason, sent to the public host, does not point at the URL', async () => {
      const answer = await t.request('POST', path, join().bytes, {
        signer: { ...actor(generateLabKeys()), keyId: a.keyId },
      });
      expect(result(answer)).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
      expect(messageOf(answer)).not.toContain(t.url);
    });

    test('a relay configured with a public URL names that URL', async () => {
      const published = await TestRelay.start({ publicUrl: 'https://relay.example.org' });
      try {
        const lab = await published.enroll('lab');
        // The client signs the address it connects to, not the relay's published URL.
        const read = '/v1/sessions';
        const headers = published.headersFor('GET', read, undefined, {
          signer: lab,
          signedTarget: `${published.address}${read}`,
        });
        const answer = await published.rawRequest('GET', read, undefined, headers);
        expect(result(answer)).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
        expect(messageOf(answer)).toContain('https://relay.example.org');
      } finally {
        await published.close();
      }
    });
  });
});
