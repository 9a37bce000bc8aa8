/**
 * A real relay for tests: a fresh home in a temp directory (SQLite file, key files), the HTTP server
 * on a free loopback port, an admin that enrolls labs, and raw signed requests — so tests can send
 * exactly the bytes they mean to, good or bad.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlindingKey,
  coinCommitment,
  generateLabKeys,
  hashAndBlind,
  keyCommitment,
  type LabKeys,
} from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import {
  type CborValue,
  decodeDeterministic,
  encodeDeterministic,
  type MessageType,
  type OpenedEnvelope,
  packTags,
  sealEnvelope,
  signRequest,
} from '@overlap/protocol';
import {
  initRelay,
  MEMBERSHIP_SESSION,
  type RelayServer,
  type RelayServerOptions,
  startRelayServer,
} from '../../src/index.js';

export interface Actor {
  keys: LabKeys;
  keyId: string;
  /** Per-session chain: session hex -> { seq, prev }. */
  chains: Map<string, { seq: number; prev?: Uint8Array }>;
  /** Per-session secrets behind the commitments of its join: session hex -> session key and coin. */
  secrets: Map<string, { key: BlindingKey; coin: Uint8Array }>;
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export function actor(keys: LabKeys): Actor {
  return { keys, keyId: keys.keyId, chains: new Map(), secrets: new Map() };
}

/**
 * The payload of a well-formed join (spec/protocol.md §4): the sizes, and the commitments to a
 * fresh session key and coin, which the actor keeps for its reveal (and a test for its proofs).
 */
export function joinBody(
  who: Actor,
  session: Uint8Array,
  sizes: Record<string, number>,
): { sizes: Record<string, number>; key: Uint8Array; coin: Uint8Array } {
  const key = BlindingKey.generate();
  const coin = randomBytes(32);
  who.secrets.set(hex(session), { key, coin });
  return { sizes, key: keyCommitment(key), coin: coinCommitment(session, who.keyId, coin) };
}

/** The payload of the actor's reveal: the coin its join committed to. */
export function revealBody(who: Actor, session: Uint8Array): { coin: Uint8Array } {
  const secrets = who.secrets.get(hex(session));
  if (!secrets) throw new Error(`${who.keyId} has not joined session ${hex(session)}`);
  return { coin: secrets.coin };
}

/** The payload of an enrollment of `who` as `lab`, valid from a minute ago for a day unless told. */
export function enrollmentBody(who: Actor, lab: string, validity: { from?: number; until?: number } = {}) {
  return {
    lab,
    name: `Lab ${lab}`,
    signing_key: who.keys.signing.publicKey,
    sealing_key: who.keys.sealing.publicKey,
    valid_from: validity.from ?? Date.now() - 60_000,
    valid_until: validity.until ?? Date.now() + 86_400_000,
  };
}

/** Seals the actor's next envelope in `session` (advancing its chain). */
export function seal(who: Actor, type: MessageType, session: Uint8Array, payload: unknown): OpenedEnvelope {
  const key = Buffer.from(session).toString('hex');
  const chain = who.chains.get(key) ?? { seq: 0 };
  const envelope = sealEnvelope(
    {
      type,
      session,
      seq: chain.seq,
      ...(chain.prev && { prev: chain.prev }),
      created: Date.now(),
      payload: payload as CborValue,
    },
    { keyId: who.keyId, secretKey: who.keys.signing.secretKey },
  );
  who.chains.set(key, { seq: chain.seq + 1, prev: envelope.hash });
  return envelope;
}

/** Seals the actor's next envelope in `session` without advancing its chain (for one that will be refused). */
export function sealAside(who: Actor, type: MessageType, session: Uint8Array, payload: unknown): OpenedEnvelope {
  const key = Buffer.from(session).toString('hex');
  const saved = who.chains.get(key);
  const envelope = seal(who, type, session, payload);
  if (saved) who.chains.set(key, saved);
  else who.chains.delete(key);
  return envelope;
}

export interface RequestOptions {
  signer?: Actor;
  headers?: Record<string, string>;
  /** Override pieces of the signature for bad-input tests. */
  created?: number;
  expires?: number;
  nonce?: string;
  contentType?: string;
  /** Sign (and digest) these bytes instead of the body sent. */
  signedBody?: Uint8Array;
  /** Sign this "@target-uri" instead of the relay's URL followed by the path. */
  signedTarget?: string;
}

export class TestRelay {
  dir: string;
  relay: RelayServer;
  admin: Actor;
  options: RelayServerOptions;
  /** Where the tests connect: the relay's URL, unless it was given a public URL of its own. */
  address: string;

  constructor(dir: string, relay: RelayServer, admin: Actor, options: RelayServerOptions, address: string) {
    this.dir = dir;
    this.relay = relay;
    this.admin = admin;
    this.options = options;
    this.address = address;
  }

  /**
   * A relay on loopback. With a `publicUrl` (which the tests sign, but cannot connect to), it
   * listens on a free port picked first, and the tests connect there.
   */
  static async start(options: Omit<RelayServerOptions, 'db'> = {}): Promise<TestRelay> {
    const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-'));
    const db = join(dir, 'relay.db');
    const init = await initRelay({ db });
    const adminKeys = await readKeyFile(init.adminKeyFile as string);
    const port = options.port ?? (options.publicUrl === undefined ? 0 : await freePort());
    // The operator's /metrics on a port of its own, as a forum would have it.
    const withMetrics = { metrics: { port: 0 }, ...options };
    const relay = await startRelayServer({ ...withMetrics, db, port });
    const address = options.publicUrl === undefined ? relay.url : `http://127.0.0.1:${port}`;
    return new TestRelay(dir, relay, actor(adminKeys), { ...withMetrics, db }, address);
  }

  /** The relay's metrics, from the operator's listener. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.relay.metricsUrl}/metrics`)).text();
  }

  /** The relay's public URL: what requests sign as "@target-uri". */
  get url(): string {
    return this.relay.url;
  }

  /** Stops the server and starts it again on the same database (and port). */
  async restart(): Promise<void> {
    const port = Number(new URL(this.address).port);
    await this.relay.close();
    this.relay = await startRelayServer({ ...this.options, port });
  }

  async close(): Promise<void> {
    await this.relay.close().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  async request(method: string, path: string, body?: Uint8Array, options: RequestOptions = {}): Promise<Answer> {
    const response = await fetch(`${this.address}${path}`, {
      method,
      headers: this.headersFor(method, path, body, options),
      ...(body !== undefined && { body }),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, body: parseBody(bytes, response.headers), headers: response.headers };
  }

  /** The headers `request` sends: the content type and, with a signer, the signature fields. */
  headersFor(method: string, path: string, body?: Uint8Array, options: RequestOptions = {}): Record<string, string> {
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/cbor';
    if (options.signer) {
      // Signed by the relay's clock when the test moves it.
      const created = options.created ?? Math.floor((this.options.now?.() ?? Date.now()) / 1000);
      Object.assign(
        headers,
        signRequest({
          method,
          targetUri: options.signedTarget ?? `${this.url}${path}`,
          ...(body !== undefined && { body: options.signedBody ?? body }),
          keyId: options.signer.keyId,
          secretKey: options.signer.keys.signing.secretKey,
          created,
          expires: options.expires ?? created + 60,
          nonce: options.nonce ?? randomBytes(18).toString('base64url'),
        }),
        options.headers,
      );
    }
    return headers;
  }

  /**
   * Sends exactly these headers through node:http, which fetch cannot: a Host of the test's
   * choosing, and a header repeated on several lines (an array value is sent as one line each).
   */
  async rawRequest(
    method: string,
    path: string,
    body: Uint8Array | undefined,
    headers: Record<string, string | string[]>,
  ): Promise<Answer> {
    const url = new URL(`${this.address}${path}`);
    return new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const answerHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const one of [value ?? []].flat()) answerHeaders.append(name, one);
            }
            const bytes = new Uint8Array(Buffer.concat(chunks));
            resolve({ status: res.statusCode ?? 0, body: parseBody(bytes, answerHeaders), headers: answerHeaders });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Enrolls a fresh lab (admin-signed enrollment over HTTP) and returns it. */
  async enroll(lab: string, validity: { from?: number; until?: number } = {}): Promise<Actor> {
    const who = actor(generateLabKeys());
    const envelope = seal(this.admin, 'enrollment', MEMBERSHIP_SESSION, enrollmentBody(who, lab, validity));
    const answer = await this.request('POST', '/v1/admin', envelope.bytes, { signer: this.admin });
    if (answer.status !== 200) throw new Error(`enrollment failed: ${JSON.stringify(answer.body)}`);
    return who;
  }

  async revoke(who: Actor, reason = 'test'): Promise<Answer> {
    const envelope = seal(this.admin, 'revocation', MEMBERSHIP_SESSION, {
      key: who.keyId,
      reason,
      effective: Date.now() - 1000,
    });
    return this.request('POST', '/v1/admin', envelope.bytes, { signer: this.admin });
  }

  /** Proposes a session among `labs` (the first proposes); returns its id. */
  async propose(labs: Actor[], proposal: Record<string, unknown> = {}): Promise<Uint8Array> {
    const { session, answer } = await this.postProposal(labs, proposal);
    if (answer.status !== 200) throw new Error(`proposal failed: ${JSON.stringify(answer.body)}`);
    return session;
  }

  /** Posts a proposal of a session among `labs` (the first proposes): its id and the relay's answer. */
  async postProposal(
    labs: Actor[],
    proposal: Record<string, unknown> = {},
  ): Promise<{ session: Uint8Array; answer: Answer }> {
    const session = randomBytes(16);
    const proposer = labs[0] as Actor;
    const envelope = seal(proposer, 'session_proposal', session, {
      labs: labs.map((l) => l.keyId),
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: 1000,
      ...proposal,
    });
    return { session, answer: await this.request('POST', '/v1/sessions', envelope.bytes, { signer: proposer }) };
  }
}

/** An answer's body, decoded by its content type. */
function parseBody(bytes: Uint8Array, headers: Headers): unknown {
  const type = headers.get('content-type') ?? '';
  if (type.startsWith('application/cbor')) return decodeDeterministic(bytes);
  if (type.startsWith('application/json')) return JSON.parse(Buffer.from(bytes).toString('utf8'));
  if (type.startsWith('text/')) return Buffer.from(bytes).toString('utf8');
  return bytes;
}

/** The error code of an answer, or undefined. */
export function codeOf(answer: Answer): string | undefined {
  return (answer.body as { error?: { code?: string } }).error?.code;
}

/** The error message of an answer, or undefined. */
export function messageOf(answer: Answer): string | undefined {
  return (answer.body as { error?: { message?: string } }).error?.message;
}

/** A TCP port free on loopback now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function cbor(value: unknown): Uint8Array {
  return encodeDeterministic(value as CborValue);
}

/** `count` e-mail tags blinded by a fresh key (`seed` makes another set of the same size). */
export function blindedTags(count: number, seed = 'x'): Uint8Array[] {
  const key = BlindingKey.generate();
  const out = Array.from({ length: count }, (_, i) => hashAndBlind(key, 'email', `${seed}${i}@example.org`));
  key.dispose();
  return out;
}

/** The payload of `owner`'s hop-0 e-mail chunk at `first`. */
export function uploadOf(owner: Actor, first: number, tags: Uint8Array[]) {
  return { kind: 'email', owner: owner.keyId, hop: 0, first, tags: packTags(tags) };
}
