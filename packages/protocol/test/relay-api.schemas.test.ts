/**
 * The relay's answers as wire/relay-api.ts declares them (spec/relay-api.md §3): a well-formed
 * answer decodes to itself after a CBOR round trip, an unknown field at any depth is ignored and
 * not copied (the lenient mode a client needs against a newer relay), every invalid field is named
 * with its path, and the JSON Schema given to the OpenAPI document says what the schema checks.
 */
import { fc, test as property } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import {
  decodeDeterministic,
  encodeDeterministic,
  inboxAnswerSchema,
  logEntriesSchema,
  type ProtocolError,
  parseWithSchema,
  relayAnswerJsonSchema,
  relayErrorBodySchema,
  relayInfoSchema,
  sessionStatusSchema,
} from '../src/index.js';

const key = new Uint8Array(32).fill(7);
const id = 'c'.repeat(32);
const limits = { max_body_bytes: 1, max_items_per_set: 2, request_timeout_ms: 3, rate_per_second: 4, rate_burst: 5 };
const info = { origin: 'relay.test', log_key: key, vkey: 'v', relay_key_id: id, admin_key: key, limits };
const status = {
  session: new Uint8Array(16),
  proposal: 0,
  proposal_envelope: Uint8Array.of(1, 2),
  labs: [id, 'd'.repeat(32)],
  joined: [id],
  state: 'joining',
  deadline: 5,
  waiting_on: ['d'.repeat(32)],
  abort: { reason: 'late', culprit: id },
};

function pathsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect((error as ProtocolError).code).toBe('INVALID_MESSAGE');
    return (error as ProtocolError).issues.map((i) => i.path.join('.'));
  }
  throw new Error('expected the answer to be refused');
}

const inboxItem = fc.record(
  {
    n: fc.nat(),
    type: fc.constantFrom('blind_task', 'result_rows', 'abort'),
    index: fc.nat(),
    envelope: fc.uint8Array({ maxLength: 64 }),
    hop: fc.nat(),
  },
  { requiredKeys: ['n', 'type', 'index', 'envelope'] },
);
const inbox = fc.record({
  items: fc.array(inboxItem, { maxLength: 5 }),
  state: fc.constantFrom('joining', 'exchanging', 'done', 'aborted'),
});

describe('relay answers', () => {
  property.prop([inbox])('an inbox answer survives CBOR and decodes to itself', (answer) => {
    const decoded = decodeDeterministic(encodeDeterministic(answer));
    expect(parseWithSchema(inboxAnswerSchema, decoded, 'inbox')).toEqual(answer);
  });

  property.prop([inbox, fc.string({ minLength: 1, maxLength: 8 }), fc.nat()])(
    'an unknown field, at the top or in an item, is ignored and not copied',
    (answer, name, value) => {
      const field = `x_${name}`;
      const extended = { ...answer, [field]: value, items: answer.items.map((item) => ({ ...item, [field]: value })) };
      const parsed = parseWithSchema(inboxAnswerSchema, extended, 'inbox');
      expect(parsed).toEqual(answer);
      expect(Object.hasOwn(parsed, field)).toBe(false);
      for (const item of parsed.items) expect(Object.hasOwn(item, field)).toBe(false);
    },
  );

  test('the byte strings of an answer are the decoded ones, not copies', () => {
    const envelope = new Uint8Array(1024);
    const parsed = parseWithSchema(
      inboxAnswerSchema,
      { items: [{ n: 0, type: 'abort', index: 3, envelope }], state: 'aborted' },
      'inbox',
    );
    expect(parsed.items[0]?.envelope).toBe(envelope);
  });

  test('every invalid field is named with its path', () => {
    const paths = pathsOf(() =>
      parseWithSchema(
        inboxAnswerSchema,
        { items: [{ n: -1, type: 'nope', index: 1, envelope: 'x', hop: 1.5 }, { n: 1 }], state: 'gone' },
        'inbox',
      ),
    );
    expect(paths.sort()).toEqual(
      [
        'items.0.n',
        'items.0.type',
        'items.0.envelope',
        'items.0.hop',
        'items.1.type',
        'items.1.index',
        'items.1.envelope',
        'state',
      ].sort(),
    );
  });

  test('lengths of keys, hashes and session ids are checked', () => {
    expect(parseWithSchema(relayInfoSchema, info, 'info')).toEqual(info);
    expect(
      pathsOf(() =>
        parseWithSchema(
          relayInfoSchema,
          { ...info, log_key: new Uint8Array(31), relay_key_id: 'C'.repeat(32), limits: { ...limits, rate_burst: -1 } },
          'info',
        ),
      ).sort(),
    ).toEqual(['limits.rate_burst', 'log_key', 'relay_key_id']);
    expect(parseWithSchema(sessionStatusSchema, status, 'status')).toEqual(status);
    expect(
      pathsOf(() => parseWithSchema(sessionStatusSchema, { ...status, session: new Uint8Array(32) }, 'status')),
    ).toEqual(['session']);
    expect(
      pathsOf(() =>
        parseWithSchema(
          logEntriesSchema,
          { entries: [{ index: 0, leaf_hash: key, type: 'join', sender: id, session: key }] },
          'entries',
        ),
      ),
    ).toEqual(['entries.0.session']);
  });

  test('the optional fields of spec §3 may be left out', () => {
    const { deadline: _, abort: __, ...bare } = status;
    expect(parseWithSchema(sessionStatusSchema, bare, 'status')).toEqual(bare);
    expect(parseWithSchema(sessionStatusSchema, { ...status, abort: { reason: 'r' } }, 'status').abort).toEqual({
      reason: 'r',
    });
  });

  test('an error body needs a code in the form of spec/errors.md', () => {
    expect(parseWithSchema(relayErrorBodySchema, { error: { code: 'NOT_FOUND', message: 'no' } }, 'error')).toEqual({
      error: { code: 'NOT_FOUND', message: 'no' },
    });
    expect(
      pathsOf(() =>
        parseWithSchema(relayErrorBodySchema, { error: { code: 'not found', message: 1 } }, 'error'),
      ).sort(),
    ).toEqual(['error.code', 'error.message']);
  });
});

describe('the JSON Schema of an answer (for the OpenAPI document)', () => {
  test('names the required fields, allows unknown ones, and gives byte strings as binary', () => {
    const json = relayAnswerJsonSchema(sessionStatusSchema) as {
      type: string;
      required: string[];
      additionalProperties?: unknown;
      properties: Record<string, { type?: string; format?: string; enum?: string[] }>;
    };
    expect(json.type).toBe('object');
    expect(json.required.sort()).toEqual([
      'joined',
      'labs',
      'proposal',
      'proposal_envelope',
      'session',
      'state',
      'waiting_on',
    ]);
    expect(json.additionalProperties).toBeUndefined();
    expect(json.properties.session).toMatchObject({ type: 'string', format: 'binary' });
    expect(json.properties.state?.enum).toEqual(['joining', 'exchanging', 'proving', 'done', 'aborted']);
    expect(json).not.toHaveProperty('$schema');
  });
});
