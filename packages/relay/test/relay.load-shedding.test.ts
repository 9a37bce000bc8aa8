/**
 * The relay sheds load rather than grows (spec/relay-api.md §5): one connection more than it takes
 * from an address is answered `503 BUSY` with `Retry-After` and closed before any of it is read; a
 * body more than its budget of bodies in flight is `503 BUSY`, unread; so is one connection more
 * than it takes in all. IPv6 clients are counted per /64. Small limits, a real relay on loopback,
 * raw sockets.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { addressKey } from '../src/http/connection-caps.js';
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

/** `n` open connections, each known to the relay (it has answered on it; keep-alive keeps them open). */
async function hold(t: TestRelay, n: number): Promise<Awaited<ReturnType<typeof open>>[]> {
  const held = await Promise.all(Array.from({ length: n }, () => open(t)));
  for (const c of held) {
    c.socket.write(healthz(t));
    await until(() => /^HTTP\/1\.1 200 /.test(c.received()), 'an answer on a held connection');
  }
  return held;
}

/** One connection more: what the relay sent on it before it closed it. */
async function oneMore(t: TestRelay): Promise<string> {
  const extra = await open(t);
  extra.socket.write(healthz(t));
  await extra.closed;
  return extra.received();
}

test('one connection more than an address may have is 503 BUSY with Retry-After, and closed; there is room again once one closes', async () => {
  const t = await TestRelay.start({ limits: { maxConnectionsPerAddress: 4 } });
  relays.push(t);
  const held = await hold(t, 4);
  const refused = await oneMore(t);
  expect(refused).toMatch(/^HTTP\/1\.1 503 /);
  expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
  expect(refused).toContain('BUSY');
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

test('one connection more than the relay takes in all is 503 BUSY, whatever the address allows', async () => {
  const t = await TestRelay.start({ limits: { maxConnections: 3, maxConnectionsPerAddress: 100 } });
  relays.push(t);
  const held = await hold(t, 3);
  const refused = await oneMore(t);
  expect(refused).toMatch(/^HTTP\/1\.1 503 /);
  expect(refused).toContain('BUSY');
  for (const c of held) c.socket.destroy();
});

test('connections are counted per IPv4 address (mapped ones too) and per IPv6 /64', () => {
  expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
  expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
  expect(addressKey('198.51.100.8')).not.toBe(addressKey('198.51.100.7'));
  // Every address of one /64 is one client; the next /64 is another.
  const one = addressKey('2001:db8:1:2::1');
  expect(one).toBe('2001:db8:1:2::/64');
  expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe(one);
  expect(addressKey('2001:0db8:0001:0002:abcd::9')).toBe(one);
  expect(addressKey('2001:db8:1:3::1')).not.toBe(one);
  expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  expect(addressKey('::1')).toBe('0:0:0:0::/64');
  // Not an address (a socket already gone): counted under what it is, never thrown on.
  expect(addressKey(undefined)).toBe('');
  expect(addressKey('not-an-address')).toBe('not-an-address');
});
