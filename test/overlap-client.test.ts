/**
 * The SDK end to end over real HTTP: a forum admin enrolls three labs, one proposes a session by
 * lab names, each reads its suspects from a file in a different format, and every lab's shared
 * indicators (by other labs' names) equal the plaintext truth. A pinned log key that the relay does
 * not have, and an unenrolled lab, are refused with typed errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, labIdentityOf, OverlapClient, parseLabIdentity, readIndicatorFile } from '@overlap/client';
import { generateLabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-sdk-'));
let relay: RelayServer;
let pool: BatchPool;
beforeAll(async () => {
  await initRelay({ db: join(dir, 'relay.db') });
  relay = await startRelayServer({ db: join(dir, 'relay.db'), port: 0 });
  pool = new BatchPool({ workers: 1 });
});
afterAll(async () => {
  await pool.close();
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

test('three labs find what they share, by lab name, from messy files', async () => {
  const admin = new ForumAdmin(relay.url, await readKeyFile(join(dir, 'admin.key')));
  const names = ['north', 'south', 'east'];
  const keys = names.map(() => generateLabKeys());
  for (const [i, name] of names.entries()) {
    await admin.enroll(
      parseLabIdentity(JSON.parse(JSON.stringify(labIdentityOf(keys[i] as (typeof keys)[number])))),
      name,
    );
  }
  writeFileSync(
    join(dir, 'north.csv'),
    'kind,value\nemail,Shared@Example.COM\nemail,north-only@example.com\nip,203.0.113.7\n',
  );
  writeFileSync(
    join(dir, 'south.jsonl'),
    '{"kind":"email","value":"shared@example.com"}\n{"kind":"ip","value":"203.0.113.7"}\n{"kind":"ip","value":"not an ip"}\n',
  );
  writeFileSync(join(dir, 'east.txt'), 'shared@example.com\neast@example.com\n');
  const inputs = await Promise.all([
    readIndicatorFile(join(dir, 'north.csv')),
    readIndicatorFile(join(dir, 'south.jsonl')),
    readIndicatorFile(join(dir, 'east.txt'), { kind: 'email' }),
  ]);
  expect(inputs[1]?.rejected).toEqual([expect.objectContaining({ line: 3 })]);
  const clients = await Promise.all(keys.map((k) => OverlapClient.connect({ relayUrl: relay.url, keys: k, pool })));
  const north = clients[0] as OverlapClient;
  const session = await north.createSession({
    labs: names,
    kinds: ['email', 'ip'],
    policy: 'labs',
    maxItemsPerKind: 100,
  });
  const terms = await (clients[2] as OverlapClient).terms(session);
  expect(terms.labs.map((l) => l.lab)).toEqual(names);
  expect(terms.proposer).toBe(north.keyId);
  await expect(
    (clients[2] as OverlapClient).run('0'.repeat(32), inputs[2]?.sets ?? {}, { terms }),
  ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/terms given are session/) });
  // East runs on the terms it was just given (not asked again); the others ask.
  const outcomes = await Promise.all(
    clients.map((c, i) => c.run(session, inputs[i]?.sets ?? {}, i === 2 ? { terms } : {})),
  );
  expect(outcomes.map((o) => o.results)).toEqual([
    [
      { kind: 'email', value: 'shared@example.com', labs: ['east', 'south'] },
      { kind: 'ip', value: '203.0.113.7', labs: ['south'] },
    ],
    [
      { kind: 'email', value: 'shared@example.com', labs: ['east', 'north'] },
      { kind: 'ip', value: '203.0.113.7', labs: ['north'] },
    ],
    [{ kind: 'email', value: 'shared@example.com', labs: ['north', 'south'] }],
  ]);
});

test('a pinned log key the relay does not hold, and an unenrolled lab, are refused', async () => {
  const stranger = generateLabKeys();
  await expect(
    OverlapClient.connect({
      relayUrl: relay.url,
      keys: stranger,
      logKey: 'other+01234567+AXu4Q2pR3tHKsXfIdpx5X+jC7Rd3Vj2XBsyCwIZ1mYYp',
    }),
  ).rejects.toMatchObject({ code: expect.stringMatching(/RECEIPT_INVALID|BAD_ARGUMENT/) });
  const client = await OverlapClient.connect({ relayUrl: relay.url, keys: stranger });
  await expect(client.me()).rejects.toMatchObject({ code: 'NOT_ENROLLED' });
});

test('one admin enrolling several labs at once: each enrollment extends the chain after the one before', async () => {
  const admin = new ForumAdmin(relay.url, await readKeyFile(join(dir, 'admin.key')));
  const labs = Array.from({ length: 5 }, () => generateLabKeys());
  const enrolled = await Promise.all(
    labs.map((keys, i) =>
      admin.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, `at-once-${i}`),
    ),
  );
  expect(new Set(enrolled.map((e) => e.index)).size).toBe(5);
  expect(enrolled.map((e) => e.keyId)).toEqual(labs.map((keys) => keys.keyId));
});
