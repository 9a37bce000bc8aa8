/**
 * The relay's routes (spec/relay-api.md §3): one table that the server dispatches on and the
 * OpenAPI document is built from (openapi.ts), so the two cannot drift apart (a test checks that
 * they agree). A route that answers CBOR or JSON names the schema of its answer in
 * @overlap/protocol's wire/relay-api.ts, and its handler's value is typed by that schema: what the
 * relay encodes, what the client decodes and what the document describes are one declaration.
 *
 * Each route names who may call it (`auth`), and the server checks that before the handler runs:
 * session data only to a signed request of an enrolled lab (route-context.ts then requires a lab of
 * that session), membership changes only to the admin key, and the transcript, which holds every
 * set's fully blinded tags, only to the admin key (spec/relay-api.md §3).
 */
import {
  consistencyAnswerSchema,
  inboxAnswerSchema,
  inclusionAnswerSchema,
  logEntriesSchema,
  membershipListSchema,
  type RelayAnswerSchema,
  receiptSchema,
  relayHealthSchema,
  relayInfoSchema,
  sessionCreatedSchema,
  sessionListSchema,
  sessionStatusSchema,
  transcriptSchema,
} from '@overlap/protocol';
import type { RelayHttpErrorCode } from '../errors.js';
import type { Payload } from './io.js';
import type { RouteContext } from './route-context.js';

export type Auth = 'none' | 'lab' | 'admin';

export interface QueryParam {
  name: string;
  required: boolean;
  description: string;
}

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template, e.g. `/v1/sessions/{id}`. */
  path: string;
  auth: Auth;
  summary: string;
  /** What the CBOR request body is, for POSTs. */
  body?: string;
  query?: QueryParam[];
  /** Error codes this route can answer with (beyond the common ones of openapi.ts). */
  errors: readonly RelayHttpErrorCode[];
  /** The schema of the 200 answer (CBOR or JSON routes), which the OpenAPI document describes. */
  answer?: RelayAnswerSchema;
  /** Answered while the relay rebuilds its state (relay-runtime.ts): the route reads none of it. */
  servedWhileRebuilding?: true;
  handle(context: RouteContext): Promise<Payload> | Payload;
}

/** A route answering CBOR: the handler's value must be what `answer` declares. */
function cbor<T>(
  answer: RelayAnswerSchema<T>,
  handle: (context: RouteContext) => Promise<T> | T,
): Pick<Route, 'answer' | 'handle'> {
  return { answer, handle: async (context) => ({ kind: 'cbor', value: await handle(context) }) };
}

/** A session route: its id malformed (BAD_REQUEST), unknown, or not the signer's session. */
const SESSION_ERRORS: RelayHttpErrorCode[] = ['BAD_REQUEST', 'NO_SUCH_SESSION', 'NOT_A_SESSION_LAB'];
const WRITE_ERRORS: RelayHttpErrorCode[] = [
  'BAD_CBOR',
  'BAD_ENVELOPE',
  'SENDER_MISMATCH',
  'CONFLICT',
  'CHAIN_BROKEN',
  'PROTOCOL_VIOLATION',
];

export const ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    auth: 'none',
    summary: 'Liveness: the relay is up and its log is writable.',
    errors: ['UNAVAILABLE'],
    answer: relayHealthSchema,
    handle: (c) => ({ kind: 'json', value: c.health() }),
  },
  {
    method: 'GET',
    path: '/openapi.json',
    auth: 'none',
    summary: 'This API as an OpenAPI 3.1 document.',
    errors: [],
    servedWhileRebuilding: true,
    handle: (c) => ({ kind: 'json', value: c.openapi() }),
  },
  {
    method: 'GET',
    path: '/v1/relay',
    auth: 'none',
    summary: "The relay's identity: log origin and key, verifier key, relay key id, admin key, limits.",
    errors: [],
    ...cbor(relayInfoSchema, (c) => c.reads.relayInfo()),
  },
  {
    method: 'GET',
    path: '/v1/membership',
    auth: 'lab',
    summary:
      'Every enrollment and revocation envelope, in log order (to enrolled keys and the admin only: it names the labs).',
    errors: [],
    ...cbor(membershipListSchema, (c) => c.reads.membershipList()),
  },
  {
    method: 'POST',
    path: '/v1/admin',
    auth: 'admin',
    summary: 'Enroll or revoke a lab: an enrollment or revocation envelope signed by the admin key.',
    body: 'an enrollment or revocation envelope',
    errors: [...WRITE_ERRORS, 'NOT_ADMIN'],
    ...cbor(receiptSchema, async (c) => (await c.core.submitAdmin(c.envelope(), c.writer())).receipt),
  },
  {
    method: 'POST',
    path: '/v1/sessions',
    auth: 'lab',
    summary: 'Propose a session: a session_proposal envelope signed by one of its labs.',
    body: 'a session_proposal envelope',
    errors: [...WRITE_ERRORS, 'SESSION_EXISTS', 'SET_TOO_LARGE', 'NOT_A_SESSION_LAB', 'QUOTA_EXCEEDED'],
    ...cbor(sessionCreatedSchema, async (c) => {
      const accepted = await c.core.createSession(c.envelope(), c.writer());
      return { session: accepted.session.id, receipt: accepted.receipt };
    }),
  },
  {
    method: 'GET',
    path: '/v1/sessions',
    auth: 'lab',
    summary:
      'The sessions the requesting lab is in, with their status, one page at a time in log order of their proposals.',
    query: [
      {
        name: 'from',
        required: false,
        description: "log index of the first proposal to list (default 0; a page's `next`)",
      },
      { name: 'limit', required: false, description: 'sessions in the page, 1 to 1000 (default 100)' },
      {
        name: 'wait',
        required: false,
        description:
          "milliseconds to wait, when the page is empty, for a session_proposal naming the requesting lab to commit; the page is then read again (at most the relay's cap, 25000 by default)",
      },
    ],
    errors: ['BAD_REQUEST'],
    ...cbor(sessionListSchema, (c) => c.sessions()),
  },
  {
    method: 'GET',
    path: '/v1/sessions/{id}',
    auth: 'lab',
    summary: "A session's status: labs, who joined, state, deadline, whom it waits on, the abort if any.",
    errors: SESSION_ERRORS,
    ...cbor(sessionStatusSchema, (c) => c.sessionForReader().status),
  },
  {
    method: 'POST',
    path: '/v1/sessions/{id}/envelopes',
    auth: 'lab',
    summary:
      "A lab's join, tag_chunk, blind_result, reveal, hop_proof or abort envelope; answered with its receipt (a hop_proof once verified).",
    body: 'a join, tag_chunk, blind_result, reveal, hop_proof or abort envelope',
    errors: [...WRITE_ERRORS, ...SESSION_ERRORS, 'SESSION_CLOSED', 'SET_TOO_LARGE', 'QUOTA_EXCEEDED'],
    ...cbor(
      receiptSchema,
      async (c) => (await c.core.submitToSession(c.sessionId(), c.envelope(), c.writer())).receipt,
    ),
  },
  {
    method: 'GET',
    path: '/v1/sessions/{id}/inbox',
    auth: 'lab',
    summary:
      "The requesting lab's blind tasks, and the relay's proof request, challenge, result rows and aborts, from item `after` on.",
    query: [
      { name: 'after', required: false, description: 'first item number to return (default 0)' },
      { name: 'wait', required: false, description: 'milliseconds to wait for an item when there is none (max 25000)' },
    ],
    errors: SESSION_ERRORS,
    ...cbor(inboxAnswerSchema, (c) => c.inbox()),
  },
  {
    method: 'GET',
    path: '/v1/sessions/{id}/receipts/{index}',
    auth: 'lab',
    summary: 'The receipt of a log entry of this session.',
    errors: [...SESSION_ERRORS, 'NOT_FOUND'],
    ...cbor(receiptSchema, (c) => c.sessionReceipt()),
  },
  {
    method: 'GET',
    path: '/v1/sessions/{id}/transcript',
    auth: 'admin',
    summary:
      "Everything an auditor needs of a session (admin key only: it holds every set's final tags): membership, the session's envelopes with receipts, checkpoints and consistency proofs.",
    errors: ['BAD_REQUEST', 'NO_SUCH_SESSION', 'NOT_ADMIN'],
    ...cbor(transcriptSchema, (c) => c.transcript()),
  },
  {
    method: 'GET',
    path: '/v1/log/checkpoint',
    auth: 'none',
    summary: 'The latest signed checkpoint (C2SP signed note).',
    errors: [],
    handle: (c) => ({ kind: 'text', value: c.reads.latest.note, contentType: 'text/plain; charset=utf-8' }),
  },
  {
    method: 'GET',
    path: '/v1/log/witnessed',
    auth: 'none',
    summary:
      "The newest checkpoint the relay's witnesses cosigned, with every cosignature of its round (C2SP signed note; spec/log.md §7).",
    errors: ['NOT_FOUND'],
    handle: (c) => ({ kind: 'text', value: c.witnessed().note, contentType: 'text/plain; charset=utf-8' }),
  },
  {
    method: 'GET',
    path: '/v1/log/inclusion',
    auth: 'none',
    summary: 'An inclusion proof, by leaf index or leaf hash, in the tree of a given (default: latest) size.',
    query: [
      { name: 'index', required: false, description: 'leaf index (or give leaf)' },
      { name: 'leaf', required: false, description: 'leaf hash, 64 hex digits (or give index)' },
      { name: 'size', required: false, description: 'tree size (default: the latest checkpoint)' },
    ],
    errors: ['BAD_REQUEST', 'NOT_FOUND'],
    ...cbor(inclusionAnswerSchema, (c) => c.inclusion()),
  },
  {
    method: 'GET',
    path: '/v1/log/consistency',
    auth: 'none',
    summary: 'A consistency proof between two tree sizes.',
    query: [
      { name: 'from', required: true, description: 'the older tree size' },
      { name: 'to', required: false, description: 'the newer tree size (default: the latest checkpoint)' },
    ],
    errors: ['BAD_REQUEST'],
    ...cbor(consistencyAnswerSchema, (c) => c.consistency()),
  },
  {
    method: 'GET',
    path: '/v1/log/entries',
    auth: 'lab',
    summary:
      'Log entries [start, end): leaf hashes and metadata; envelope bytes for membership entries only (to enrolled keys and the admin only: it says who exchanges with whom).',
    query: [
      { name: 'start', required: true, description: 'first index' },
      { name: 'end', required: true, description: 'one past the last index (at most start + 1000)' },
    ],
    errors: ['BAD_REQUEST'],
    ...cbor(logEntriesSchema, (c) => c.entries()),
  },
];

/** Matches a path against the table: the route and its path parameters, or why not. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { allow: string[] } | undefined {
  const allow: string[] = [];
  for (const route of ROUTES) {
    const params = matchTemplate(route.path, path);
    if (!params) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allow.push(route.method);
  }
  if (allow.length > 0) return { allow };
  return undefined;
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      params[w.slice(1, -1)] = g;
    } else if (w !== g) return undefined;
  }
  return params;
}
