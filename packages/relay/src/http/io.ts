/**
 * Request bodies in, responses out (spec/relay-api.md §1: CBOR bodies, JSON for the two JSON
 * endpoints, and the error body every refusal carries). The body comes from the network: its size
 * is bounded before it is buffered (Content-Length first, then while it streams), and the whole
 * body must arrive within the request timeout, so a slow-drip client cannot hold a connection and
 * memory for long.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeDeterministic, type RelayErrorBody } from '@overlap/protocol';
import { httpStatusOf, RelayError, type RelayErrorCode } from '../errors.js';

export async function readBody(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new RelayError('BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: RelayError | undefined, body?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.off('data', onData);
      if (error) {
        // Stop reading; the response still goes out, then the connection closes.
        request.pause();
        reject(error);
      } else resolve(body as Uint8Array);
    };
    const timer = setTimeout(
      () => finish(new RelayError('REQUEST_TIMEOUT', `the request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new RelayError('BODY_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes`));
      else chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      const body = Buffer.concat(chunks, size);
      finish(undefined, new Uint8Array(body.buffer, body.byteOffset, body.length));
    });
    request.once('error', () => finish(new RelayError('BAD_REQUEST', 'the request was cut off')));
  });
}

export type Payload =
  | { kind: 'cbor'; value: unknown }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; value: string; contentType: string };

/** Writes a response and returns the number of body bytes sent. */
export function sendPayload(
  response: ServerResponse,
  status: number,
  payload: Payload,
  headers: Record<string, string> = {},
): number {
  let bytes: Uint8Array;
  let contentType: string;
  if (payload.kind === 'cbor') {
    bytes = encodeDeterministic(payload.value as never);
    contentType = 'application/cbor';
  } else if (payload.kind === 'json') {
    bytes = Buffer.from(JSON.stringify(payload.value));
    contentType = 'application/json';
  } else {
    bytes = Buffer.from(payload.value);
    contentType = payload.contentType;
  }
  response.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': bytes.length });
  response.end(bytes);
  return bytes.length;
}

/** The error body of spec/relay-api.md §1, in CBOR or (for the JSON endpoints) JSON. */
export function errorPayload(code: RelayErrorCode, message: string, json: boolean): Payload {
  const value: RelayErrorBody = { error: { code, message } };
  return json ? { kind: 'json', value } : { kind: 'cbor', value };
}

export function statusOf(error: RelayError): number {
  return httpStatusOf(error.code);
}
