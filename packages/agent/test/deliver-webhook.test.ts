/**
 * The webhook (deliver-webhook.ts) against a real HTTPS receiver on 127.0.0.1: signed so that the
 * receiver can check it (and any change breaks the check), retried on outages with backoff and
 * Retry-After on the agent's clock, never retried on a refusal, a redirect or a certificate it
 * cannot trust, and never leaking the URL's token or the secret. Then the aggregator
 * (result-delivery.ts): a webhook that is down leaves the files written and the command run.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionResults } from '@overlap/client';
import { resultDocumentPieces } from '@overlap/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLog } from '../src/agent-log.js';
import { ManualClock } from '../src/clock.js';
import {
  checkWebhookUrl,
  deliverToWebhook,
  verifyWebhookSignature,
  type WebhookSpec,
  webhookSignature,
} from '../src/deliver-webhook.js';
import { deliverResults } from '../src/result-delivery.js';
import {
  type Answer,
  driveClock,
  makeCa,
  type Receiver,
  startReceiver,
  type TestCa,
} from './support/webhook-receiver.js';

const SESSION = '0123456789abcdef0123456789abcdef';
const DOC: SessionResults = {
  session: SESSION,
  lab: 'lab-a',
  relay: 'overlap-relay/0123abcd',
  policy: { kind: 'labs' },
  finished: '2025-03-01T12:00:00Z',
  results: [
    { kind: 'email', value: 'mallory@example.com', labs: ['lab-b'] },
    { kind: 'ip', value: '192.0.2.1', labs: ['lab-b', 'lab-c'] },
  ],
};
const SECRET = new Uint8Array(32).map((_, i) => i + 1);
const SECRET_HEX = Buffer.from(SECRET).toString('hex');
const START = Date.UTC(2025, 2, 1, 12, 0, 0);

let dir: string;
let ca: TestCa;
let otherCa: TestCa;
const receivers: Receiver[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webhook-'));
  ca = await makeCa(dir, 'ca.pem');
  otherCa = await makeCa(dir, 'other-ca.pem');
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
});

async function receiver(answer: (n: number) => Answer, issuer: TestCa = ca): Promise<Receiver> {
  const started = await startReceiver(issuer, answer);
  receivers.push(started);
  return started;
}

/** A delivery of DOC on a ManualClock driven through its waits; `caFile: null` for Node's default trust. */
function deliver(
  spec: Omit<Partial<WebhookSpec>, 'caFile'> & { url: string; caFile?: string | null },
  extra: { signal?: AbortSignal } = {},
) {
  const clock = new ManualClock(START);
  const log = memoryLog();
  const { caFile = ca.caFile, ...rest } = spec;
  const work = deliverToWebhook({ secret: SECRET, ...rest, ...(caFile !== null && { caFile }) }, DOC, {
    clock,
    log,
    deliveryId: `${SESSION}:webhook`,
    ...extra,
  });
  return { clock, log, work, driven: driveClock(clock, work) };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('webhookSignature / verifyWebhookSignature', () => {
  const body = '{"session":"x"}';
  const now = START;
  const timestamp = String(START / 1000);

  it('is v1= and the lowercase hex HMAC-SHA256 of "timestamp.body"', () => {
    const independent = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
    expect(webhookSignature(SECRET, timestamp, body)).toBe(`v1=${independent}`);
    expect(webhookSignature(SECRET, Number(timestamp), Buffer.from(body))).toBe(`v1=${independent}`);
  });

  it('verifies the signature, and refuses any change, a wrong key, a stale or malformed header', () => {
    const signature = webhookSignature(SECRET, timestamp, body);
    const verify = (s: string | undefined, t: string | undefined, b: string, key = SECRET, at = now) =>
      verifyWebhookSignature(key, { timestamp: t, signature: s }, b, { now: at });
    expect(verify(signature, timestamp, body)).toBe(true);
    expect(verify(signature, timestamp, `${body} `)).toBe(false);
    expect(verify(signature, String(Number(timestamp) + 1), body)).toBe(false);
    expect(
      verify(
        signature,
        timestamp,
        body,
        SECRET.map((b) => b ^ 1),
      ),
    ).toBe(false);
    expect(verify(signature, timestamp, body, SECRET, now + 301_000)).toBe(false);
    expect(verify(signature, timestamp, body, SECRET, now - 301_000)).toBe(false);
    expect(verify(signature, timestamp, body, SECRET, now + 299_000)).toBe(true);
    for (const bad of [undefined, '', 'v1=', signature.toUpperCase(), `v2=${signature.slice(3)}`, `${signature}00`]) {
      expect(verify(bad, timestamp, body)).toBe(false);
    }
    for (const bad of [undefined, '', '-1', '1e9', `${timestamp}.0`]) expect(verify(signature, bad, body)).toBe(false);
  });

  it('refuses a key shorter than 32 bytes (BAD_CONFIG)', () => {
    expect(() => webhookSignature(new Uint8Array(31), timestamp, body)).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG' }),
    );
  });
});

describe('deliverToWebhook', () => {
  it('posts the result document, signed, and the receiver can verify it', async () => {
    const server = await receiver(() => ({ status: 204 }));
    const { driven } = deliver({ url: `${server.origin}/hooks/overlap` });
    await expect(driven).resolves.toEqual({ status: 204, attempts: 1 });
    const [request] = server.requests;
    if (request === undefined) throw new Error('nothing received');
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/overlap');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['overlap-session']).toBe(SESSION);
    expect(request.headers['overlap-delivery']).toBe(`${SESSION}:webhook`);
    expect(request.headers['overlap-timestamp']).toBe(String(START / 1000));
    expect(JSON.parse(request.body.toString('utf8'))).toEqual(DOC);
    expect(request.body.toString('utf8')).toBe([...resultDocumentPieces(DOC)].join(''));
    const timestamp = request.headers['overlap-timestamp'] as string;
    const signature = request.headers['overlap-signature'] as string;
    expect(verifyWebhookSignature(SECRET, { timestamp, signature }, request.body, { now: START + 5000 })).toBe(true);
    // And a second check, independent of the module: node:crypto over the raw bytes received.
    const hmac = createHmac('sha256', SECRET).update(`${timestamp}.`).update(request.body).digest('hex');
    expect(signature).toBe(`v1=${hmac}`);
  });

  it('streams a large document in pieces, signed over all of it', async () => {
    const results = Array.from({ length: 20_000 }, (_, i) => ({
      kind: 'ip',
      value: `10.0.${i >> 8}.${i & 255}`,
      labs: ['lab-b'],
    }));
    const large: SessionResults = { ...DOC, results };
    const server = await receiver(() => ({ status: 200 }));
    const clock = new ManualClock(START);
    const work = deliverToWebhook({ url: server.origin, secret: SECRET, caFile: ca.caFile }, large, {
      clock,
      log: memoryLog(),
      deliveryId: 'large',
    });
    await expect(work).resolves.toEqual({ status: 200, attempts: 1 });
    const [request] = server.requests;
    if (request === undefined) throw new Error('nothing received');
    expect(request.body.length).toBeGreaterThan(1 << 20);
    expect(JSON.parse(request.body.toString('utf8')).results).toHaveLength(results.length);
    const headers = {
      timestamp: request.headers['overlap-timestamp'] as string,
      signature: request.headers['overlap-signature'] as string,
    };
    expect(verifyWebhookSignature(SECRET, headers, request.body, { now: START })).toBe(true);
  });

  it('retries 503 with backoff, honours Retry-After, and is delivered on attempt 3', async () => {
    const answers: Answer[] = [{ status: 503 }, { status: 503, headers: { 'Retry-After': '120' } }, { status: 200 }];
    const server = await receiver((n) => answers[n] ?? { status: 500 });
    const { driven, log, clock } = deliver({ url: server.origin });
    await expect(driven).resolves.toEqual({ status: 200, attempts: 3 });
    const retries = log.records.filter((r) => r.event === 'webhook_retry');
    expect(retries.map((r) => [r.level, r.fields.status, r.fields.attempt])).toEqual([
      ['warn', 503, 1],
      ['warn', 503, 2],
    ]);
    const first = retries[0]?.fields.retry_in_ms as number;
    expect(first).toBeGreaterThanOrEqual(800);
    expect(first).toBeLessThanOrEqual(1200);
    expect(retries[1]?.fields.retry_in_ms).toBe(120_000);
    expect(clock.now() - START).toBe(first + 120_000);
    // Each attempt is signed with its own timestamp.
    const stamps = server.requests.map((r) => Number(r.headers['overlap-timestamp']));
    expect(stamps[2]).toBe(Math.floor((START + first + 120_000) / 1000));
    expect(new Set(server.requests.map((r) => r.headers['overlap-delivery'])).size).toBe(1);
  });

  it('does not retry a 400: DELIVERY_FAILED naming the status', async () => {
    const server = await receiver(() => ({ status: 400 }));
    const { driven, log } = deliver({ url: server.origin });
    await expect(driven).rejects.toMatchObject({ code: 'DELIVERY_FAILED', message: expect.stringMatching(/400/) });
    expect(server.requests).toHaveLength(1);
    expect(log.records.filter((r) => r.event === 'webhook_retry')).toHaveLength(0);
  });

  it('does not follow a redirect', async () => {
    const server = await receiver(() => ({ status: 302, headers: { Location: '/elsewhere' } }));
    const { driven } = deliver({ url: server.origin });
    await expect(driven).rejects.toMatchObject({ code: 'DELIVERY_FAILED', message: expect.stringMatching(/302/) });
    expect(server.requests.map((r) => r.url)).toEqual(['/']);
  });

  it('refuses a certificate from a CA it does not trust, with the hint, and does not retry', async () => {
    const server = await receiver(() => ({ status: 200 }), otherCa);
    const untrusted = deliver({ url: server.origin, caFile: null });
    await expect(untrusted.driven).rejects.toMatchObject({
      code: 'DELIVERY_FAILED',
      message: expect.stringMatching(/certificate not trusted: .*NODE_EXTRA_CA_CERTS/),
    });
    // With the ca_file of another CA: refused too (it trusts that CA only).
    const pinned = deliver({ url: server.origin, caFile: ca.caFile });
    await expect(pinned.driven).rejects.toMatchObject({ code: 'DELIVERY_FAILED' });
    expect(server.requests).toHaveLength(0);
    expect(pinned.log.records.filter((r) => r.event === 'webhook_retry')).toHaveLength(0);
    // With its own CA's file: delivered.
    await expect(deliver({ url: server.origin, caFile: otherCa.caFile }).driven).resolves.toMatchObject({
      status: 200,
    });
  });

  it('refuses http:// URLs (BAD_CONFIG)', async () => {
    expect(() => checkWebhookUrl('http://127.0.0.1:1/hook')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => checkWebhookUrl('not a url')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(checkWebhookUrl('https://siem.example/hook').origin).toBe('https://siem.example');
    await expect(deliver({ url: 'http://127.0.0.1:1/hook' }).driven).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });

  it('keeps the query-string token and the secret out of every message and log record', async () => {
    const token = 'tok3n-in-the-query';
    const server = await receiver(() => ({ status: 503 }));
    const { driven, log } = deliver({ url: `${server.origin}/in/path-token?token=${token}`, attempts: 3 });
    const error = await driven.then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(error?.code).toBe('DELIVERY_FAILED');
    expect(server.requests[0]?.url).toBe(`/in/path-token?token=${token}`);
    const everything = `${error?.message} ${String(error?.stack)} ${JSON.stringify(log.records)}`;
    expect(everything).toContain(server.origin);
    for (const secretish of [
      token,
      'path-token',
      SECRET_HEX,
      String(server.requests[0]?.headers['overlap-signature']),
    ]) {
      expect(everything).not.toContain(secretish);
    }
    expect(log.records.filter((r) => r.event === 'webhook_retry')).toHaveLength(2);
  });

  it('retries a refused connection, then fails naming the error and the attempts', async () => {
    const port = await closedPort();
    const { driven, log } = deliver({ url: `https://127.0.0.1:${port}/`, attempts: 2 });
    await expect(driven).rejects.toMatchObject({
      code: 'DELIVERY_FAILED',
      message: expect.stringMatching(/ECONNREFUSED.*2 attempts/),
    });
    expect(log.records.map((r) => [r.event, r.fields.error])).toEqual([['webhook_retry', 'ECONNREFUSED']]);
  });

  it('times an attempt out (real time: it bounds a network wait)', async () => {
    const server = await receiver(() => 'hang');
    const { driven } = deliver({ url: server.origin, timeoutMs: 300, attempts: 1 });
    await expect(driven).rejects.toMatchObject({
      code: 'DELIVERY_FAILED',
      message: expect.stringMatching(/ETIMEDOUT/),
    });
  });

  it('stops at once when aborted while waiting to retry', async () => {
    const server = await receiver(() => ({ status: 503 }));
    const controller = new AbortController();
    const clock = new ManualClock(START);
    const work = deliverToWebhook({ url: server.origin, secret: SECRET, caFile: ca.caFile }, DOC, {
      clock,
      log: memoryLog(),
      signal: controller.signal,
      deliveryId: 'd',
    });
    while (clock.sleepers === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const reason = new Error('stopping');
    controller.abort(reason);
    await expect(work).rejects.toBe(reason);
    expect(server.requests).toHaveLength(1);
  });
});

describe('deliverResults', () => {
  it('writes the files and runs the command when the webhook is down, and reports the webhook failed', async () => {
    const out = join(dir, 'down');
    const marker = join(dir, 'down-marker');
    const port = await closedPort();
    const log = memoryLog();
    const report = await deliverResults(
      DOC,
      {
        directory: { path: out, formats: ['csv'] },
        webhook: { url: `https://127.0.0.1:${port}/?token=zzz`, secret: SECRET, attempts: 1 },
        command: {
          argv: [
            process.execPath,
            '-e',
            'require("fs").writeFileSync(process.argv[1], process.env.OVERLAP_RESULTS_COUNT + " " + process.env.OVERLAP_RESULTS_FILE)',
            marker,
          ],
          timeoutMs: 20_000,
        },
      },
      { clock: new ManualClock(START), log },
    );
    const jsonl = join(out, `${SESSION}.results.jsonl`);
    expect(report.files).toEqual([join(out, `${SESSION}.results.csv`), jsonl, join(out, `${SESSION}.json`)]);
    expect(report.webhook).toMatchObject({ ok: false, error: expect.stringMatching(/^DELIVERY_FAILED: /) });
    expect(report.command).toEqual({ ok: true });
    expect(await readFile(marker, 'utf8')).toBe(`2 ${jsonl}`);
    expect((await readFile(jsonl, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(log.records.map((r) => [r.level, r.event, r.fields.destination])).toEqual(
      expect.arrayContaining([
        ['info', 'results_delivered', 'directory'],
        ['error', 'delivery_failed', 'webhook'],
        ['info', 'results_delivered', 'command'],
      ]),
    );
    expect(JSON.stringify(log.records)).not.toContain('zzz');
  });

  it('reports a failed command and still delivers to the webhook', async () => {
    const server = await receiver(() => ({ status: 200 }));
    const report = await deliverResults(
      DOC,
      {
        directory: { path: join(dir, 'command-fails'), formats: ['jsonl'] },
        webhook: { url: server.origin, secret: SECRET, caFile: ca.caFile },
        command: { argv: [process.execPath, '-e', 'process.exit(3)'], timeoutMs: 20_000 },
      },
      { clock: new ManualClock(START), log: memoryLog() },
    );
    expect(report.webhook).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(report.command).toMatchObject({ ok: false, error: expect.stringMatching(/^DELIVERY_FAILED: /) });
    expect(server.requests[0]?.headers['overlap-delivery']).toBe(`${SESSION}:webhook`);
  });

  it('throws DELIVERY_FAILED when the directory cannot be written, and delivers nothing else', async () => {
    const server = await receiver(() => ({ status: 200 }));
    const blocked = join(dir, 'ca.pem', 'results'); // a file where a directory should be
    await expect(
      deliverResults(
        DOC,
        { directory: { path: blocked, formats: ['jsonl'] }, webhook: { url: server.origin, secret: SECRET } },
        { clock: new ManualClock(START), log: memoryLog() },
      ),
    ).rejects.toMatchObject({ code: 'DELIVERY_FAILED' });
    expect(server.requests).toHaveLength(0);
  });
});
