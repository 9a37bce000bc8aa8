/**
 * Transport authentication (spec/relay-api.md §2): RFC 9421 signatures with the profile of
 * @overlap/protocol's http-signature.ts, then the key's standing in the membership, then — for
 * requests that write — a nonce not used before (stored by the log writer in the same transaction
 * as the write). Only a verified signature counts; every failure is a typed 401 or 403, in the
 * order of spec/relay-api.md §2.2. All of it runs on the headers, before the body is read
 * (`authenticate`); the body is then checked against the signed digest (`checkBody`), so that a
 * request no enrolled key signed never has its body buffered.
 *
 * "@target-uri" is the relay's public URL followed by the request target: what the client signed
 * must name the relay as the relay names itself. When a signature does not verify and the request
 * came to another host than the public URL's (a client that signs `localhost` for a relay published
 * as `127.0.0.1`), the error names the public URL, the likeliest fix.
 */
import type { IncomingMessage } from 'node:http';
import { checkRequestBody, ProtocolError, type VerifiedHeaders, verifyRequestHeaders } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import type { RelayCore } from '../relay.js';
import type { NonceUse } from '../store/log-writer.js';

export interface Authenticated extends NonceUse {
  isAdmin: boolean;
  /** What the signature covers of the body, for `checkBody`. */
  headers: VerifiedHeaders;
}

/** Whether the request's headers announce a body: a Content-Length above 0, or a chunked one. */
export function announcesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** Steps 1–9 and 11–12 of spec/relay-api.md §2.2, from the headers alone. */
export function authenticate(
  core: RelayCore,
  request: IncomingMessage,
  publicUrl: string,
  options: { write: boolean; clockSkewSeconds: number },
): Authenticated {
  const now = core.now();
  const targetUri = `${publicUrl}${request.url ?? '/'}`;
  let headers: VerifiedHeaders;
  try {
    headers = verifyRequestHeaders({
      method: request.method ?? '',
      targetUri,
      headers: request.headers,
      hasBody: announcesBody(request),
      now: Math.floor(now / 1000),
      clockSkewSeconds: options.clockSkewSeconds,
      publicKeyOf: (id) =>
        id === core.membership.adminKeyId ? core.membership.adminKey : core.membership.signingKeyOf(id),
    });
  } catch (error) {
    throw signatureError(error, request, publicUrl, targetUri);
  }
  const verified = headers.request;
  const isAdmin = verified.keyId === core.membership.adminKeyId;
  if (!isAdmin) {
    const standing = core.membership.standing(verified.keyId, now);
    if (standing === 'revoked') throw new RelayError('KEY_REVOKED', `key ${verified.keyId} is revoked`);
    if (standing === 'expired' || standing === 'not_yet_valid') {
      throw new RelayError('KEY_EXPIRED', `key ${verified.keyId} is not valid now (${standing.replaceAll('_', ' ')})`);
    }
    if (standing === 'unknown') throw new RelayError('UNKNOWN_KEY', `key ${verified.keyId} is not enrolled`);
  }
  if (options.write && core.nonceUsed(verified.keyId, verified.nonce)) {
    throw new RelayError('NONCE_REPLAYED', 'this request was already received (its nonce is used)');
  }
  return { keyId: verified.keyId, nonce: verified.nonce, expires: verified.expires, isAdmin, headers };
}

/** Step 10, once the body is in: it is the body the signature covers (DIGEST_MISMATCH, DIGEST_MISSING). */
export function checkBody(auth: Authenticated, body: Uint8Array, bodySha256: Uint8Array): void {
  try {
    checkRequestBody(auth.headers, body.length, bodySha256);
  } catch (error) {
    if (!(error instanceof ProtocolError) || !error.isHttpSignatureError()) throw error;
    throw new RelayError(error.code, error.message, { cause: error });
  }
}

function signatureError(error: unknown, request: IncomingMessage, publicUrl: string, targetUri: string): unknown {
  if (!(error instanceof ProtocolError) || !error.isHttpSignatureError()) return error;
  const message =
    error.code === 'SIGNATURE_INVALID' ? `${error.message}${targetHint(request, publicUrl, targetUri)}` : error.message;
  return new RelayError(error.code, message, { cause: error });
}

/**
 * When the request came to another host than the public URL's: the public URL, and the
 * "@target-uri" the relay verified. Empty otherwise (the host is right; the key or the bytes are not).
 */
function targetHint(request: IncomingMessage, publicUrl: string, targetUri: string): string {
  if (!URL.canParse(publicUrl)) return '';
  const { protocol, host: publicHost } = new URL(publicUrl);
  // The Host header comes from the peer: only compared (as a URL's host, so ports compare alike) and quoted short.
  const host = request.headers.host ?? '';
  const sentTo = URL.canParse(`${protocol}//${host}`) ? new URL(`${protocol}//${host}`).host : host;
  if (sentTo === publicHost) return '';
  const shown = JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}…` : host);
  return `; the request came to host ${shown}, but the relay's public URL is ${publicUrl}: sign @target-uri with it (${targetUri})`;
}
