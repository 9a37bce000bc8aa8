/**
 * The relay answers exactly what @overlap/protocol's wire/relay-api.ts (and wire/transcript.ts)
 * declare: every answer of a real relay, over HTTP, in a session with a blind task and one with an
 * abort, decodes with its route's schema to itself — nothing undeclared that a strict reader would
 * drop, nothing declared missing — and the OpenAPI document describes each answer with that
 * route's schema.
 */
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import { leafHash } from '@overlap/log';
import { packTags, parseWithSchema, relayAnswerJsonSchema } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { matchRoute, ROUTES } from '../src/http/routes.js';
import { type Answer, hex, joinBody, type RequestOptions, revealBody, seal, TestRelay } from './support/harness.js';

function tags(count: number): Uint8Array[] {
  const key = BlindingKey.generate();
  const out = Array.from({ length: count }, (_, i) => hashAndBlind(key, 'email', `answer${i}@example.org`));
  key.dispose();
  return out;
}

describe('relay answers', () => {
  let t: TestRelay;
  /** "METHOD /template" -> the decoded answers seen for that route. */
  const seen = new Map<string, unknown[]>();

  /** Keeps a 200 answer under its route. */
  function record(method: string, path: string, answer: Answer): unknown {
    expect({ path, status: answer.status }).toEqual({ path, status: 200 });
    const match = matchRoute(method, path.split('?')[0] as string);
    if (!match || !('route' in match)) throw new Error(`no route for ${method} ${path}`);
    const key = `${match.route.method} ${match.route.path}`;
    seen.set(key, [...(seen.get(key) ?? []), answer.body]);
    return answer.body;
  }

  async function ask(method: string, path: string, body?: Uint8Array, options: RequestOptions = {}): Promise<unknown> {
    return record(method, path, await t.request(method, path, body, options));
  }

  beforeAll(async () => {
    t = await TestRelay.start();
    const a = await t.enroll('a');
    const b = await t.enroll('b');
    record('POST', '/v1/admin', await t.revoke(await t.enroll('c')));
    const propose = async (): Promise<{ session: Uint8Array; path: string }> => {
      const { session, answer } = await t.postProposal([a, b], { maxItemsPerKind: 10 });
      record('POST', '/v1/sessions', answer);
      return { session, path: `/v1/sessions/${hex(session)}` };
    };

    // A session where b has a blind task: a commits two tags, b none.
    const one = await propose();
    for (const [lab, size] of [
      [a, 2],
      [b, 0],
    ] as const) {
      const join = seal(lab, 'join', one.session, joinBody(lab, one.session, { email: size }));
      await ask('POST', `${one.path}/envelopes`, join.bytes, { signer: lab });
    }
    const chunk = seal(a, 'tag_chunk', one.session, {
      kind: 'email',
      owner: a.keyId,
      hop: 0,
      first: 0,
      tags: packTags(tags(2)),
    });
    const receipt = (await ask('POST', `${one.path}/envelopes`, chunk.bytes, { signer: a })) as { index: number };
    await ask('GET', `${one.path}/inbox?after=0&wait=5000`, undefined, { signer: b });
    await ask('GET', `${one.path}/receipts/${receipt.index}`, undefined, { signer: a });

    // A session in its proof round (both sets empty: every hop is in at once), then done: the inbox
    // holds the relay's proof request, challenge and result rows.
    const three = await propose();
    for (const lab of [a, b]) {
      const join = seal(lab, 'join', three.session, joinBody(lab, three.session, { email: 0 }));
      await ask('POST', `${three.path}/envelopes`, join.bytes, { signer: lab });
    }
    await ask('GET', three.path, undefined, { signer: a });
    for (const lab of [a, b]) {
      const reveal = seal(lab, 'reveal', three.session, revealBody(lab, three.session));
      await ask('POST', `${three.path}/envelopes`, reveal.bytes, { signer: lab });
    }
    await ask('GET', `${three.path}/inbox?after=0`, undefined, { signer: a });

    // A session b aborts, so its status carries the abort.
    const two = await propose();
    const abort = seal(b, 'abort', two.session, { reason: 'not today', culprit: a.keyId });
    await ask('POST', `${two.path}/envelopes`, abort.bytes, { signer: b });
    await ask('GET', two.path, undefined, { signer: a });
    await ask('GET', `${two.path}/inbox?after=0`, undefined, { signer: a });

    await ask('GET', '/v1/sessions', undefined, { signer: a });
    await ask('GET', `${one.path}/transcript`, undefined, { signer: t.admin });
    await ask('GET', `${two.path}/transcript`, undefined, { signer: t.admin });
    await ask('GET', '/v1/relay');
    await ask('GET', '/v1/membership', undefined, { signer: a });
    await ask('GET', '/healthz');
    const size = t.relay.core.latest.size;
    await ask('GET', `/v1/log/inclusion?index=1&size=${size}`);
    await ask('GET', `/v1/log/inclusion?leaf=${hex(leafHash(chunk.bytes))}`);
    await ask('GET', `/v1/log/consistency?from=1&to=${size}`);
    await ask('GET', `/v1/log/entries?start=0&end=${size}`, undefined, { signer: a });
  });
  afterAll(async () => t.close());

  const answered = ROUTES.filter((r) => r.answer !== undefined);

  test('every route but the text ones and the OpenAPI document names its answer schema', () => {
    expect(ROUTES.filter((r) => r.answer === undefined).map((r) => r.path)).toEqual([
      '/openapi.json',
      '/v1/log/checkpoint',
      '/v1/log/witnessed',
    ]);
  });

  test('each such route was asked here', () => {
    expect([...seen.keys()].sort()).toEqual(answered.map((r) => `${r.method} ${r.path}`).sort());
  });

  test.each(answered.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: every answer is exactly its schema (decoding strips nothing)',
    (key, route) => {
      const answers = seen.get(key) ?? [];
      expect(answers.length).toBeGreaterThan(0);
      for (const answer of answers) expect(parseWithSchema(route.answer as never, answer, key)).toEqual(answer);
    },
  );

  test('the inbox answers include a blind task with its hop and every relay-signed item', () => {
    const items = (seen.get('GET /v1/sessions/{id}/inbox') as { items: { type: string; hop?: number }[] }[]).flatMap(
      (a) => a.items,
    );
    expect(items).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'blind_task', hop: 1 })]));
    expect(new Set(items.map((i) => i.type))).toEqual(
      new Set(['blind_task', 'proof_request', 'challenge', 'result_rows', 'abort']),
    );
  });

  test('the status answers include a session in its proof round', () => {
    const states = (seen.get('GET /v1/sessions/{id}') as { state: string }[]).map((s) => s.state);
    expect(states).toContain('proving');
  });

  test("the OpenAPI document's 200 schemas are the routes' answer schemas", async () => {
    const doc = (await t.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: { '200': { content: Record<string, { schema: unknown }> } } }>>;
    };
    for (const route of answered) {
      const content = doc.paths[route.path]?.[route.method.toLowerCase()]?.responses['200'].content ?? {};
      const [schema] = Object.values(content).map((c) => c.schema);
      expect({ route: route.path, schema }).toEqual({
        route: route.path,
        schema: relayAnswerJsonSchema(route.answer as never),
      });
    }
  });
});
