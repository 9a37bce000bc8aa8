/**
 * Transport authentication (spec/relay-api.md §2): RFC 9421 signatures with the profile of
 * @overlap/protocol's http-signature.ts, then the key's standing in the membership, then — for
 * requests that write — a nonce not used before (stored by the log writer in the same transaction
 * as the write). Only a verified signature counts; every failure is a typed 401 or 403.
 */
import type { IncomingMessage } from 'node:http';
import { HttpSignatureError, verifyRequest } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import type { RelayCore } from '../relay.js';
import type { NonceUse } from '../store/log-writer.js';

export interface Authenticated extends NonceUse {
  isAdmin: boolean;
}

export function authenticate(
  core: RelayCore,
  request: IncomingMessage,
  targetUri: string,
  body: Uint8Array,
  options: { write: boolean; clockSkewSeconds: number; bodySha256?: Uint8Array },
): Authenticated {
  const now = core.options.now();
  let verified: ReturnType<typeof verifyRequest>;
  try {
    verified = verifyRequest({
      method: request.method ?? '',
      targetUri,
      headers: request.headers,
      body,
      ...(options.bodySha256 && { bodySha256: options.bodySha256 }),
      now: Math.floor(now / 1000),
      clockSkewSeconds: options.clockSkewSeconds,
      publicKeyOf: (id) =>
        id === core.membership.adminKeyId ? core.membership.adminKey : core.membership.signingKeyOf(id),
    });
  } catch (error) {
    if (error instanceof HttpSignatureError) throw new RelayError(error.code, error.message, { cause: error });
    throw error;
  }
  const isAdmin = verified.keyId === core.membership.adminKeyId;
  if (!isAdmin) {
    const standing = core.membership.standing(verified.keyId, now);
    if (standing === 'revoked') throw new RelayError('KEY_REVOKED', `key ${verified.keyId} is revoked`);
    if (standing === 'expired' || standing === 'not_yet_valid') {
      throw new RelayError('KEY_EXPIRED', `key ${verified.keyId} is not valid now (${standing.replaceAll('_', ' ')})`);
    }
    if (standing === 'unknown') throw new RelayError('UNKNOWN_KEY', `key ${verified.keyId} is not enrolled`);
  }
  if (options.write && core.options.writer.nonceUsed(verified.keyId, verified.nonce)) {
    throw new RelayError('NONCE_REPLAYED', 'this request was already received (its nonce is used)');
  }
  return { keyId: verified.keyId, nonce: verified.nonce, expires: verified.expires, isAdmin };
}
