/**
 * spec/errors.md is the one table of error codes: this test reads it and checks that the relay's
 * statuses (errors.ts), its OpenAPI document, the HTTP-signature codes and the codes of the
 * protocol and log libraries are exactly the table's — no code missing, none extra, none with
 * another status.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BlindingKey, hashAndBlind } from '@overlap/crypto';
import type { LogErrorCode } from '@overlap/log';
import {
  HTTP_SIGNATURE_ERROR_CODES,
  type HttpSignatureErrorCode,
  type MessageErrorCode,
  type ProtocolErrorCode,
  packTags,
} from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HTTP_ERROR_CODES, httpStatusOf, type RelayHttpErrorCode } from '../src/index.js';
import { codeOf, hex, joinBody, messageOf, seal, TestRelay } from './support/harness.js';

const SPEC = readFileSync(new URL('../../../spec/errors.md', import.meta.url), 'utf8');

/** The rows of the first table in the section whose heading starts with `heading`. */
function tableRows(heading: string): string[][] {
  const start = SPEC.indexOf(`\n## ${heading}`);
  expect(start, `spec/errors.md has a section "${heading}"`).toBeGreaterThan(0);
  const end = SPEC.indexOf('\n## ', start + 1);
  const section = SPEC.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s-|]+\|$/.test(line))
    .slice(1) // the header row
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

const unquote = (cell: string) => /^`([A-Z_]+)`$/.exec(cell)?.[1] ?? `(not a code: ${cell})`;

/** §2: code -> status, as the spec gives it. */
const WIRE = new Map(
  tableRows('2. Codes the relay answers').map(([status, code]) => [unquote(code ?? ''), Number(status)]),
);
/** §3: the codes of the protocol's and the log's checks. */
const LOCAL = tableRows('3. Codes of the protocol and the log').map(([code]) => unquote(code ?? ''));

// Compile-time halves of the checks below: each list names every code of its union and no other.
type Exactly<All, Listed> = [Exclude<All, Listed>, Exclude<Listed, All>] extends [never, never] ? true : false;
const PROTOCOL_CODES = ['BAD_ENCODING', 'INVALID_MESSAGE', 'BAD_ENVELOPE', 'UNENCODABLE'] as const;
const LOG_CODES = [
  'BAD_HASH',
  'BAD_INDEX',
  'BAD_NOTE',
  'BAD_CHECKPOINT',
  'NOTE_NOT_VERIFIED',
  'BAD_KEY',
  'BAD_WITNESS_REQUEST',
] as const;
const SIGNATURE_CODES = [
  'SIGNATURE_MISSING',
  'SIGNATURE_MALFORMED',
  'DIGEST_MISSING',
  'DIGEST_MISMATCH',
  'SIGNATURE_EXPIRED',
  'SIGNATURE_NOT_YET_VALID',
  'SIGNATURE_WINDOW_TOO_LONG',
  'UNKNOWN_KEY',
  'SIGNATURE_INVALID',
] as const;
const exhaustive: [
  Exactly<MessageErrorCode, (typeof PROTOCOL_CODES)[number]>,
  Exactly<ProtocolErrorCode, (typeof PROTOCOL_CODES)[number] | (typeof SIGNATURE_CODES)[number]>,
  Exactly<LogErrorCode, (typeof LOG_CODES)[number]>,
  Exactly<HttpSignatureErrorCode, (typeof SIGNATURE_CODES)[number]>,
  Exactly<RelayHttpErrorCode, (typeof HTTP_ERROR_CODES)[number]>,
] = [true, true, true, true, true];

describe('spec/errors.md is the table of codes', () => {
  test('the table is well formed: one row per code, each with a status', () => {
    expect(exhaustive).toEqual([true, true, true, true, true]);
    const rows = tableRows('2. Codes the relay answers');
    expect(rows.length).toBe(WIRE.size);
    for (const [code, status] of WIRE) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
  });

  test('the relay answers exactly the codes of §2, each with its status', () => {
    const relay = new Map(HTTP_ERROR_CODES.map((code) => [code as string, httpStatusOf(code)]));
    expect(new Map([...relay].sort())).toEqual(new Map([...WIRE].sort()));
  });

  test('every HTTP-signature code is a code of §2, a 401', () => {
    expect([...HTTP_SIGNATURE_ERROR_CODES].sort()).toEqual([...SIGNATURE_CODES].sort());
    for (const code of SIGNATURE_CODES) expect({ code, status: WIRE.get(code) }).toEqual({ code, status: 401 });
  });

  test('§3 lists exactly the message codes of the protocol library and the codes of the log', () => {
    expect([...LOCAL].sort()).toEqual([...PROTOCOL_CODES, ...LOG_CODES].sort());
  });
});

test('a failure of the relay itself reaches the client only as 500 INTERNAL, naming no internals', async () => {
  const t = await TestRelay.start();
  try {
    const a = await t.enroll('a');
    const b = await t.enroll('b');
    const session = await t.propose([a, b], { maxItemsPerKind: 5000 });
    const path = `/v1/sessions/${hex(session)}/envelopes`;
    for (const lab of [a, b]) {
      const join = seal(lab, 'join', session, joinBody(lab, session, { email: 3000 }));
      expect((await t.request('POST', path, join.bytes, { signer: lab })).status).toBe(200);
    }
    // A chunk this large is stored as a blob file; b's blind task points at it.
    const key = BlindingKey.generate();
    const tags = packTags(Array.from({ length: 3000 }, (_, i) => hashAndBlind(key, 'email', `u${i}@example.org`)));
    key.dispose();
    const chunk = seal(a, 'tag_chunk', session, { kind: 'email', owner: a.keyId, hop: 0, first: 0, tags });
    expect((await t.request('POST', path, chunk.bytes, { signer: a })).status).toBe(200);
    rmSync(join(t.dir, 'blobs'), { recursive: true });
    const answer = await t.request('GET', `/v1/sessions/${hex(session)}/inbox`, undefined, { signer: b });
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 500, code: 'INTERNAL' });
    expect(messageOf(answer)).not.toContain(t.dir);
  } finally {
    await t.close();
  }
});

describe('the OpenAPI document lists the codes of spec/errors.md', () => {
  let t: TestRelay;
  let doc: {
    info: { description: string };
    paths: Record<string, Record<string, { responses: Record<string, ErrorResponse> }>>;
    components: { schemas: { Error: ErrorSchema } };
  };
  beforeAll(async () => {
    t = await TestRelay.start();
    doc = (await t.request('GET', '/openapi.json')).body as typeof doc;
  });
  afterAll(async () => t.close());

  test('the Error schema enumerates exactly the table codes', () => {
    expect([...codesOf(doc.components.schemas.Error)].sort()).toEqual([...WIRE.keys()].sort());
  });

  test('each operation files each code under its status, and every code is documented somewhere', () => {
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status === '200') continue;
          const schema = Object.values(response.content)[0]?.schema as ErrorSchema;
          for (const code of codesOf(schema)) {
            expect({ at: `${method} ${path}`, code, status: Number(status) }).toEqual({
              at: `${method} ${path}`,
              code,
              status: WIRE.get(code),
            });
            documented.add(code);
          }
        }
      }
    }
    // The codes answered before a route is chosen are named in the document's description.
    const routeless = [...WIRE.keys()].filter((code) => !documented.has(code));
    for (const code of routeless) expect(doc.info.description).toContain(code);
    expect(routeless).toEqual(['METHOD_NOT_ALLOWED']);
  });
});

interface ErrorSchema {
  properties: { error: { properties: { code: { enum: string[] } } } };
}

interface ErrorResponse {
  content: Record<string, { schema: unknown }>;
}

function codesOf(schema: ErrorSchema): string[] {
  return schema.properties.error.properties.code.enum;
}
