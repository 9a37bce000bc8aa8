/**
 * A lab's trust roots and remembered checkpoint across runs (the SDK's trust store, issue "Labs
 * trust nothing the relay says without proof"), against relays on loopback — the real one, and
 * rogue ones started at its URL from copies of its home: the same relay key and origin, with
 *  - another admin key (the reproduction of a forged membership): refused, both keys shown;
 *  - another history of the same size (a fork): refused, evidence written that proves it alone;
 *  - an older history (a rollback): refused, evidence written.
 * Each "run" is a new OverlapClient on the same trust directory, as a new process would be; the
 * files are 0600 in 0700 folders under a umask of 022.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, checkLogEvidence, OverlapClient, RelayClient } from '@overlap/client';
import { generateLabKeys, toHex } from '@overlap/crypto';
import { readKeyFile } from '@overlap/crypto/node';
import { formatVerifierKey } from '@overlap/log';
import { type CborValue, encodeDeterministic } from '@overlap/protocol';
import { initRelay, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, setMeta } from '../packages/relay/src/store/database.js';
import { type Actor, TestRelay } from '../packages/relay/test/support/harness.js';
import { cli } from './support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-lab-trust-'));
const trustDir = join(dir, 'lab', 'trust');
let t: TestRelay;
let lab: Actor;
let port: number;
let savedUmask: number;
const forkHome = join(dir, 'fork-home');
let chainsAtFork: Actor['chains'];
let remembered: number;

/** A verifier key of the same origin and another key. */
const rogueLikeKey = () => formatVerifierKey(t.relay.origin, generateLabKeys().signing.publicKey);

const connect = () => OverlapClient.connect({ relayUrl: t.url, keys: lab.keys, trustDir });

async function refusal(run: () => Promise<unknown>): Promise<ClientError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

/** Starts a relay from a copy of `home` on the real relay's port (the real one stopped). */
async function rogueFrom(home: string, edit?: (db: ReturnType<typeof openDatabase>) => void) {
  const copy = mkdtempSync(join(dir, 'rogue-'));
  cpSync(home, copy, { recursive: true });
  if (edit) {
    const db = openDatabase(join(copy, 'relay.db'));
    try {
      edit(db);
    } finally {
      db.close();
    }
  }
  return startRelayServer({ db: join(copy, 'relay.db'), port, controlSocket: false });
}

beforeAll(async () => {
  savedUmask = process.umask(0o022);
  t = await TestRelay.start();
  port = Number(new URL(t.url).port);
  lab = await t.enroll('the-lab');
  await t.enroll('lab-b');
  // A copy of the relay's home as it was at this size, for the rogue relays below.
  await t.relay.close();
  cpSync(t.dir, forkHome, { recursive: true });
  chainsAtFork = new Map(t.admin.chains);
  await t.restart();
  await t.enroll('lab-c');
  await t.enroll('lab-d');
});
afterAll(async () => {
  process.umask(savedUmask);
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a lab's trust roots and remembered checkpoint", () => {
  test("first run: the relay's keys are pinned with a loud warning, in a 0600 file in a 0700 folder; the next run is quiet", async () => {
    const first = await connect();
    expect(first.trustWarnings).toHaveLength(1);
    expect(first.trustWarnings[0]).toMatch(
      /^TRUSTING ON FIRST USE: pinned the log key .* and the admin key [0-9a-f]{64}/,
    );
    expect(first.logKeyPinned).toBe(false);
    await first.relay.checkpoint();
    remembered = t.relay.core.latest.size;
    const [file] = readdirSync(trustDir).filter((name) => name.endsWith('.json'));
    const path = join(trustDir, file as string);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(trustDir).mode & 0o777).toBe(0o700);
    const record = JSON.parse(readFileSync(path, 'utf8'));
    expect(record).toMatchObject({ type: 'overlap-trust', relay: t.url, pinned: 'first-use', log_key: t.relay.vkey });
    expect(record.checkpoint).toContain(`\n${remembered}\n`);
    const second = await connect();
    expect(second.trustWarnings).toEqual([]);
    expect(second.logKeyPinned).toBe(true);
  });

  test('a relay with the same log key and origin but another admin key (a forged membership) is refused, showing both', async () => {
    const real = t.relay.adminPublicKey;
    const fakeAdmin = generateLabKeys();
    const fake = toHex(fakeAdmin.signing.publicKey);
    // A fresh relay home with the real relay key and origin, and the forger's admin key.
    const home = mkdtempSync(join(dir, 'rogue-fresh-'));
    await initRelay({
      db: join(home, 'relay.db'),
      origin: t.relay.origin,
      adminPublicKey: fakeAdmin.signing.publicKey,
    });
    cpSync(join(t.dir, 'relay.key'), join(home, 'relay.key'));
    const relayKeys = await readKeyFile(join(t.dir, 'relay.key'));
    await t.relay.close();
    const rogue = await rogueFrom(home, (db) => {
      setMeta(db, 'relay_key_id', relayKeys.keyId);
      setMeta(db, 'relay_key', toHex(relayKeys.signing.publicKey));
    });
    try {
      expect(rogue.vkey).toBe(t.relay.vkey);
      const error = await refusal(connect);
      expect(error.code).toBe('TRUST_ROOT_MISMATCH');
      expect(error.message).toContain(`announces admin key ${fake}`);
      expect(error.message).toContain(`this lab trusts ${real}`);
    } finally {
      await rogue.close();
      await t.restart();
    }
  });

  test('a relay that shows another history of the same size (a fork) is refused; the evidence proves it on its own', async () => {
    await t.relay.close();
    const rogue = await rogueFrom(forkHome);
    const realChains = t.admin.chains;
    try {
      // The rogue's log is the real one up to the fork; two other enrollments bring it to the size the lab remembers.
      t.admin.chains = new Map(chainsAtFork);
      await t.enroll('rogue-x');
      await t.enroll('rogue-y');
      expect(rogue.core.latest.size).toBe(remembered);
      const client = await connect();
      expect(client.trustWarnings).toEqual([]); // the same keys
      const error = await refusal(() => client.relay.checkpoint());
      expect(error.code).toBe('LOG_INCONSISTENT');
      const path = /evidence written to (\S+\.json)/.exec(error.message)?.[1] as string;
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const verdict = await checkLogEvidence(path, t.relay.vkey);
      expect(verdict).toMatchObject({ verdict: 'proven', sizes: [remembered, remembered] });
      const shown = await cli('audit', 'evidence', '--file', path, '--log-key', t.relay.vkey);
      expect(shown.code).toBe(0);
      expect(shown.out).toMatch(/^PROVEN: the log \S+ forked: two trees of size \d+ with different roots/);
      // Under another log key, the notes are not the log's: refused, exit 64.
      const other = await cli('audit', 'evidence', '--file', path, '--log-key', rogueLikeKey());
      expect(other.code).toBe(64);
      expect(other.err).toMatch(/not signed by the log key/);
    } finally {
      t.admin.chains = realChains;
      await rogue.close();
      await t.restart();
    }
  });

  test('a relay that went back to an older history (a rollback) is refused; the evidence names both checkpoints', async () => {
    await t.relay.close();
    const rogue = await rogueFrom(forkHome);
    try {
      const client = await connect();
      const error = await refusal(() => client.relay.checkpoint());
      expect(error.code).toBe('LOG_INCONSISTENT');
      expect(error.message).toMatch(/cannot prove checkpoint \d+ a prefix of checkpoint \d+/);
      const path = /evidence written to (\S+\.json)/.exec(error.message)?.[1] as string;
      const evidence = JSON.parse(readFileSync(path, 'utf8'));
      expect(evidence).toMatchObject({ type: 'overlap-log-evidence', kind: 'rollback', proof: null });
      const verdict = await checkLogEvidence(path);
      expect(verdict.verdict).toBe('signed');
      expect(verdict.sizes).toEqual([remembered, rogue.core.latest.size]);
    } finally {
      await rogue.close();
      await t.restart();
    }
  });

  test('an older relay that refuses the consistency proof otherwise than 400 is not called a rollback: no evidence, its refusal raised', async () => {
    await t.relay.close();
    const copy = mkdtempSync(join(dir, 'older-'));
    cpSync(forkHome, copy, { recursive: true });
    const older = await startRelayServer({ db: join(copy, 'relay.db'), port: 0, controlSocket: false });
    // In front, on the relay's port: everything passed on, but the proof refused with 403.
    const front = createServer((request, response) => {
      if (request.url?.startsWith('/v1/log/consistency')) {
        request.resume();
        response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden\n');
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const answer = await fetch(`${older.url}${request.url}`, { method: request.method ?? 'GET' });
        const body = Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(body);
      });
    });
    await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
    const evidenceBefore = readdirSync(join(trustDir, 'evidence')).length;
    try {
      const client = await connect();
      const error = await refusal(() => client.relay.checkpoint());
      expect([error.code, error.status]).toEqual(['RELAY_REFUSED', 403]);
      expect(readdirSync(join(trustDir, 'evidence')).length).toBe(evidenceBefore);
    } finally {
      await new Promise((resolve) => front.close(resolve));
      await older.close();
      await t.restart();
    }
  });

  test('a relay that announces the pinned log key but another key for its envelopes (log_key, relay_key_id) is refused', async () => {
    const info = (await t.request('GET', '/v1/relay')).body as Record<string, unknown>;
    const other = generateLabKeys();
    const forged = { ...info, log_key: other.signing.publicKey, relay_key_id: other.keyId };
    const fake = createServer((request, response) => {
      request.resume();
      const body = encodeDeterministic(forged as CborValue);
      response.writeHead(request.url === '/v1/relay' ? 200 : 404, { 'content-type': 'application/cbor' }).end(body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const error = await refusal(() =>
        OverlapClient.connect({
          relayUrl: url,
          keys: lab.keys,
          logKey: t.relay.vkey,
          adminKey: Buffer.from(t.relay.adminPublicKey, 'hex'),
        }),
      );
      expect(error.code).toBe('TRUST_ROOT_MISMATCH');
      expect(error.message).toContain(`relay_key_id ${other.keyId}, which are not the key of the trusted log key`);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  test('a checkpoint or witnessed note over 64 KiB is refused as it streams in, naming the limit', async () => {
    const fake = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`${'x'.repeat(70_000)}\n`);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const relay = new RelayClient({ url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
      for (const read of [() => relay.checkpoint(), () => relay.witnessed()]) {
        const error = await refusal(read);
        expect(error.code).toBe('BAD_RESPONSE');
        expect(error.message).toMatch(/65536/);
      }
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  test('the real relay, back: its checkpoints are consistent with the remembered one, and the lab goes on', async () => {
    await t.enroll('lab-e');
    const client = await connect();
    await client.relay.checkpoint();
    expect(client.relay.lastCheckpoint?.size).toBe(t.relay.core.latest.size);
  });
});
