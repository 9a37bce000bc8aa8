/**
 * One attacker (or the probe) of `pnpm bench relay-abuse`, as its own process, started under `nice`
 * by the benchmark. It runs until SIGTERM, then prints one JSON line of what it did and what the
 * relay answered. Attackers connect from their own loopback addresses (127.0.0.2, 127.0.0.3, …),
 * as outsiders on the network would, so that the relay's cap per address is theirs, not the labs'.
 *
 *   tsx bench/relay-abuse-attacker.ts MODE URL [KEY_FILE] [VICTIM_KEY_ID]
 *
 * MODE: `bodies` (300 unauthenticated connections streaming 8 MiB bodies), `bombs` (an enrolled
 * lab posting 4 MB envelopes whose payload is 4,000,000 empty CBOR maps), `spam` (an enrolled lab
 * proposing sessions naming a victim, as fast as it is answered), `slow` (connections that send
 * their headers, then their bodies, a few bytes a second), `probe` (GET /healthz every 50 ms,
 * timing each answer).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { sha256, sign } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import {
  type CborValue,
  ENVELOPE_DOMAIN,
  encodeDeterministic,
  PROTOCOL_VERSION,
  sealEnvelope,
  signRequest,
} from '@overlap/protocol';

const [mode, url, keyFile, victim] = process.argv.slice(2);
const target = new URL(url as string);
const port = Number(target.port);
const statuses = new Map<string, number>();
const count = (status: string) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
const latencies: number[] = [];
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
  // The first answers warm up the probe's own process (its first connection, the JIT): not the relay.
  const sorted = latencies.slice(3).sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  process.stdout.write(
    `${JSON.stringify({ mode, statuses: Object.fromEntries(statuses), ...(mode === 'probe' && { n: sorted.length, p50: at(50), p99: at(99), max: sorted.at(-1) ?? 0 }) })}\n`,
  );
  process.exit(0);
});

/** A raw connection from a loopback address of the attacker's own. */
function open(from: string): Socket {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  socket.on('error', () => {});
  return socket;
}

/** An HTTP request with node:http from `from`: its status (or the error) counted. */
function send(from: string, method: string, path: string, headers: Record<string, string>, body?: Uint8Array) {
  return new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, localAddress: from }, (res) => {
      count(String(res.statusCode));
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      count(error.code ?? 'error');
      resolve();
    });
    req.end(body);
  });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** (a) Connections that announce 8 MiB and stream it, unsigned; each one opened again when it ends. */
async function bodies(): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const one = async (from: string) => {
    while (!stopping) {
      await new Promise<void>((resolve) => {
        const socket = open(from);
        socket.on('close', () => resolve());
        socket.on('data', (d: Buffer) => count(d.toString('latin1').slice(9, 12)));
        socket.write(
          `POST /v1/sessions HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/cbor\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`,
        );
        let sent = 0;
        const pump = () => {
          while (sent < 8 * 1024 * 1024 && !socket.destroyed) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
    }
  };
  await Promise.all(Array.from({ length: 300 }, (_, i) => one(i % 2 === 0 ? '127.0.0.2' : '127.0.0.3')));
}

async function labKeys() {
  return readKeyFile(keyFile as string);
}

function signed(keys: Awaited<ReturnType<typeof labKeys>>, method: string, path: string, body: Uint8Array) {
  const created = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/cbor',
    ...signRequest({
      method,
      targetUri: `${url}${path}`,
      body,
      keyId: keys.keyId,
      secretKey: keys.signing.secretKey,
      created,
      expires: created + 60,
      nonce: randomBytes(18).toString('base64url'),
    }),
  };
}

/**
 * (b) Envelopes whose payload is an array of 4,000,000 empty maps (4 MB), each properly sealed —
 * its header's length and digest of that payload, signed with the lab's key — so that the relay
 * opens it and meets the bomb in its decoder. One after another, as fast as they are answered.
 */
async function bombs(): Promise<void> {
  const keys = await labKeys();
  const maps = new Uint8Array(5 + 4_000_000);
  maps.set([0x9a, 0x00, 0x3d, 0x09, 0x00]); // array(4,000,000)
  maps.fill(0xa0, 5); // each an empty map
  const session = new Uint8Array(randomBytes(16));
  const header = encodeDeterministic({
    v: PROTOCOL_VERSION,
    type: 'tag_chunk',
    session,
    sender: keys.keyId,
    seq: 0,
    prev: new Uint8Array(32),
    created: Date.now(),
    len: maps.length,
    digest: sha256(maps),
  } as CborValue);
  const prefix = new TextEncoder().encode(`${ENVELOPE_DOMAIN}\0`);
  const signature = sign(keys.signing.secretKey, Uint8Array.from([...prefix, ...header]));
  const body = encodeDeterministic({ h: header, p: maps, s: signature } as unknown as CborValue);
  const path = `/v1/sessions/${Buffer.from(session).toString('hex')}/envelopes`;
  while (!stopping) await send('127.0.0.4', 'POST', path, signed(keys, 'POST', path, body), body);
}

/** (c) Proposals naming a victim, one after another, each a new session. */
async function spam(): Promise<void> {
  const keys = await labKeys();
  while (!stopping) {
    const proposal = {
      labs: [keys.keyId, victim as string],
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: 1000,
    };
    const envelope = sealEnvelope(
      {
        type: 'session_proposal',
        session: new Uint8Array(randomBytes(16)),
        seq: 0,
        created: Date.now(),
        payload: proposal as CborValue,
      },
      { keyId: keys.keyId, secretKey: keys.signing.secretKey },
    );
    await send(
      '127.0.0.5',
      'POST',
      '/v1/sessions',
      signed(keys, 'POST', '/v1/sessions', envelope.bytes),
      envelope.bytes,
    );
  }
}

/** (d) Headers a few bytes a second, and (unsigned) bodies that drip: each opened again when cut off. */
async function slow(): Promise<void> {
  const drip = async (from: string, text: string) => {
    while (!stopping) {
      await new Promise<void>((resolve) => {
        const socket = open(from);
        socket.on('close', () => resolve());
        socket.on('data', (d: Buffer) => count(d.toString('latin1').slice(9, 12)));
        let at = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || at >= text.length) return clearInterval(timer);
          socket.write(text.slice(at, at + 4));
          at += 4;
        }, 1000);
        socket.on('close', () => clearInterval(timer));
      });
    }
  };
  const header = `GET /v1/relay HTTP/1.1\r\nHost: ${target.host}\r\nX-Slow: ${'a'.repeat(4000)}\r\n\r\n`;
  const body = `POST /v1/sessions HTTP/1.1\r\nHost: ${target.host}\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(100_000)}`;
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => drip(i % 2 === 0 ? '127.0.0.6' : '127.0.0.7', i % 2 === 0 ? header : body)),
  );
}

/** The probe: GET /healthz every 50 ms from the labs' own address, timing each answer. */
async function probe(): Promise<void> {
  while (!stopping) {
    const started = performance.now();
    const before = statuses.get('200') ?? 0;
    await send('127.0.0.1', 'GET', '/healthz', {});
    // Only a 200 is a healthy answer: a fast 503 BUSY must not count as one.
    if ((statuses.get('200') ?? 0) > before) latencies.push(performance.now() - started);
    await wait(50);
  }
}

const modes: Record<string, () => Promise<void>> = { bodies, bombs, spam, slow, probe };
const run = modes[mode as string];
if (run === undefined) {
  process.stderr.write(`usage: relay-abuse-attacker.ts <${Object.keys(modes).join('|')}> URL [KEY_FILE] [VICTIM]\n`);
  process.exit(64);
}
process.stdout.write('started\n');
await run();
