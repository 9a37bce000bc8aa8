/**
 * The relay's public address as a process of its own, in the hands of whoever holds the relay's
 * host: every request is passed to the relay process behind it, which the test can swap (a rogue
 * relay, a restored backup, a fork) and whose answers it can rewrite, holding the relay's key:
 *
 *   pass          answers as the relay gave them
 *   forge-results every result_rows of an inbox answer replaced by rows of the holder's choosing,
 *                 signed with the relay key (the log keeps the true ones)
 *   hide-end      once the session is done or aborted, its result_rows and abort items left out of
 *                 the inbox answers (the relay says "over" and shows nothing)
 *
 *   node --import tsx --conditions=@overlap/source test/support/relay-front-process.ts
 *
 * Prints one JSON line once listening: { url }. `POST /__front` with JSON { upstream, mode,
 * relayKeyFile?, labs? } reconfigures it (the test's hand on the attacker's controls); labs are
 * the key ids the forged rows may name.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readKeyFile } from '@overlap/crypto/node';
import { type CborValue, decodeDeterministic, encodeDeterministic } from '@overlap/protocol';
import { forgeResultRows } from './forge-result-rows.js';

interface Front {
  upstream: string;
  mode: 'pass' | 'forge-results' | 'hide-end';
  relayKeyFile?: string;
  labs?: string[];
}

let front: Front = { upstream: '', mode: 'pass' };
let forged = 0;

async function forgeResults(body: Uint8Array): Promise<Uint8Array> {
  const relayKeys = await readKeyFile(front.relayKeyFile as string);
  try {
    const result = forgeResultRows(
      body,
      relayKeys,
      (recipient) => (front.labs ?? []).find((lab) => lab !== recipient) as string,
    );
    forged += result.forged;
    return result.body;
  } finally {
    relayKeys.dispose();
  }
}

function hideEnd(body: Uint8Array): Uint8Array {
  const answer = decodeDeterministic(body) as { items: { type: string }[]; state: string };
  if (answer.state !== 'done' && answer.state !== 'aborted') return body;
  answer.items = answer.items.filter((item) => item.type !== 'result_rows' && item.type !== 'abort');
  return encodeDeterministic(answer as unknown as CborValue);
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      if (request.url === '/__front') {
        if (request.method === 'POST') front = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Front;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...front, forged }));
        return;
      }
      const upstream = await fetch(`${front.upstream}${request.url}`, {
        method: request.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(request.headers).filter(
            ([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection',
          ),
        ) as Record<string, string>,
        ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
      });
      let body: Uint8Array = new Uint8Array(await upstream.arrayBuffer());
      const inbox = upstream.status === 200 && /\/inbox\?/.test(request.url ?? '');
      if (inbox && front.mode === 'forge-results') body = await forgeResults(body);
      if (inbox && front.mode === 'hide-end') body = hideEnd(body);
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
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
