/**
 * What someone on the network who holds no enrolled key can read (spec/relay-api.md §3.1), while a
 * session between two labs runs: checkpoints, proofs, the relay's own identity and limits — and
 * nothing that says who is enrolled, who exchanges with whom, or how much a lab sent. Every public
 * answer is searched for the labs' names, key ids and the session's id; the membership and the
 * log's entry metadata answer only signed requests of enrolled keys; `/metrics` is not on the public
 * listener at all. The same reads by an enrolled lab (not of the session) and by the admin work.
 */

import { type BlindingKey, hashAndBlind } from '@overlap/crypto';
import { leafHash } from '@overlap/log';
import { packTags } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Actor, codeOf, hex, joinBody, seal, TestRelay } from './support/harness.js';

let t: TestRelay;
let a: Actor;
let b: Actor;
let c: Actor;
let session: Uint8Array;

beforeAll(async () => {
  t = await TestRelay.start();
  a = await t.enroll('lab-alpha');
  b = await t.enroll('lab-bravo');
  c = await t.enroll('lab-charlie');
  session = await t.propose([a, b], { maxItemsPerKind: 100 });
  const path = `/v1/sessions/${hex(session)}/envelopes`;
  for (const [who, size] of [
    [a, 37],
    [b, 5],
  ] as const) {
    expect(
      (
        await t.request('POST', path, seal(who, 'join', session, joinBody(who, session, { email: size })).bytes, {
          signer: who,
        })
      ).status,
    ).toBe(200);
  }
  const tags = packTags(
    Array.from({ length: 37 }, (_, i) =>
      hashAndBlind((a.secrets.get(hex(session)) as { key: BlindingKey }).key, 'email', `a${i}@x`),
    ),
  );
  const chunk = seal(a, 'tag_chunk', session, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags });
  expect((await t.request('POST', path, chunk.bytes, { signer: a })).status).toBe(200);
});
afterAll(async () => t.close());

/** Strings an outsider must not learn from the relay. */
const secrets = () => [hex(session), a.keyId, b.keyId, c.keyId, 'lab-alpha', 'lab-bravo', 'lab-charlie'];

function readable(body: unknown): string {
  if (body instanceof Uint8Array) return Buffer.from(body).toString('latin1') + Buffer.from(body).toString('hex');
  return JSON.stringify(body, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

describe('an outsider', () => {
  test('reads checkpoints, proofs and the relay identity, none of which names a lab, a key of a lab or the session', async () => {
    const size = t.relay.core.latest.size;
    const reads = [
      '/healthz',
      '/openapi.json',
      '/v1/relay',
      '/v1/log/checkpoint',
      `/v1/log/inclusion?index=${size - 1}&size=${size}`,
      `/v1/log/consistency?from=1&to=${size}`,
    ];
    for (const path of reads) {
      const answer = await t.request('GET', path);
      expect(answer.status, path).toBe(200);
      const text = readable(answer.body);
      for (const secret of secrets()) expect(text, `${path} shows ${secret}`).not.toContain(secret);
    }
  });

  test('is refused the membership, the entries, the sessions and a session (401), and finds no /metrics (404)', async () => {
    for (const path of [
      '/v1/membership',
      `/v1/log/entries?start=0&end=2`,
      '/v1/sessions',
      `/v1/sessions/${hex(session)}`,
    ]) {
      const answer = await t.request('GET', path);
      expect({ path, status: answer.status, code: codeOf(answer) }).toEqual({
        path,
        status: 401,
        code: 'SIGNATURE_MISSING',
      });
      for (const secret of secrets()) expect(readable(answer.body)).not.toContain(secret);
    }
    expect((await t.request('GET', '/metrics')).status).toBe(404);
  });

  test("an enrolled lab and the admin read the membership and the entries' metadata (signed)", async () => {
    const size = t.relay.core.latest.size;
    for (const who of [c, t.admin]) {
      const members = await t.request('GET', '/v1/membership', undefined, { signer: who });
      expect(members.status).toBe(200);
      const entries = await t.request('GET', `/v1/log/entries?start=0&end=${size}`, undefined, { signer: who });
      expect(entries.status).toBe(200);
      const list = (
        entries.body as { entries: { index: number; leaf_hash: Uint8Array; sender: string; envelope?: Uint8Array }[] }
      ).entries;
      expect(list.map((e) => e.sender)).toContain(a.keyId);
      for (const e of list) if (e.envelope) expect(leafHash(e.envelope)).toEqual(e.leaf_hash);
    }
  });

  test("the operator's listener has the byte counts an outsider must not see", async () => {
    const text = await t.metrics();
    expect(text).toMatch(/^overlap_relay_bytes_in_total [1-9]/m);
  });
});
