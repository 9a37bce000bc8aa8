/**
 * Cheap rejection first (spec/relay-api.md §2.2, spec/errors.md §4): a signed route checks the
 * signature, the key and the rate from the headers, before it reads a byte of the body. A request
 * no enrolled key signed is answered at once and its connection closed, its body never buffered:
 * an outsider cannot make the relay hold megabytes per connection by announcing big bodies.
 *
 * Against a real relay on loopback, with raw sockets (the attacker sends what it likes): a request
 * announcing 8 MiB and sending none is refused 401 at once (the old relay waited for the body, and
 * answered 408 when the request timeout ran out); 100 such connections at once, each streaming its
 * body, leave the relay's count of body bytes read where it was; and a signed request still gets its
 * body read and checked against its digest.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { generateLabKeys } from '@overlap/crypto';
import { signRequest } from '@overlap/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MEMBERSHIP_SESSION } from '../src/index.js';
import { cbor, hex, seal, sealAside, TestRelay } from './support/harness.js';

const EIGHT_MIB = 8 * 1024 * 1024;
let t: TestRelay;
beforeAll(async () => {
  // A long request timeout: a relay that waits for the body is seen waiting, not timing out.
  t = await TestRelay.start({ limits: { requestTimeoutMs: 60_000 } });
});
afterAll(() => t.close());

/** What the relay answered on a raw connection: its status line and the whole reply, and whether it closed. */
function rawExchange(
  head: string,
  body?: { bytes: number; chunk: number },
): Promise<{ reply: string; closed: boolean }> {
  const url = new URL(t.address);
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket: Socket = connect(Number(url.port), url.hostname, () => {
      socket.write(head);
      if (body === undefined) return;
      // Stream the body for as long as the relay reads it (it should not).
      let sent = 0;
      const pump = () => {
        while (sent < body.bytes && !socket.destroyed) {
          sent += body.chunk;
          if (!socket.write(randomBytes(body.chunk))) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.on('data', (data: Buffer) => {
      reply += data.toString('latin1');
    });
    socket.on('error', () => {}); // the relay closes while we write: expected
    socket.on('close', () => resolve({ reply, closed: true }));
    socket.setTimeout(30_000, () => {
      socket.destroy();
      reject(new Error(`no close within 30 s; got ${JSON.stringify(reply.slice(0, 200))}`));
    });
  });
}

function bytesIn(metrics: string): number {
  return Number(/^overlap_relay_bytes_in_total (\d+)$/m.exec(metrics)?.[1]);
}

async function metrics(): Promise<string> {
  return t.metrics();
}

const head = (extra: string) =>
  `POST /v1/admin HTTP/1.1\r\nHost: ${new URL(t.address).host}\r\nContent-Type: application/cbor\r\nContent-Length: ${EIGHT_MIB}\r\n${extra}\r\n`;

test('an unsigned request announcing 8 MiB is refused 401 before its body, and its connection closed', async () => {
  const { reply, closed } = await rawExchange(head(''));
  expect(reply).toMatch(/^HTTP\/1\.1 401 /);
  expect(reply).toMatch(/connection: close/i);
  expect(closed).toBe(true);
});

test('100 connections streaming 8 MiB bodies signed by no enrolled key: none of their bytes is read', async () => {
  const before = bytesIn(await metrics());
  const stranger = generateLabKeys();
  const body = new Uint8Array(16);
  const signed = signRequest({
    method: 'POST',
    targetUri: `${t.url}/v1/admin`,
    body,
    keyId: stranger.keyId,
    secretKey: stranger.signing.secretKey,
    created: Math.floor(Date.now() / 1000),
    expires: Math.floor(Date.now() / 1000) + 60,
    nonce: randomBytes(18).toString('base64url'),
  });
  const lines = Object.entries(signed)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const replies = await Promise.all(
    Array.from({ length: 100 }, () => rawExchange(head(lines), { bytes: EIGHT_MIB, chunk: 64 * 1024 })),
  );
  for (const { reply } of replies) expect(reply).toMatch(/^HTTP\/1\.1 401 [^\r]*\r\n/);
  expect(replies.filter(({ reply }) => /UNKNOWN_KEY/.test(reply))).toHaveLength(100);
  expect(bytesIn(await metrics())).toBe(before);
});

test('a signed request still has its body read, and checked against its digest', async () => {
  // Sealed aside: refused, it must not move the admin's chain on.
  const envelope = sealAside(t.admin, 'enrollment', MEMBERSHIP_SESSION, {
    lab: 'lab-pre-auth',
    name: 'Lab pre-auth',
    signing_key: generateLabKeys().signing.publicKey,
    sealing_key: generateLabKeys().sealing.publicKey,
    valid_from: Date.now() - 60_000,
    valid_until: Date.now() + 86_400_000,
  });
  const before = bytesIn(await metrics());
  const tampered = await t.request('POST', '/v1/admin', envelope.bytes, { signer: t.admin, signedBody: cbor({}) });
  expect(tampered.status).toBe(401);
  expect((tampered.body as { error: { code: string } }).error.code).toBe('DIGEST_MISMATCH');
  expect(bytesIn(await metrics())).toBe(before + envelope.bytes.length);
});

test('a CBOR bomb from an enrolled lab (a tag_chunk of 100,000 empty maps) is 400 BAD_CBOR, decoded no further than the limit', async () => {
  const bomber = await t.enroll('bomber');
  const session = randomBytes(16);
  const bomb = seal(bomber, 'tag_chunk', session, { tags: Array.from({ length: 100_000 }, () => ({})) });
  const answer = await t.request('POST', `/v1/sessions/${hex(session)}/envelopes`, bomb.bytes, { signer: bomber });
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ error: { code: 'BAD_CBOR' } });
  expect((answer.body as { error: { message: string } }).error.message).toMatch(/an array longer than 64/);
});

test('the same signed write on two connections, both headers before either body: one is taken, the other NONCE_REPLAYED, and the relay stays writable', async () => {
  const who = generateLabKeys();
  const envelope = seal(t.admin, 'enrollment', MEMBERSHIP_SESSION, {
    lab: 'lab-twice',
    name: 'Lab twice',
    signing_key: who.signing.publicKey,
    sealing_key: who.sealing.publicKey,
    valid_from: Date.now() - 60_000,
    valid_until: Date.now() + 86_400_000,
  });
  const signed = t.headersFor('POST', '/v1/admin', envelope.bytes, { signer: t.admin });
  const lines = Object.entries(signed)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const url = new URL(t.address);
  const head = `POST /v1/admin HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/cbor\r\nContent-Length: ${envelope.bytes.length}\r\n${lines}\r\n`;
  const sockets = [0, 1].map(() => connect(Number(url.port), url.hostname));
  const replies = sockets.map(
    (socket) =>
      new Promise<string>((resolve) => {
        let reply = '';
        socket.on('data', (data: Buffer) => {
          reply += data.toString('latin1');
          if (/\r\n\r\n/.test(reply) && reply.length > reply.indexOf('\r\n\r\n') + 4) {
            socket.destroy();
            resolve(reply);
          }
        });
        socket.on('close', () => resolve(reply));
      }),
  );
  for (const socket of sockets) socket.write(head);
  // Both headers are in once a later round trip has been answered (the relay reads in order).
  expect((await fetch(`${t.address}/healthz`)).status).toBe(200);
  for (const socket of sockets) socket.write(envelope.bytes);
  const statuses = (await Promise.all(replies)).map((reply) => reply.slice(9, 12)).sort();
  expect(statuses).toEqual(['200', '401']);
  expect((await Promise.all(replies)).some((reply) => reply.includes('NONCE_REPLAYED'))).toBe(true);
  expect((await fetch(`${t.address}/healthz`)).status).toBe(200);
  expect(await metrics()).toMatch(/^overlap_relay_storage_failures_total 0$/m);
});

test('an unsigned route announcing a body is 400 at once, the body unread', async () => {
  const url = new URL(t.address);
  const { reply, closed } = await rawExchange(
    `GET /v1/relay HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${EIGHT_MIB}\r\n\r\n`,
  );
  expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  expect(reply).toMatch(/takes no request body/);
  expect(closed).toBe(true);
});
