/**
 * Each key's budgets of request bytes and relay CPU time (spec/relay-api.md §2.2 step 13, §5),
 * against a real relay on loopback with small budgets: they are announced in `GET /v1/relay`; a
 * request whose declared body would take its key over the bytes budget is 429 RATE_LIMITED from
 * its headers, before any of its body is read, its connection closed; a key whose earlier
 * requests used up its CPU time (also bodies the relay refused: they cost their sender) is 429
 * until it is back in credit, while another key goes on; `/metrics` counts refusals by budget.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, codeOf, hex, messageOf, TestRelay } from './support/harness.js';

let t: TestRelay;
const BYTES_BURST = 64 * 1024;
beforeAll(async () => {
  t = await TestRelay.start({
    limits: {
      requestTimeoutMs: 60_000, // a relay that waited for the body would be seen waiting
      bytesPerKey: { perSecond: 1024, burst: BYTES_BURST },
      cpuMsPerKey: { perSecond: 1000, burst: 2000 },
    },
  });
});
afterAll(() => t.close());

const refusals = async (budget: string): Promise<number> => {
  const text = await t.metrics();
  return Number(
    new RegExp(`^overlap_relay_budget_refusals_total\\{budget="${budget}"\\} (\\d+)$`, 'm').exec(text)?.[1],
  );
};

/** Sends a signed request's head and no body; answers what the relay sent before it closed. */
function headOnly(who: Actor, path: string, body: Uint8Array): Promise<string> {
  const headers = t.headersFor('POST', path, body, { signer: who });
  const url = new URL(t.address);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${url.host}`,
    `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket: Socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    socket.on('data', (data: Buffer) => {
      reply += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply));
    socket.setTimeout(30_000, () => {
      socket.destroy();
      reject(new Error(`no answer and no close within 30 s; got ${JSON.stringify(reply.slice(0, 200))}`));
    });
  });
}

test('GET /v1/relay announces the budgets', async () => {
  const { limits } = (await t.request('GET', '/v1/relay')).body as { limits: Record<string, number> };
  expect(limits).toMatchObject({
    bytes_per_second_per_lab: 1024,
    bytes_burst_per_lab: BYTES_BURST,
    cpu_ms_per_second_per_lab: 1000,
    cpu_ms_burst_per_lab: 2000,
  });
});

describe('the bytes budget', () => {
  test('a body over what is left of the key’s bytes is refused 429 from its headers alone, named, and its connection closed', async () => {
    const lab = await t.enroll('bytes-lab');
    const session = randomBytes(16);
    const path = `/v1/sessions/${hex(session)}/envelopes`;
    // 40 KiB taken of 64 KiB (answered for what it is, not by a budget).
    const first = await t.request('POST', path, randomBytes(40 * 1024), { signer: lab });
    expect(first.status).not.toBe(429);
    const before = await refusals('bytes');
    // 40 KiB more announced, none sent: refused at once, unread (a relay that read it would wait 60 s).
    const reply = await headOnly(lab, path, randomBytes(40 * 1024));
    expect(reply).toMatch(/^HTTP\/1\.1 429 /);
    expect(reply).toMatch(/\r\nretry-after: (\d+)\r\n/i);
    // 16 KiB short at 1 KiB/s: about 16 s (less if the machine took seconds between the two requests).
    expect(Number(/\r\nretry-after: (\d+)\r\n/i.exec(reply)?.[1])).toBeGreaterThanOrEqual(8);
    expect(reply).toMatch(/connection: close/i);
    expect(reply).toContain('RATE_LIMITED');
    expect(reply).toMatch(/has sent its share of request bytes/);
    expect(await refusals('bytes')).toBe(before + 1);
    // A request without a body costs no bytes.
    const read = await t.request('GET', '/v1/sessions', undefined, { signer: lab });
    expect(read.status).toBe(200);
  });
});

describe('the CPU budget', () => {
  test('a key that used its relay time (1 MB bodies refused as no envelope) is 429 until it is back in credit; another key is not', async () => {
    // Its own relay: 1 ms of burst, then 1 ms a second. The admin key has no CPU budget: its
    // enrollments go through however long they take.
    const relay = await TestRelay.start({ limits: { cpuMsPerKey: { perSecond: 1, burst: 1 } } });
    try {
      const heavy = await relay.enroll('cpu-heavy');
      const other = await relay.enroll('cpu-other');
      const session = randomBytes(16);
      const path = `/v1/sessions/${hex(session)}/envelopes`;
      // Each 1 MB body is hashed and checked against its digest, then refused as no envelope at all
      // (400, before any route sees it): the time it took is its signer's all the same.
      const body = () => randomBytes(1 << 20);
      let answer = await relay.request('POST', path, body(), { signer: heavy });
      for (let sent = 1; answer.status !== 429 && sent < 100; sent++) {
        expect(answer.status).toBe(400);
        answer = await relay.request('POST', path, body(), { signer: heavy });
      }
      expect(answer.status).toBe(429);
      expect(codeOf(answer)).toBe('RATE_LIMITED');
      expect(messageOf(answer)).toMatch(/used their share of the relay's time \(1 ms\/s, bursts of 0.001 s\)/);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // A read is refused too while the key is in debt; another key is not held back.
      expect((await relay.request('GET', '/v1/sessions', undefined, { signer: heavy })).status).toBe(429);
      expect((await relay.request('GET', '/v1/sessions', undefined, { signer: other })).status).toBe(200);
      const text = await relay.metrics();
      expect(text).toMatch(/^overlap_relay_budget_refusals_total\{budget="cpu"\} 2$/m);
    } finally {
      await relay.close();
    }
  });
});
