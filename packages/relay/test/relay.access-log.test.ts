/**
 * The access log (http/access-log.ts) of a real relay: one JSON line per request, in the order the
 * responses ended, with what the test knows it sent (method, target, body size) and what the relay
 * answered (status, code); a key id only for a signature that verified; nothing of the bodies, the
 * signatures, the digests or the nonces; a file opened for appending, 0600.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import { packTags } from '@overlap/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { type AccessLogRecord, startRelayServer } from '../src/index.js';
import { type Answer, hex, joinBody, type RequestOptions, seal, TestRelay } from './support/harness.js';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const t of relays.splice(0)) await t.close();
});

const FIELDS = new Set([
  'time',
  'remote',
  'method',
  'path',
  'status',
  'code',
  'bytes_in',
  'bytes_out',
  'ms',
  'keyid',
  'incomplete',
]);

/** What the test sent, to compare each line with. */
interface Sent {
  method: string;
  path: string;
  bytesIn: number;
  answer: Answer;
  keyid?: string;
  /** Header values that must never reach the log. */
  secrets: string[];
}

function readLines(file: string): AccessLogRecord[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as AccessLogRecord);
}

/** The pieces of the signature fields a request carried: the signature, the digest, the nonce. */
function secretsOf(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of ['signature', 'content-digest']) {
    const value = headers[name] ?? headers[name.replace(/^./, (c) => c.toUpperCase())];
    const inner = value && /:([^:]+):/.exec(value)?.[1];
    if (inner) out.push(inner);
  }
  const input = Object.entries(headers).find(([name]) => name.toLowerCase() === 'signature-input')?.[1];
  const nonce = input && /nonce="([^"]+)"/.exec(input)?.[1];
  if (nonce) out.push(nonce);
  return out;
}

/** Sends a request line with this target exactly (fetch and node:http would percent-encode it). */
async function rawTarget(t: TestRelay, target: string): Promise<string> {
  const url = new URL(t.address);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Polls until `check` holds. */
async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the access log', () => {
  test('has one line per request, with what was sent and answered, and none of the secrets', async () => {
    const t = await TestRelay.start();
    relays.push(t);
    const file = join(t.dir, 'access.log');
    // The same database, restarted with a log.
    t.options = { ...t.options, accessLog: file };
    await t.restart();
    const sent: Sent[] = [];
    const request = async (
      method: string,
      path: string,
      body?: Uint8Array,
      options: RequestOptions = {},
      verified = options.signer !== undefined,
    ) => {
      const headers = t.headersFor(method, path, body, options);
      const answer = await t.request(method, path, body, options);
      sent.push({
        method,
        path,
        bytesIn: body?.length ?? 0,
        answer,
        ...(verified && options.signer && { keyid: options.signer.keyId }),
        secrets: secretsOf(headers),
      });
      return answer;
    };

    await request('GET', '/healthz');
    const a = await t.enroll('a');
    const b = await t.enroll('b');
    const session = await t.propose([a, b], { maxItemsPerKind: 5000 });
    const path = `/v1/sessions/${hex(session)}/envelopes`;
    const joined = seal(a, 'join', session, joinBody(a, session, { email: 3000 }));
    expect((await request('POST', path, joined.bytes, { signer: a })).status).toBe(200);
    const key = BlindingKey.generate();
    const tagValues = Array.from({ length: 3000 }, (_, i) => hashAndBlind(key, 'email', `u${i}@log.example`));
    key.dispose();
    const chunk = seal(a, 'tag_chunk', session, {
      kind: 'email',
      owner: a.keyId,
      hop: 0,
      first: 0,
      tags: packTags(tagValues),
    });
    expect((await request('POST', path, chunk.bytes, { signer: a })).status).toBe(200);
    await request('GET', `/v1/sessions/${hex(session)}/inbox?after=0`, undefined, { signer: b });
    // A body changed after signing: the signature verified, the digest did not; no keyid is logged.
    const other = seal(b, 'join', session, joinBody(b, session, { email: 1 }));
    const tampered = await request('POST', path, other.bytes, { signer: b, signedBody: joined.bytes }, false);
    expect(tampered.status).toBe(401);
    await request('GET', '/v1/nowhere?x=%22quoted%22');
    await request('GET', `/${'x'.repeat(5000)}`);
    await request('GET', '/v1/log/checkpoint');
    await t.relay.close();

    const lines = readLines(file);
    // enroll (2) and propose (1) went through t.request too, but not through `request`: 3 more lines.
    expect(lines).toHaveLength(sent.length + 3);
    const mine = lines.filter((line) => !(line.path === '/v1/admin' || line.path === '/v1/sessions'));
    expect(mine).toHaveLength(sent.length);
    for (const [i, line] of mine.entries()) {
      const want = sent[i] as Sent;
      for (const field of Object.keys(line)) expect(FIELDS.has(field), field).toBe(true);
      expect(line.method).toBe(want.method);
      expect(line.path).toBe(want.path.length > 2048 ? `${want.path.slice(0, 2048)}…` : want.path);
      expect(line.status).toBe(want.answer.status);
      const code = (want.answer.body as { error?: { code?: string } })?.error?.code;
      expect(line.code).toBe(code);
      expect(line.keyid).toBe(want.keyid);
      // A body the relay refused unread (none here) would count 0; these were all read.
      expect(line.bytes_in).toBe(want.bytesIn);
      expect(line.bytes_out).toBeGreaterThan(0);
      expect(line.remote).toBe('127.0.0.1');
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(line.ms).toBeGreaterThanOrEqual(0);
      expect(line.incomplete).toBeUndefined();
    }
    const text = readFileSync(file, 'utf8');
    for (const want of sent) for (const secret of want.secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('sig1');
    expect(text).not.toContain('@log.example');
    // No tag, in any encoding a log tool might use.
    for (const tag of tagValues.slice(0, 50)) {
      expect(text).not.toContain(Buffer.from(tag).toString('hex'));
      expect(text).not.toContain(Buffer.from(tag).toString('base64').slice(0, 20));
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 60_000);

  test('is appended to, never truncated, and an existing file is narrowed to 0600', async () => {
    const t = await TestRelay.start();
    relays.push(t);
    const file = join(t.dir, 'access.log');
    writeFileSync(file, 'a line from before\n');
    chmodSync(file, 0o644);
    t.options = { ...t.options, accessLog: file };
    await t.restart();
    await t.request('GET', '/healthz');
    await t.relay.close();
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('a line from before\n')).toBe(true);
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('a function target gets each line, each one line whatever the target holds', async () => {
    const lines: string[] = [];
    const t = await TestRelay.start({ accessLog: (line) => lines.push(line) });
    relays.push(t);
    await t.request('GET', '/healthz');
    await t.request('GET', '/v1/relay');
    // Quotes and backslashes in a target cannot break the line: JSON escapes them.
    await rawTarget(t, '/a"b\\c{"status":200}');
    await t.relay.close();
    expect(lines.map((line) => (JSON.parse(line) as AccessLogRecord).path)).toEqual([
      '/healthz',
      '/v1/relay',
      '/a"b\\c{"status":200}',
    ]);
    expect((JSON.parse(lines[2] as string) as AccessLogRecord).status).toBe(404);
    expect(lines.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
  });

  test('a request whose peer goes away before the answer is logged, marked incomplete', async () => {
    const lines: AccessLogRecord[] = [];
    const t = await TestRelay.start({ accessLog: (line) => lines.push(JSON.parse(line)) });
    relays.push(t);
    const url = new URL(t.address);
    // A signed request (its headers pass: the relay reads on) whose body is announced at 1,000
    // bytes, 10 sent, then the connection dropped.
    const body = new Uint8Array(1000).fill(7);
    const signed = t.headersFor('POST', '/v1/admin', body, { signer: t.admin });
    const headerLines = Object.entries(signed)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /v1/admin HTTP/1.1\r\nHost: ${url.host}\r\n${headerLines}Content-Length: 1000\r\n\r\n0123456789`,
      );
    });
    await until(() => socket.bytesWritten > 0, 'the request sent');
    socket.destroy();
    await until(() => lines.length === 1, 'the access log line');
    expect(lines[0]).toMatchObject({ method: 'POST', path: '/v1/admin', status: 0, bytes_in: 0, incomplete: true });
    expect(lines[0]?.keyid).toBeUndefined();
  });

  test('a file that cannot be opened is ACCESS_LOG_FAILED', async () => {
    const t = await TestRelay.start();
    relays.push(t);
    await t.relay.close();
    const unopenable = join(t.dir, 'no', 'such', 'dir', 'access.log');
    await expect(
      startRelayServer({ db: t.options.db as string, port: 0, accessLog: unopenable }),
    ).rejects.toMatchObject({
      code: 'ACCESS_LOG_FAILED',
    });
  });
});
