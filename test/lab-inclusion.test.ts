/**
 * Inclusion before action, against the reproduction of a forged result: a proxy in front of the
 * relay that holds the relay's own key rewrites the `result_rows` in the labs' inbox answers —
 * envelopes properly signed by the relay, of the session, claiming matches the labs do not share
 * — while the log holds the true rows. The labs prove each inbox item an entry of the log before
 * acting on it: both refuse the forged rows (NOT_INCLUDED) and write no results. Through the same
 * proxy passing everything unchanged, the same session finishes with the true results, so the
 * refusal is the forgery's and nothing else's. The labs are real SDK clients over HTTP, with a
 * trust directory each, as the CLI runs them.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, OverlapClient } from '@overlap/client';
import { readKeyFile } from '@overlap/crypto/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';
import { forgeResultRows } from './support/forge-result-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-lab-inclusion-'));
let t: TestRelay;
let proxy: Server;
let proxyUrl: string;
let a: Actor;
let b: Actor;
let forge = false;
let forged = 0;

/** Rewrites every result_rows item of an inbox answer: rows for positions 0–9, each "held by the other lab". */
async function forgeInbox(body: Uint8Array): Promise<Uint8Array> {
  const relayKeys = await readKeyFile(join(t.dir, 'relay.key'));
  const result = forgeResultRows(body, relayKeys, (recipient) => (recipient === a.keyId ? b.keyId : a.keyId));
  forged += result.forged;
  return result.body;
}

beforeAll(async () => {
  // The proxy's port first: the relay's public URL is the proxy's (what the labs sign).
  proxy = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const upstream = await fetch(`${t.address}${request.url}`, {
          method: request.method ?? 'GET',
          headers: Object.fromEntries(
            Object.entries(request.headers).filter(
              ([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection',
            ),
          ) as Record<string, string>,
          ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
        });
        let body: Uint8Array = new Uint8Array(await upstream.arrayBuffer());
        if (forge && upstream.status === 200 && /\/inbox\?/.test(request.url ?? '')) body = await forgeInbox(body);
        const headers: Record<string, string> = {};
        upstream.headers.forEach((value, key) => {
          if (key !== 'content-length' && key !== 'transfer-encoding' && key !== 'connection') headers[key] = value;
        });
        response.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) });
        response.end(body);
      } catch (error) {
        response.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  t = await TestRelay.start({ publicUrl: proxyUrl });
  a = await t.enroll('lab-a');
  b = await t.enroll('lab-b');
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const sets = (own: string) => ({
  email: [
    ...Array.from({ length: 5 }, (_, i) => `shared${i}@example.com`),
    ...Array.from({ length: 20 }, (_, i) => `${own}${i}@example.com`),
  ],
});

async function session(): Promise<{ clients: [OverlapClient, OverlapClient]; id: string }> {
  const connect = (who: Actor, name: string) =>
    OverlapClient.connect({
      relayUrl: proxyUrl,
      keys: who.keys,
      logKey: t.relay.vkey,
      adminKey: Buffer.from(t.relay.adminPublicKey, 'hex'),
      trustDir: join(dir, name, 'trust'),
      stateDir: join(dir, name, 'state'),
    });
  const clients: [OverlapClient, OverlapClient] = [await connect(a, 'a'), await connect(b, 'b')];
  const id = await clients[0].createSession({
    labs: ['lab-a', 'lab-b'],
    kinds: ['email'],
    policy: 'labs',
    maxItemsPerKind: 100,
  });
  return { clients, id };
}

describe('inclusion before action', () => {
  test('result rows rewritten by a proxy holding the relay key are refused by both labs (NOT_INCLUDED), who act on none', async () => {
    forge = true;
    try {
      const { clients, id } = await session();
      const runs = await Promise.allSettled([clients[0].run(id, sets('a')), clients[1].run(id, sets('b'))]);
      expect(forged).toBeGreaterThanOrEqual(2); // the proxy did rewrite each lab's rows
      for (const run of runs) {
        expect(run.status).toBe('rejected');
        const error = (run as PromiseRejectedResult).reason as ClientError;
        expect(error).toBeInstanceOf(ClientError);
        expect(error.code).toBe('NOT_INCLUDED');
        expect(error.message).toMatch(
          /the result_rows the relay handed out as log entry \d+ is not that entry of its log/,
        );
      }
    } finally {
      forge = false;
    }
  });

  test('through the same proxy, passing everything unchanged, the session finishes with the true results', async () => {
    const { clients, id } = await session();
    const outcomes = await Promise.all([clients[0].run(id, sets('a')), clients[1].run(id, sets('b'))]);
    const truth = Array.from({ length: 5 }, (_, i) => `shared${i}@example.com`).sort();
    expect(outcomes[0].results.map((r) => r.value)).toEqual(truth);
    expect(outcomes[1].results.map((r) => r.value)).toEqual(truth);
  });
});
