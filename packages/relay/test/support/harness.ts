/**
 * A real relay for tests: a fresh home in a temp directory (SQLite file, key files), the HTTP server
 * on a free loopback port, an admin that enrolls labs, and raw signed requests — so tests can send
 * exactly the bytes they mean to, good or bad.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLabKeys, type LabKeys, readKeyFile } from '@overlap/crypto';
import {
  type CborValue,
  decodeDeterministic,
  encodeDeterministic,
  type MessageType,
  type OpenedEnvelope,
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
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export function actor(keys: LabKeys): Actor {
  return { keys, keyId: keys.keyId, chains: new Map() };
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
}

export class TestRelay {
  dir: string;
  relay: RelayServer;
  admin: Actor;
  options: RelayServerOptions;

  constructor(dir: string, relay: RelayServer, admin: Actor, options: RelayServerOptions) {
    this.dir = dir;
    this.relay = relay;
    this.admin = admin;
    this.options = options;
  }

  static async start(options: Omit<RelayServerOptions, 'db'> = {}): Promise<TestRelay> {
    const dir = mkdtempSync(join(tmpdir(), 'overlap-relay-'));
    const db = join(dir, 'relay.db');
    const init = await initRelay({ db });
    const adminKeys = await readKeyFile(init.adminKeyFile as string);
    const relay = await startRelayServer({ ...options, db, port: options.port ?? 0 });
    return new TestRelay(dir, relay, actor(adminKeys), { ...options, db });
  }

  get url(): string {
    return this.relay.url;
  }

  /** Stops the server and starts it again on the same database (and port). */
  async restart(): Promise<void> {
    const port = Number(new URL(this.relay.url).port);
    await this.relay.close();
    this.relay = await startRelayServer({ ...this.options, port });
  }

  async close(): Promise<void> {
    await this.relay.close().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  async request(method: string, path: string, body?: Uint8Array, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/cbor';
    if (options.signer) {
      const created = options.created ?? Math.floor(Date.now() / 1000);
      Object.assign(
        headers,
        signRequest({
          method,
          targetUri: `${this.url}${path}`,
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
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body }),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    let parsed: unknown = bytes;
    if (type.startsWith('application/cbor')) parsed = decodeDeterministic(bytes);
    else if (type.startsWith('application/json')) parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    else if (type.startsWith('text/')) parsed = Buffer.from(bytes).toString('utf8');
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /** Enrolls a fresh lab (admin-signed enrollment over HTTP) and returns it. */
  async enroll(lab: string, validity: { from?: number; until?: number } = {}): Promise<Actor> {
    const who = actor(generateLabKeys());
    const envelope = seal(this.admin, 'enrollment', MEMBERSHIP_SESSION, {
      lab,
      name: `Lab ${lab}`,
      signing_key: who.keys.signing.publicKey,
      sealing_key: who.keys.sealing.publicKey,
      valid_from: validity.from ?? Date.now() - 60_000,
      valid_until: validity.until ?? Date.now() + 86_400_000,
    });
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
    const session = randomBytes(16);
    const proposer = labs[0] as Actor;
    const envelope = seal(proposer, 'session_proposal', session, {
      labs: labs.map((l) => l.keyId),
      kinds: ['email'],
      policy: { kind: 'labs' },
      maxItemsPerKind: 1000,
      ...proposal,
    });
    const answer = await this.request('POST', '/v1/sessions', envelope.bytes, { signer: proposer });
    if (answer.status !== 200) throw new Error(`proposal failed: ${JSON.stringify(answer.body)}`);
    return session;
  }
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function cbor(value: unknown): Uint8Array {
  return encodeDeterministic(value as CborValue);
}
