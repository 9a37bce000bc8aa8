/**
 * Request authentication between labs and the relay: HTTP Message Signatures (RFC 9421) with
 * Content-Digest (RFC 9530), in one fixed profile. Pure: the caller passes the clock (`now`).
 *
 * Profile:
 *   - exactly one signature, labelled `sig1`, algorithm `ed25519` (RFC 9421 §3.3.6) under the lab's
 *     identity key. RFC 9421 lets a request carry several signatures under any labels; this profile
 *     does not: another label, a second member, or a field repeated on several header lines (which
 *     HTTP combines into one list, RFC 9110 §5.3) is SIGNATURE_MALFORMED;
 *   - covered components, exactly in this order: "@method" (§2.2.1), "@target-uri" (§2.2.2) and, when
 *     the request has a body (even an empty one), "content-digest" (§2.1; RFC 9530 §2);
 *   - signature parameters (§2.3), exactly in this order: created, expires, nonce, keyid, alg="ed25519";
 *     keyid is a 32-lowercase-hex key id, nonce 16–128 base64url characters;
 *   - `Content-Digest: sha-256=:<base64>:` (RFC 9530 §2, §5); on receipt a sha-256 member is required,
 *     other algorithms are ignored;
 *   - the signature base (§2.5) is rebuilt from the parameters as parsed and serialized again
 *     (§3.2 step 6, RFC 8941 §4.1): what is verified is what was understood, whatever the spelling.
 * "@method" is the method exactly as given: §2.2.1 forbids changing its case (node:http and fetch
 * report standard methods in uppercase). "@target-uri" is the absolute URI as given by the caller.
 * Header values are trimmed (§2.1); a header received more than once is refused.
 *
 * Threats: a request replayed later (created/expires are bounded by a maximum window and a clock
 * skew; the nonce is returned so the caller can refuse a repeat within the window), sent to another
 * endpoint or with another method (both covered), or with its body swapped (the digest is covered and
 * compared in constant time; a body without a covered digest is refused, never accepted unsigned).
 * Every header value is attacker-controlled and parsed strictly; only `verify() === true` is accepted.
 * Every failure is a ProtocolError whose code is one of HTTP_SIGNATURE_ERROR_CODES (errors.ts): wire
 * codes of spec/errors.md §2, which the relay answers as they are.
 */
import { equalBytes, sha256, sign, verify } from '@overlap/crypto';
import { ProtocolError } from './errors.js';
import {
  type DictionaryMember,
  type InnerList,
  parseDictionary,
  serializeBareItem,
  serializeInnerList,
} from './structured-fields.js';

export interface VerifiedRequest {
  keyId: string;
  created: number;
  expires: number;
  nonce: string;
}

export interface SignRequestInput {
  method: string;
  targetUri: string;
  /** When given, even empty, Content-Digest is sent and covered. */
  body?: Uint8Array;
  keyId: string;
  /** 32-byte Ed25519 seed. Secret: never echoed in errors. */
  secretKey: Uint8Array;
  /** Unix seconds. */
  created: number;
  expires: number;
  nonce: string;
}

export interface VerifyRequestInput {
  method: string;
  targetUri: string;
  /** Lowercase names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body?: Uint8Array;
  /**
   * SHA-256 of `body`, when the caller has computed it already (a relay hashes each large body once
   * for both the digest check and the envelope's hash). Must be of exactly these bytes.
   */
  bodySha256?: Uint8Array;
  /** Unix seconds, from the caller's clock. */
  now: number;
  maxWindowSeconds?: number;
  clockSkewSeconds?: number;
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
}

/** What `verifyRequestHeaders` needs: the request without its body, and whether it announces one. */
export interface VerifyHeadersInput extends Omit<VerifyRequestInput, 'body' | 'bodySha256'> {
  hasBody: boolean;
}

/** A request whose headers verified: who signed it, and the body's SHA-256 the signature covers. */
export interface VerifiedHeaders {
  request: VerifiedRequest;
  /** The signed Content-Digest's sha-256; undefined when the signature covers no digest (no body). */
  digestSha256?: Uint8Array;
}

/** One line of the signature base: a component identifier and its value. */
export interface Component {
  name: string;
  value: string;
}

const LABEL = 'sig1';
const ALG = 'ed25519';
const PARAM_ORDER = ['created', 'expires', 'nonce', 'keyid', 'alg'] as const;
const WITHOUT_BODY = ['@method', '@target-uri'] as const;
const WITH_BODY = ['@method', '@target-uri', 'content-digest'] as const;
const KEY_ID = /^[0-9a-f]{32}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_TIME = 999_999_999_999_999; // the largest RFC 8941 Integer
const SIGNATURE_LENGTH = 64;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

/** `sha-256=:<base64 of SHA-256(body)>:` (RFC 9530 §2). */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=${serializeBareItem(sha256(body))}`;
}

/** The headers to add to a request: signature-input, signature, and content-digest when there is a body. */
export function signRequest(input: SignRequestInput): Record<string, string> {
  if (!KEY_ID.test(input.keyId)) malformed('signRequest: keyId must be 32 lowercase hex digits');
  if (!NONCE.test(input.nonce)) malformed('signRequest: nonce must be 16 to 128 base64url characters');
  if (!isTime(input.created)) malformed('signRequest: created must be a non-negative integer');
  if (!isTime(input.expires)) malformed('signRequest: expires must be a non-negative integer');
  const digest = input.body === undefined ? undefined : contentDigest(input.body);
  const params = signatureParams(digest === undefined ? WITHOUT_BODY : WITH_BODY, input);
  const base = signatureBase(componentsOf(input.method, input.targetUri, digest), params);
  const signature = sign(input.secretKey, utf8.encode(base));
  return {
    ...(digest === undefined ? {} : { 'content-digest': digest }),
    'signature-input': `${LABEL}=${params}`,
    signature: `${LABEL}=${serializeBareItem(signature)}`,
  };
}

/**
 * Checks a request's signature under the profile and returns who signed it and when. Throws a
 * ProtocolError with one of the HTTP_SIGNATURE_ERROR_CODES (errors.ts) for anything else. Replay within the window is the caller's to refuse (by nonce).
 *
 * The checks run in this order, and the first that fails gives the code (spec/relay-api.md §2.2):
 *   1. Signature-Input and Signature are both present                        SIGNATURE_MISSING
 *   2. Signature-Input is in the profile: one field value with one member,
 *      `sig1`, its components and parameters in the profile's order and form SIGNATURE_MALFORMED
 *   3. Signature is in the profile: one field value, one member, `sig1`,
 *      a byte sequence of 64 bytes                                           SIGNATURE_MALFORMED
 *   4. 0 < expires - created <= the maximum window                            SIGNATURE_WINDOW_TOO_LONG
 *   5. created <= now + skew                                                  SIGNATURE_NOT_YET_VALID
 *   6. now <= expires + skew                                                  SIGNATURE_EXPIRED
 *   7. a body comes with a covered Content-Digest that has a sha-256 member   DIGEST_MISSING
 *      (a Structured Field dictionary, the member a byte sequence)            SIGNATURE_MALFORMED
 *   8. keyid names a usable Ed25519 key                                       UNKNOWN_KEY
 *   9. the Ed25519 signature verifies over the signature base                 SIGNATURE_INVALID
 *  10. the body's SHA-256 is the Content-Digest's sha-256                     DIGEST_MISMATCH
 * (A field given as several values, as a list of repeated header lines, fails 2 or 3: HTTP would
 * have combined them into one list, which has more than one member.)
 * The signature comes before the digest so that a body is compared only under a signature known to
 * be good: what the signer covered is settled first, then whether these bytes are what it covered.
 */
export function verifyRequest(input: VerifyRequestInput): VerifiedRequest {
  const body = input.body ?? EMPTY;
  const headers = verifyRequestHeaders({ ...input, hasBody: body.length > 0 });
  checkRequestBody(headers, body.length, input.bodySha256 ?? sha256(body));
  return headers.request;
}

/**
 * Steps 1 to 9 of `verifyRequest`, before the body has arrived: a server checks who signed a
 * request, and that the signature holds, from its headers alone, and reads the body only then (so
 * that an outsider's body is never buffered). `hasBody` is what the headers announce (a
 * Content-Length above 0, or a chunked body). `checkRequestBody` does step 10 once the body is in.
 */
export function verifyRequestHeaders(input: VerifyHeadersInput): VerifiedHeaders {
  const fields = signatureFields(input.headers);
  const { covered, keyId, created, expires, nonce } = parseSignatureInput(fields.signatureInput);
  const signature = parseSignature(fields.signature);
  checkWindow(created, expires, input);
  const digest = coveredDigest(covered, input.headers, input.hasBody);
  const publicKey = input.publicKeyOf(keyId);
  if (publicKey === undefined) throw new ProtocolError('UNKNOWN_KEY', `no key for keyid "${keyId}"`);
  const params = signatureParams(covered, { created, expires, nonce, keyId });
  const base = utf8.encode(signatureBase(componentsOf(input.method, input.targetUri, digest?.field), params));
  let verified: boolean;
  try {
    verified = verify(publicKey, base, signature);
  } catch (cause) {
    throw new ProtocolError('UNKNOWN_KEY', `the key for keyid "${keyId}" is not a usable Ed25519 key`, { cause });
  }
  if (verified !== true) throw new ProtocolError('SIGNATURE_INVALID', 'signature: does not verify');
  return {
    request: { keyId, created, expires, nonce },
    ...(digest !== undefined && { digestSha256: digest.sha256 }),
  };
}

/**
 * Step 10, once the body is in: its SHA-256 is the signed Content-Digest's (DIGEST_MISMATCH), and a
 * request whose signature covers no digest has no body (DIGEST_MISSING: a chunked body that the
 * headers could not announce as non-empty).
 */
export function checkRequestBody(verified: VerifiedHeaders, bodyLength: number, bodySha256: Uint8Array): void {
  if (verified.digestSha256 === undefined) {
    if (bodyLength > 0)
      throw new ProtocolError('DIGEST_MISSING', 'the request has a body but content-digest is not covered');
    return;
  }
  if (!equalBytes(verified.digestSha256, bodySha256)) {
    throw new ProtocolError('DIGEST_MISMATCH', 'content-digest: sha-256 does not match the body');
  }
}

/** Step 1, and the single-value part of steps 2 and 3: both signature fields, each one value. */
function signatureFields(headers: VerifyRequestInput['headers']): { signatureInput: string; signature: string } {
  const present = (name: string) => [headers[name]].flat().some((value) => value !== undefined);
  if (!present('signature-input') || !present('signature')) {
    throw new ProtocolError('SIGNATURE_MISSING', 'the request has no signature-input or no signature header');
  }
  return {
    signatureInput: singleHeader(headers, 'signature-input') as string,
    signature: singleHeader(headers, 'signature') as string,
  };
}

/** Steps 4 to 6: the signature's validity window, against the caller's clock. */
function checkWindow(
  created: number,
  expires: number,
  input: Pick<VerifyRequestInput, 'now' | 'maxWindowSeconds' | 'clockSkewSeconds'>,
): void {
  const maxWindow = input.maxWindowSeconds ?? 300;
  const skew = input.clockSkewSeconds ?? 30;
  if (expires <= created || expires - created > maxWindow) {
    throw new ProtocolError(
      'SIGNATURE_WINDOW_TOO_LONG',
      `signature-input: expires - created must be between 1 and ${maxWindow} seconds`,
    );
  }
  if (created > input.now + skew) {
    throw new ProtocolError('SIGNATURE_NOT_YET_VALID', 'signature-input: created is in the future');
  }
  if (input.now > expires + skew) throw new ProtocolError('SIGNATURE_EXPIRED', 'signature-input: expired');
}

/** Step 7: the Content-Digest field (as signed) and its sha-256, when content-digest is covered. */
function coveredDigest(
  covered: readonly string[],
  headers: VerifyRequestInput['headers'],
  hasBody: boolean,
): { field: string; sha256: Uint8Array } | undefined {
  if (covered !== WITH_BODY) {
    if (hasBody) {
      throw new ProtocolError('DIGEST_MISSING', 'the request has a body but content-digest is not covered');
    }
    return undefined;
  }
  const field = singleHeader(headers, 'content-digest');
  if (field === undefined) throw new ProtocolError('DIGEST_MISSING', 'no content-digest header');
  return { field, sha256: parseContentDigest(field) };
}

/**
 * The signature base of RFC 9421 §2.5: `"<name>": <value>\n` per component, then
 * `"@signature-params": <params>` with no trailing newline. Values must be printable ASCII (or tab),
 * so no value can end its line early and forge another.
 */
export function signatureBase(components: readonly Component[], signatureParams: string): string {
  let base = '';
  for (const { name, value } of components) {
    if (!/^[\t\x20-\x7e]*$/.test(value)) malformed(`${name}: only printable ASCII may be signed`);
    base += `"${name}": ${value}\n`;
  }
  return `${base}"@signature-params": ${signatureParams}`;
}

function componentsOf(method: string, targetUri: string, digest: string | undefined): Component[] {
  const components = [
    { name: '@method', value: method },
    { name: '@target-uri', value: targetUri },
  ];
  return digest === undefined ? components : [...components, { name: 'content-digest', value: digest }];
}

function signatureParams(
  covered: readonly string[],
  p: { created: number; expires: number; nonce: string; keyId: string },
): string {
  const list: InnerList = {
    kind: 'inner-list',
    items: covered.map((name) => ({ kind: 'item', value: name, params: [] })),
    params: [
      ['created', p.created],
      ['expires', p.expires],
      ['nonce', p.nonce],
      ['keyid', p.keyId],
      ['alg', ALG],
    ],
  };
  return serializeInnerList(list);
}

function parseSignatureInput(text: string) {
  const member = onlyMember('signature-input', text);
  if (member.kind !== 'inner-list') malformed(`signature-input: ${LABEL} must be an inner list`);
  const names = member.items.map((item) => {
    if (typeof item.value !== 'string' || item.params.length > 0) {
      malformed('signature-input: each covered component must be a string without parameters');
    }
    return item.value;
  });
  const covered = sameList(names, WITH_BODY) ? WITH_BODY : sameList(names, WITHOUT_BODY) ? WITHOUT_BODY : undefined;
  if (covered === undefined) {
    malformed('signature-input: covered components must be "@method" "@target-uri" ["content-digest"]');
  }
  PARAM_ORDER.forEach((key, i) => {
    const found = member.params[i]?.[0];
    if (found !== key) malformed(`signature-input: expected parameter "${key}"${found ? `, found "${found}"` : ''}`);
  });
  const extra = member.params[PARAM_ORDER.length];
  if (extra !== undefined) malformed(`signature-input: unexpected parameter "${extra[0]}"`);
  const [created, expires, nonce, keyId, alg] = member.params.map(([, value]) => value);
  if (!isTime(created)) malformed('signature-input: created must be a non-negative integer');
  if (!isTime(expires)) malformed('signature-input: expires must be a non-negative integer');
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) {
    malformed('signature-input: nonce must be a string of 16 to 128 base64url characters');
  }
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    malformed('signature-input: keyid must be a string of 32 lowercase hex digits');
  }
  if (alg !== ALG) malformed(`signature-input: alg must be "${ALG}"`);
  return { covered, created, expires, nonce, keyId };
}

function parseSignature(text: string): Uint8Array {
  const member = onlyMember('signature', text);
  if (member.kind !== 'item' || !(member.value instanceof Uint8Array) || member.params.length > 0) {
    malformed(`signature: ${LABEL} must be a byte sequence`);
  }
  if (member.value.length !== SIGNATURE_LENGTH) malformed(`signature: must be ${SIGNATURE_LENGTH} bytes`);
  return member.value;
}

function parseContentDigest(text: string): Uint8Array {
  const member = parseField('content-digest', text).get('sha-256');
  if (member === undefined) throw new ProtocolError('DIGEST_MISSING', 'content-digest: no sha-256 member');
  if (member.kind !== 'item' || !(member.value instanceof Uint8Array) || member.params.length > 0) {
    malformed('content-digest: sha-256 must be a byte sequence');
  }
  return member.value;
}

function onlyMember(header: string, text: string): DictionaryMember {
  const dictionary = parseField(header, text);
  const member = dictionary.get(LABEL);
  if (member === undefined || dictionary.size !== 1) malformed(`${header}: must have exactly one member, ${LABEL}`);
  return member;
}

function parseField(header: string, text: string): Map<string, DictionaryMember> {
  try {
    return parseDictionary(text);
  } catch (cause) {
    if (!(cause instanceof ProtocolError)) throw cause;
    throw new ProtocolError('SIGNATURE_MALFORMED', `${header}: ${cause.message}`, { cause });
  }
}

/** RFC 9421 §2.1: the value with surrounding whitespace removed; a repeated header is refused. */
function singleHeader(headers: VerifyRequestInput['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value) && value.length > 1) malformed(`${name}: the header appears more than once`);
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined) return undefined;
  // a loop, not a regex: /[ \t]+$/ backtracks quadratically on a long run of inner spaces
  let start = 0;
  let end = single.length;
  while (start < end && (single[start] === ' ' || single[start] === '\t')) start++;
  while (end > start && (single[end - 1] === ' ' || single[end - 1] === '\t')) end--;
  return single.slice(start, end);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TIME;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function malformed(message: string): never {
  throw new ProtocolError('SIGNATURE_MALFORMED', message);
}
