/**
 * The OpenAPI 3.1 document of the relay, built from the route table (routes.ts) so that it always
 * describes the routes the server really has, and each answer from the schema its route encodes
 * with (@overlap/protocol's wire/relay-api.ts, as JSON Schema: what a client accepts, so unknown
 * fields are allowed). The prose contract is spec/relay-api.md; the error codes and their statuses
 * are errors.ts's, which are spec/errors.md's (tests check both).
 */
import { relayAnswerJsonSchema, relayErrorBodySchema } from '@overlap/protocol';
import { HTTP_ERROR_CODES, httpStatusOf, type RelayHttpErrorCode } from '../errors.js';
import { ROUTES } from './routes.js';

/** Answered by every route: the relay is shutting down, rebuilding after a failed write, or failed. */
const COMMON_ERRORS: RelayHttpErrorCode[] = ['UNAVAILABLE', 'STORAGE_UNAVAILABLE', 'BUSY', 'INTERNAL'];
const COMMON_LAB_ERRORS: RelayHttpErrorCode[] = [
  'SIGNATURE_MISSING',
  'SIGNATURE_MALFORMED',
  'SIGNATURE_INVALID',
  'SIGNATURE_EXPIRED',
  'SIGNATURE_NOT_YET_VALID',
  'SIGNATURE_WINDOW_TOO_LONG',
  'DIGEST_MISSING',
  'DIGEST_MISMATCH',
  'UNKNOWN_KEY',
  'KEY_REVOKED',
  'KEY_EXPIRED',
  'RATE_LIMITED',
];
const COMMON_WRITE_ERRORS: RelayHttpErrorCode[] = [
  'NONCE_REPLAYED',
  'BODY_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'UNSUPPORTED_MEDIA_TYPE',
  'BAD_REQUEST',
];
/** Answered before any route is chosen, so listed in no operation. */
const ROUTELESS_ERRORS: RelayHttpErrorCode[] = ['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'BAD_REQUEST'];

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams = (route.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: q.required,
      description: q.description,
      schema: { type: 'string', pattern: q.name === 'leaf' ? '^[0-9a-f]{64}$' : '^(0|[1-9][0-9]*)$' },
    }));
    const errors = new Set<RelayHttpErrorCode>([
      ...route.errors,
      ...(route.auth === 'none' ? [] : COMMON_LAB_ERRORS),
      ...(route.method === 'POST' ? COMMON_WRITE_ERRORS : []),
      ...COMMON_ERRORS,
    ]);
    const byStatus = new Map<string, RelayHttpErrorCode[]>();
    for (const code of [...errors].sort()) {
      const status = String(httpStatusOf(code));
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const answer = route.answer === undefined ? {} : relayAnswerJsonSchema(route.answer);
    const responses: Record<string, unknown> = {
      '200': { description: 'OK', content: { [contentTypeOf(route.path)]: { schema: answer } } },
    };
    const errorType =
      route.path === '/healthz' || route.path === '/openapi.json' ? 'application/json' : 'application/cbor';
    for (const [status, codes] of [...byStatus].sort()) {
      responses[status] = {
        description: codes.join(', '),
        content: { [errorType]: { schema: errorSchema(codes) } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      parameters: [...pathParams, ...queryParams],
      responses,
      ...(route.auth !== 'none' && { security: [{ httpMessageSignature: [] }] }),
      ...(route.body && {
        requestBody: {
          required: true,
          description: `${route.body} (deterministic CBOR, spec/protocol.md §3)`,
          content: { 'application/cbor': { schema: { type: 'string', contentMediaType: 'application/cbor' } } },
        },
      }),
    };
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overlap relay',
      version,
      description: `The reference relay of the Overlap protocol. Normative prose: spec/relay-api.md; every error code and its status: spec/errors.md. Answered on any path, before a route is chosen: ${ROUTELESS_ERRORS.join(', ')}.`,
    },
    paths,
    components: {
      securitySchemes: {
        httpMessageSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Signature',
          description:
            'RFC 9421 HTTP Message Signature (ed25519) over "@method" "@target-uri" and, with a body, "content-digest" (RFC 9530); created/expires at most 300 s apart; a fresh nonce per request; keyid = the enrolled key id (spec/relay-api.md §2).',
        },
      },
      schemas: {
        Error: errorSchema(HTTP_ERROR_CODES),
      },
    },
  };
}

function contentTypeOf(path: string): string {
  if (path === '/healthz' || path === '/openapi.json') return 'application/json';
  if (path === '/metrics' || path === '/v1/log/checkpoint' || path === '/v1/log/witnessed') return 'text/plain';
  return 'application/cbor';
}

interface ErrorBodyJsonSchema {
  properties: { error: { properties: { code: Record<string, unknown> } } };
}

/** The error body of spec/relay-api.md §1 (relay-api.ts's schema), its code one of `codes`. */
function errorSchema(codes: readonly string[]): Record<string, unknown> {
  const schema = relayAnswerJsonSchema(relayErrorBodySchema);
  (schema as unknown as ErrorBodyJsonSchema).properties.error.properties.code = { type: 'string', enum: [...codes] };
  return schema;
}
