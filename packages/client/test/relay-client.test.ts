/**
 * RelayClient against a scripted stand-in for the relay on loopback: what goes on the wire (CBOR,
 * RFC 9421 signatures with a fresh nonce per attempt), which answers are retried and which are
 * final, how malformed answers are refused, and how receipts and checkpoints are verified. The real
 * relay is exercised in test/relay.http-lab.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKeyPair, keyId } from '@overlap/crypto';
import {
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  inclusionProof,
  leafHash,
  MerkleTree,
  type Receipt,
  signNote,
} from '@overlap/log';
import {
  type CborValue,
  decodeDeterministic,
  encodeDeterministic,
  type receiptSchema,
  verifyRequest,
} from '@overlap/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import { ClientError, RelayClient } from '../src/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Uint8Array;
}

type Reply = { status: number; body?: CborValue | Uint8Array | string; headers?: Record<string, string> } | 'hang-up';

/** A loopback HTTP server that answers each request with the next scripted reply (the last one repeats). */
async function fakeRelay(reply: (seen: Seen, n: number) => Reply): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    if (answer === 'hang-up') {
      req.socket.destroy();
      return;
    }
    const { status, body, headers = {} } = answer;
    const bytes =
      body === undefined
        ? new Uint8Array(0)
        : typeof body === 'string'
          ? new TextEncoder().encode(body)
          : body instanceof Uint8Array
            ? body
            : encodeDeterministic(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/cbor', ...headers });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const lab = generateSigningKeyPair();
const labId = keyId(lab.publicKey);
const signer = { keyId: labId, secretKey: lab.secretKey };
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const SESSION = 'a1'.repeat(16);

/** A small log: a tree of envelope leaves and checkpoints signed by the log key. */
const ORIGIN = 'relay.test/overlap';
const logKey = generateSigningKeyPair();
const noteSigner = ed25519NoteSigner(ORIGIN, logKey.secretKey);
const logVerifier = ed25519NoteVerifier(ORIGIN, logKey.publicKey);
const leaves = Array.from({ length: 9 }, (_, i) => new TextEncoder().encode(`envelope ${i}`));
const hashes = leaves.map(leafHash);
const checkpointOf = (hashList: Uint8Array[], size: number) =>
  signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: new MerkleTree(hashList).root(size), extensions: [] }), [
    noteSigner,
  ]);
const receiptFor = (index: number, size: number): Receipt => ({
  index,
  proof: inclusionProof(hashes.slice(0, size), index),
  checkpoint: checkpointOf(hashes, size),
});
const receiptBody = (r: Receipt): CborValue => ({ index: r.index, proof: r.proof, checkpoint: r.checkpoint });

describe('construction', () => {
  test('the URL is checked up front (BAD_RELAY_URL) and kept without a trailing slash', () => {
    expect(() => new RelayClient({ url: 'ftp://relay.example' })).toThrow(
      expect.objectContaining({ code: 'BAD_RELAY_URL' }),
    );
    expect(() => new RelayClient({ url: 'https://relay.example/?x=1' })).toThrow(
      expect.objectContaining({ code: 'BAD_RELAY_URL' }),
    );
    expect(new RelayClient({ url: 'https://relay.example/forum/' }).url).toBe('https://relay.example/forum');
    expect(new RelayClient({ url: 'http://127.0.0.1:8080' }).url).toBe('http://127.0.0.1:8080');
  });

  test('bad arguments fail before any request', async () => {
    const client = new RelayClient({ url: 'http://127.0.0.1:9', signer });
    await expect(client.postEnvelope('A1'.repeat(16), new Uint8Array(1))).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
    });
    await expect(client.inbox(SESSION, -1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(client.inbox(SESSION, 0, 25_001)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(client.entries(0.5, 2)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  test('a signed request without a signer is NO_SIGNER', async () => {
    const client = new RelayClient({ url: 'http://127.0.0.1:9' });
    await expect(client.postEnvelope(SESSION, new Uint8Array(1))).rejects.toMatchObject({ code: 'NO_SIGNER' });
    await expect(client.inbox(SESSION, 0)).rejects.toMatchObject({ code: 'NO_SIGNER' });
  });
});

describe('what goes on the wire', () => {
  test('a POST is CBOR, signed over method, target URI and content digest, with a fresh nonce each attempt', async () => {
    const relay = await fakeRelay((_, n) =>
      n < 2 ? { status: 503 } : { status: 200, body: receiptBody(receiptFor(0, 1)) },
    );
    const now = 1_750_000_000_000;
    const client = new RelayClient({ url: relay.url, signer, retry: fast, now: () => now });
    const envelope = encodeDeterministic({ h: new Uint8Array(3), p: new Uint8Array(0), s: new Uint8Array(64) });
    await expect(client.postEnvelope(SESSION, envelope)).resolves.toMatchObject({ index: 0 });

    expect(relay.seen).toHaveLength(3);
    const nonces = new Set<string>();
    for (const request of relay.seen) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe(`/v1/sessions/${SESSION}/envelopes`);
      expect(request.headers['content-type']).toBe('application/cbor');
      expect(request.body).toEqual(Buffer.from(envelope));
      const verified = verifyRequest({
        method: 'POST',
        targetUri: `${relay.url}${request.url}`,
        headers: request.headers,
        body: request.body,
        now: now / 1000,
        publicKeyOf: (id) => (id === labId ? lab.publicKey : undefined),
      });
      expect(verified).toMatchObject({ keyId: labId, created: now / 1000, expires: now / 1000 + 60 });
      nonces.add(verified.nonce);
    }
    expect(nonces.size).toBe(3);
  });

  test('session reads are signed (no digest: no body); log reads are not', async () => {
    const relay = await fakeRelay((seen) =>
      seen.url.startsWith('/v1/log')
        ? { status: 200, body: { index: 1, size: 4, proof: [] } }
        : { status: 200, body: { items: [], state: 'joining' } },
    );
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.inbox(SESSION, 7, 1000)).resolves.toEqual({ items: [], state: 'joining' });
    await client.inclusion(1, 4);
    const [inbox, inclusion] = relay.seen as [Seen, Seen];
    expect(inbox.url).toBe(`/v1/sessions/${SESSION}/inbox?after=7&wait=1000`);
    expect(inbox.headers['signature-input']).toMatch(/^sig1=\("@method" "@target-uri"\);created=/);
    expect(inbox.headers['content-digest']).toBeUndefined();
    expect(inclusion.url).toBe('/v1/log/inclusion?index=1&size=4');
    expect(inclusion.headers.signature).toBeUndefined();
  });
});

describe('the session list', () => {
  const status = (proposal: number) => ({
    session: new Uint8Array(16).fill(proposal),
    proposal,
    proposal_envelope: Uint8Array.of(1),
    labs: [labId],
    joined: [],
    state: 'joining',
    waiting_on: [labId],
  });

  test('with options, the one page asked for (from, limit, wait on the wire), its next kept', async () => {
    const relay = await fakeRelay(() => ({ status: 200, body: { sessions: [status(7), status(9)], next: 12 } }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const page = await client.listSessions({ from: 5, limit: 2, wait: 25_000 });
    expect(page.sessions.map((s) => s.proposal)).toEqual([7, 9]);
    expect(page.next).toBe(12);
    expect(relay.seen.map((r) => r.url)).toEqual(['/v1/sessions?from=5&limit=2&wait=25000']);
    expect(relay.seen[0]?.headers['signature-input']).toMatch(/^sig1=\("@method" "@target-uri"\);created=/);
    // Left out, or undefined: the relay's defaults.
    await client.listSessions({ from: undefined, limit: undefined, wait: undefined });
    await client.listSessions({});
    expect(relay.seen.slice(1).map((r) => r.url)).toEqual(['/v1/sessions?from=0', '/v1/sessions?from=0']);
  });

  test('without options, every page from the first, gathered', async () => {
    const relay = await fakeRelay((seen) =>
      seen.url === '/v1/sessions?from=0'
        ? { status: 200, body: { sessions: [status(1), status(3)], next: 4 } }
        : { status: 200, body: { sessions: [status(4)] } },
    );
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const { sessions, next } = await client.listSessions();
    expect({ proposals: sessions.map((s) => s.proposal), next }).toEqual({ proposals: [1, 3, 4], next: undefined });
    expect(relay.seen.map((r) => r.url)).toEqual(['/v1/sessions?from=0', '/v1/sessions?from=4']);
  });

  test('bad options fail before any request (BAD_ARGUMENT)', async () => {
    const client = new RelayClient({ url: 'http://127.0.0.1:9', signer });
    for (const options of [
      { from: -1 },
      { from: 1.5 },
      { limit: 0 },
      { limit: 1001 },
      { limit: 2.5 },
      { wait: -1 },
      { wait: 25_001 },
      { wait: Number.NaN },
    ]) {
      const error = await client.listSessions(options).catch((e: unknown) => e);
      expect({ options, code: (error as ClientError).code }).toEqual({ options, code: 'BAD_ARGUMENT' });
    }
  });

  test('a page out of log order, or whose next does not move on, is BAD_RESPONSE', async () => {
    for (const body of [
      { sessions: [status(4)] }, // before `from`
      { sessions: [status(6), status(6)] }, // listed twice
      { sessions: [status(8), status(6)] }, // going back
      { sessions: [status(6)], next: 6 }, // a next page that starts where this one ended
      { sessions: [], next: 5 }, // a next page that starts where this one did
    ]) {
      const relay = await fakeRelay(() => ({ status: 200, body }));
      const client = new RelayClient({ url: relay.url, signer, retry: fast });
      const error = await client.listSessions({ from: 5, wait: 1000 }).catch((e: unknown) => e);
      expect({ body, code: (error as ClientError).code }).toEqual({ body, code: 'BAD_RESPONSE' });
    }
  });
});

describe('retries', () => {
  test('a 4xx is final: RELAY_REFUSED with the status and the relay code, after one attempt', async () => {
    const relay = await fakeRelay(() => ({
      status: 409,
      body: { error: { code: 'CHAIN_BROKEN', message: 'prev is not the previous hash' } },
    }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const error = await client.postEnvelope(SESSION, new Uint8Array(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'RELAY_REFUSED', status: 409, relayCode: 'CHAIN_BROKEN' });
    expect(relay.seen).toHaveLength(1);
  });

  test('a 4xx without a relay error body is RELAY_REFUSED with relayCode UNKNOWN', async () => {
    const relay = await fakeRelay(() => ({ status: 404, body: '<html>not here</html>' }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.relayInfo()).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      status: 404,
      relayCode: 'UNKNOWN',
    });
  });

  test('5xx until the attempts run out: RELAY_UNAVAILABLE with the last status', async () => {
    const relay = await fakeRelay(() => ({ status: 500, body: { error: { code: 'INTERNAL', message: '' } } }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.membership()).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE', status: 500 });
    expect(relay.seen).toHaveLength(3);
  });

  test('408 and a dropped connection are retried', async () => {
    const relay = await fakeRelay((_, n) =>
      n === 0 ? { status: 408 } : n === 1 ? 'hang-up' : { status: 200, body: { entries: [] } },
    );
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.membership()).resolves.toEqual({ entries: [] });
    expect(relay.seen).toHaveLength(3);
  });

  test('nobody listening: RELAY_UNAVAILABLE after every attempt', async () => {
    const relay = await fakeRelay(() => ({ status: 200 }));
    servers[0]?.close();
    servers[0]?.closeAllConnections();
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.checkpoint()).rejects.toMatchObject({ code: 'RELAY_UNAVAILABLE' });
  });

  test('429 waits at least Retry-After', async () => {
    const relay = await fakeRelay((_, n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'RATE_LIMITED', message: '' } } }
        : { status: 200, body: { entries: [] } },
    );
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const started = performance.now();
    await client.membership();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test('an abort during the backoff wait ends the call at once with the abort', async () => {
    const relay = await fakeRelay(() => ({ status: 503 }));
    const controller = new AbortController();
    const client = new RelayClient({
      url: relay.url,
      signer,
      retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      signal: controller.signal,
    });
    const call = client.membership();
    await expect.poll(() => relay.seen.length).toBe(1);
    const started = performance.now();
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('malformed answers are BAD_RESPONSE', () => {
  test.each<[string, Reply]>([
    ['not CBOR', { status: 200, body: new TextEncoder().encode('{"entries":[]}') }],
    ['non-deterministic CBOR', { status: 200, body: Uint8Array.of(0xbf, 0xff) }],
    ['a missing field', { status: 200, body: {} }],
    ['a wrong type', { status: 200, body: { entries: [{ index: -1, envelope: 'x' }] } }],
    ['a redirect', { status: 302, headers: { location: 'http://example.org/' } }],
  ])('%s', async (_, reply) => {
    const relay = await fakeRelay(() => reply);
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.membership()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  test('every problem is named with its path', async () => {
    const relay = await fakeRelay(() => ({
      status: 200,
      body: { items: [{ n: 0, type: 'nope', index: 1, envelope: new Uint8Array(1), hop: 'x' }], state: 'gone' },
    }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const error = (await client.inbox(SESSION, 0).catch((e: unknown) => e)) as ClientError;
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toContain('items[0].type');
    expect(error.message).toContain('items[0].hop');
    expect(error.message).toContain('state');
  });

  test('past ten problems, the rest are counted', async () => {
    const items = Array.from({ length: 12 }, (_, n) => ({
      n,
      type: 'blind_task',
      index: -1,
      envelope: new Uint8Array(1),
    }));
    const relay = await fakeRelay(() => ({ status: 200, body: { items, state: 'joining' } }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const error = (await client.inbox(SESSION, 0).catch((e: unknown) => e)) as ClientError;
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toContain('items[9].index');
    expect(error.message).not.toContain('items[10].index');
    expect(error.message).toContain('(and 2 more)');
  });

  test('an answer to another question (consistency of other sizes)', async () => {
    const relay = await fakeRelay(() => ({ status: 200, body: { from: 1, to: 3, proof: [] } }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.consistency(2, 3)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });
});

describe('a newer relay', () => {
  test('fields the client does not know are ignored, at every depth, and not copied', async () => {
    const status = {
      session: new Uint8Array(16),
      proposal: 0,
      proposal_envelope: Uint8Array.of(1),
      labs: [labId],
      joined: [],
      state: 'joining',
      deadline: 9,
      waiting_on: [labId],
      abort: { reason: 'r', culprit: labId, since: 3 },
      priority: 'high',
    };
    const relay = await fakeRelay(() => ({ status: 200, body: { sessions: [status], next_page: 'x' } }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    const { priority: _, ...known } = status;
    expect(await client.listSessions()).toStrictEqual({
      sessions: [{ ...known, abort: { reason: 'r', culprit: labId } }],
    });
  });

  test("a receipt as the relay's schema declares it is log's Receipt", () => {
    // Both ways: a change to either shape fails to compile here.
    const fromLog: ReturnType<typeof receiptSchema.parse> = receiptFor(0, 1);
    const toLog: Receipt = fromLog;
    expect(toLog.index).toBe(0);
  });
});

describe('receipts and checkpoints, with a log verifier', () => {
  /** Serves receipts from `receipts` in turn, and consistency proofs of the tree of `hashList`. */
  async function logRelay(receipts: Receipt[], hashList: Uint8Array[] = hashes) {
    let next = 0;
    return fakeRelay((seen) => {
      if (seen.url.startsWith('/v1/log/consistency')) {
        const query = new URL(seen.url, 'http://x').searchParams;
        const from = Number(query.get('from'));
        const to = Number(query.get('to'));
        return { status: 200, body: { from, to, proof: new MerkleTree(hashList).consistencyProof(from, to) } };
      }
      const receipt = receipts[next++] as Receipt;
      return { status: 200, body: receiptBody(receipt) };
    });
  }

  test('each receipt is verified against the posted bytes, and checkpoints must extend each other', async () => {
    const relay = await logRelay([receiptFor(2, 3), receiptFor(5, 8), receiptFor(2, 3)]);
    const client = new RelayClient({ url: relay.url, signer, logVerifier, retry: fast });
    await client.postEnvelope(SESSION, leaves[2] as Uint8Array);
    expect(client.lastCheckpoint?.size).toBe(3);
    await client.postEnvelope(SESSION, leaves[5] as Uint8Array);
    expect(relay.seen.map((s) => s.url)).toContain('/v1/log/consistency?from=3&to=8');
    // A resend answered with its original, older receipt: proven a prefix of what was seen.
    await client.postEnvelope(SESSION, leaves[2] as Uint8Array);
    expect(client.lastCheckpoint?.size).toBe(8);
  });

  test('a receipt for other bytes is RECEIPT_INVALID', async () => {
    const relay = await logRelay([receiptFor(2, 3)]);
    const client = new RelayClient({ url: relay.url, signer, logVerifier, retry: fast });
    const error = (await client.postEnvelope(SESSION, leaves[3] as Uint8Array).catch((e: unknown) => e)) as ClientError;
    expect(error).toMatchObject({ code: 'RECEIPT_INVALID' });
    expect(error.cause).toMatchObject({ code: 'BAD_CHECKPOINT' });
  });

  test('a checkpoint signed by another key is RECEIPT_INVALID', async () => {
    const impostor = ed25519NoteSigner(ORIGIN, generateSigningKeyPair().secretKey);
    const forged = {
      ...receiptFor(0, 1),
      checkpoint: signNote(
        formatCheckpoint({ origin: ORIGIN, size: 1, rootHash: new MerkleTree(hashes).root(1), extensions: [] }),
        [impostor],
      ),
    };
    const relay = await logRelay([forged]);
    const client = new RelayClient({ url: relay.url, signer, logVerifier, retry: fast });
    await expect(client.postEnvelope(SESSION, leaves[0] as Uint8Array)).rejects.toMatchObject({
      code: 'RECEIPT_INVALID',
    });
  });

  test('a forked log (a second tree that does not extend the first) is RECEIPT_INVALID', async () => {
    // The fork rewrote entry 1; its receipts verify on their own, but no consistency proof can hold.
    const forkHashes = hashes.map((h, i) => (i === 1 ? leafHash(new TextEncoder().encode('rewritten')) : h));
    const forkReceipt: Receipt = {
      index: 6,
      proof: inclusionProof(forkHashes.slice(0, 8), 6),
      checkpoint: checkpointOf(forkHashes, 8),
    };
    const relay = await logRelay([receiptFor(2, 3), forkReceipt], forkHashes);
    const client = new RelayClient({ url: relay.url, signer, logVerifier, retry: fast });
    await client.postEnvelope(SESSION, leaves[2] as Uint8Array);
    await expect(client.postEnvelope(SESSION, leaves[6] as Uint8Array)).rejects.toMatchObject({
      code: 'RECEIPT_INVALID',
    });
    expect(client.lastCheckpoint?.size).toBe(3);
  });

  test('checkpoint() verifies the note and keeps the larger tree', async () => {
    const relay = await fakeRelay((seen) =>
      seen.url === '/v1/log/checkpoint'
        ? { status: 200, body: checkpointOf(hashes, 9) }
        : { status: 200, body: receiptBody(receiptFor(1, 4)) },
    );
    const client = new RelayClient({ url: relay.url, signer, logVerifier, retry: fast });
    await client.postEnvelope(SESSION, leaves[1] as Uint8Array);
    // The stand-in serves no consistency proofs: the request for one is refused as malformed.
    await expect(client.checkpoint()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    const fresh = new RelayClient({ url: relay.url, logVerifier, retry: fast });
    await expect(fresh.checkpoint()).resolves.toBe(checkpointOf(hashes, 9));
    expect(fresh.lastCheckpoint?.size).toBe(9);
  });

  test('createSession checks the session id against the proposal it posted', async () => {
    const session = Uint8Array.from({ length: 16 }, (_, i) => i);
    const header = encodeDeterministic({ session });
    const envelope = encodeDeterministic({ h: header, p: new Uint8Array(0), s: new Uint8Array(64) });
    const other = new Uint8Array(16).fill(9);
    const relay = await fakeRelay(() => ({
      status: 200,
      body: { session: other, receipt: { index: 0, proof: [], checkpoint: 'x' } },
    }));
    const client = new RelayClient({ url: relay.url, signer, retry: fast });
    await expect(client.createSession(envelope)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    expect(decodeDeterministic(relay.seen[0]?.body as Uint8Array)).toMatchObject({ h: header });
  });
});
