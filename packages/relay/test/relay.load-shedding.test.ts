/**
 * The relay sheds load rather than grows (spec/relay-api.md §5): one connection more than it takes
 * from an address is answered `503 BUSY` with `Retry-After` and closed before any of it is read; a
 * body more than its budget of bodies in flight is `503 BUSY`, unread. Small limits, a real relay
 * on loopback, raw sockets.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { TestRelay } from './support/harness.js';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const t of relays.splice(0)) await t.close();
});

/** A raw connection and what it has received so far. */
function open(t: TestRelay): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const url = new URL(t.address);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(url.port), url.hostname);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const healthz = (t: TestRelay) => `GET /healthz HTTP/1.1\r\nHost: ${new URL(t.address).host}\r\n\r\n`;

test('one connection more than an address may have is 503 BUSY with Retry-After, and closed; there is room again once one closes', async () => {
  const t = await TestRelay.start({ limits: { maxConnectionsPerAddress: 4 } });
  relays.push(t);
  const held = await Promise.all(Array.from({ length: 4 }, () => open(t)));
  // Each is known to the relay once it has answered on it (keep-alive: they stay open).
  for (const c of held) {
    c.socket.write(healthz(t));
    await until(() => /^HTTP\/1\.1 200 /.test(c.received()), 'an answer on a held connection');
  }
  const extra = await open(t);
  extra.socket.write(healthz(t));
  await extra.closed;
  expect(extra.received()).toMatch(/^HTTP\/1\.1 503 /);
  expect(extra.received()).toMatch(/\r\nretry-after: 1\r\n/i);
  expect(extra.received()).toContain('BUSY');
  // One closes: once the relay has seen it go, a new connection is answered.
  held[0]?.socket.destroy();
  await held[0]?.closed;
  let answer = '';
  for (let tries = 0; !/^HTTP\/1\.1 200 /.test(answer) && tries < 100; tries++) {
    const next = await open(t);
    next.socket.write(healthz(t));
    await until(() => /^HTTP\/1\.1 \d{3} /.test(next.received()), 'an answer');
    answer = next.received();
    next.socket.destroy();
    await next.closed;
  }
  expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  for (const c of held) c.socket.destroy();
});

test('a body beyond the budget of bodies in flight is 503 BUSY, unread; the budget is free again when the first ends', async () => {
  const t = await TestRelay.start({ limits: { maxBodyBytes: 1024 * 1024, maxBodyBytesInFlight: 1024 * 1024 } });
  relays.push(t);
  const host = new URL(t.address).host;
  const signedHead = (body: Uint8Array) => {
    const headers = t.headersFor('POST', '/v1/admin', body, { signer: t.admin });
    const lines = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return `POST /v1/admin HTTP/1.1\r\nHost: ${host}\r\n${lines}Content-Length: ${body.length}\r\n\r\n`;
  };
  const first = randomBytes(900 * 1024);
  const slow = await open(t);
  slow.socket.write(signedHead(first));
  slow.socket.write(first.subarray(0, 1024)); // the first body is being read, and takes its 900 KiB
  // A round trip on another connection, sent after: by its answer the relay has read the first's headers.
  const probe = await open(t);
  probe.socket.write(healthz(t));
  await until(() => /^HTTP\/1\.1 200 /.test(probe.received()), 'the probe');
  probe.socket.destroy();
  const second = randomBytes(900 * 1024);
  const busy = await open(t);
  busy.socket.write(signedHead(second));
  await busy.closed;
  expect(busy.received()).toMatch(/^HTTP\/1\.1 503 /);
  expect(busy.received()).toMatch(/\r\nretry-after: 1\r\n/i);
  expect(busy.received()).toContain('BUSY');
  // The first body arrives whole: it is read (and refused for what it is, not for the budget).
  slow.socket.write(first.subarray(1024));
  await until(() => /^HTTP\/1\.1 \d{3} /.test(slow.received()), 'the first answer');
  expect(slow.received()).toMatch(/^HTTP\/1\.1 400 /);
  // The budget is free: the second body is read too.
  const later = await open(t);
  later.socket.write(signedHead(second));
  later.socket.write(second);
  await until(() => /^HTTP\/1\.1 \d{3} /.test(later.received()), 'the later answer');
  expect(later.received()).toMatch(/^HTTP\/1\.1 400 /);
  for (const c of [slow, busy, later]) c.socket.destroy();
});
