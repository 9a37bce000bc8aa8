/**
 * The OpenAPI 3.1 document of the relay, built from the route table (routes.ts) so that it always
 * describes the routes the server really has. The prose contract is spec/relay-api.md.
 */
import { httpStatusOf, type RelayErrorCode } from '../errors.js';
import { ROUTES } from './routes.js';

const COMMON_LAB_ERRORS = [
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
const COMMON_WRITE_ERRORS = ['NONCE_REPLAYED', 'BODY_TOO_LARGE', 'REQUEST_TIMEOUT', 'UNSUPPORTED_MEDIA_TYPE'];

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
    const errors = new Set<string>([
      ...route.errors,
      ...(route.auth === 'none' ? [] : COMMON_LAB_ERRORS),
      ...(route.method === 'POST' ? COMMON_WRITE_ERRORS : []),
    ]);
    const responses: Record<string, unknown> = {
      '200': { description: 'OK', content: { [contentTypeOf(route.path)]: { schema: {} } } },
    };
    for (const code of errors) {
      const status = String(httpStatusOf(code as RelayErrorCode));
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing ? `${existing.description}, ${code}` : code,
        content: { 'application/cbor': { schema: { $ref: '#/components/schemas/Error' } } },
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
      description: 'The reference relay of the Overlap protocol. Normative prose: spec/relay-api.md.',
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
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}

function contentTypeOf(path: string): string {
  if (path === '/healthz' || path === '/openapi.json') return 'application/json';
  if (path === '/metrics' || path === '/v1/log/checkpoint') return 'text/plain';
  return 'application/cbor';
}
