/**
 * HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) in Overlap's profile: the RFC
 * vectors reproduce byte for byte, sign → verify round trips, every error code is reached by one
 * specific mutation, and any changed byte of body, method or target URI is refused.
 */
import { fc, test } from '@fast-check/vitest';
import { generateSigningKeyPair, keyId, sha256, sign, signingPublicKey, verify } from '@overlap/crypto';
import { describe, expect } from 'vitest';
import { HTTP_SIGNATURE_ERROR_CODES, type HttpSignatureErrorCode, ProtocolError } from '../src/errors.js';
import {
  checkRequestBody,
  contentDigest,
  signatureBase,
  signRequest,
  type VerifyRequestInput,
  verifyRequest,
  verifyRequestHeaders,
} from '../src/http-signature.js';
import { type InnerList, parseDictionary, serializeInnerList } from '../src/structured-fields.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64url = (s: string) => Uint8Array.from(Buffer.from(s, 'base64url'));

/** RFC 9421 Appendix B.1.4 (test-key-ed25519, JWK x and d) and B.2.6 (signing a request using ed25519). */
const RFC9421_B26 = {
  x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs',
  d: 'n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU',
  values: {
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    '@method': 'POST',
    '@path': '/foo',
    '@authority': 'example.com',
    'content-type': 'application/json',
    'content-length': '18',
  } as Record<string, string>,
  signatureInput:
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  signatureBase: [
    '"date": Tue, 20 Apr 2021 02:07:55 GMT',
    '"@method": POST',
    '"@path": /foo',
    '"@authority": example.com',
    '"content-type": application/json',
    '"content-length": 18',
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  ].join('\n'),
  signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
};

/** RFC 9530 §2 and Appendix B: the digests of the body `{"hello": "world"}`. */
const RFC9530 = {
  body: '{"hello": "world"}',
  sha256: 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  sha512: 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
};

const lab = generateSigningKeyPair();
const other = generateSigningKeyPair();
const id = keyId(lab.publicKey);
const keys = new Map([[id, lab.publicKey]]);
const T = 1_798_761_600;
const NONCE = 'bm9uY2Utbm9uY2UtMDE';
const request = {
  method: 'POST',
  targetUri: 'https://relay.example/v1/sessions/abc?after=3',
  body: utf8('{"join":1}'),
};
const signer = { keyId: id, secretKey: lab.secretKey, created: T, expires: T + 60, nonce: NONCE };
const { body: _body, ...noBody } = request;
const headers = signRequest({ ...request, ...signer });
type Headers = VerifyRequestInput['headers'];

function check(h: Headers, over: Partial<VerifyRequestInput> = {}) {
  return verifyRequest({ ...request, headers: h, now: T + 10, publicKeyOf: (k) => keys.get(k), ...over });
}

function codeOf(run: () => unknown): HttpSignatureErrorCode | 'ACCEPTED' {
  try {
    run();
    return 'ACCEPTED';
  } catch (error) {
    if (error instanceof ProtocolError && error.isHttpSignatureError()) return error.code;
    throw error;
  }
}

const edit = (name: string, from: string | RegExp, to: string): Headers => ({
  ...headers,
  [name]: (headers[name] as string).replace(from, to),
});

/** A valid signature over a custom Content-Digest value (signRequest only ever writes sha-256). */
function signWithDigestField(digestField: string): Headers {
  const params = (headers['signature-input'] as string).slice('sig1='.length);
  const base = signatureBase(
    [
      { name: '@method', value: request.method },
      { name: '@target-uri', value: request.targetUri },
      { name: 'content-digest', value: digestField },
    ],
    params,
  );
  const signature = sign(lab.secretKey, utf8(base));
  return { ...headers, 'content-digest': digestField, signature: `sig1=:${b64(signature)}:` };
}

describe('RFC vectors', () => {
  test('RFC 9421 B.2.6: the exact signature base and ed25519 signature', () => {
    const secretKey = unb64url(RFC9421_B26.d);
    expect(signingPublicKey(secretKey)).toEqual(unb64url(RFC9421_B26.x));
    const member = parseDictionary(RFC9421_B26.signatureInput).get('sig-b26') as InnerList;
    expect(member.kind).toBe('inner-list');
    const params = serializeInnerList(member);
    expect(`sig-b26=${params}`).toBe(RFC9421_B26.signatureInput);
    const components = member.items.map((item) => ({
      name: item.value as string,
      value: RFC9421_B26.values[item.value as string] as string,
    }));
    const base = signatureBase(components, params);
    expect(base).toBe(RFC9421_B26.signatureBase);
    const signature = sign(secretKey, utf8(base));
    expect(`sig-b26=:${b64(signature)}:`).toBe(RFC9421_B26.signature);
    const received = parseDictionary(RFC9421_B26.signature).get('sig-b26');
    expect(received?.kind === 'item' && received.value).toEqual(signature);
    expect(verify(unb64url(RFC9421_B26.x), utf8(base), signature)).toBe(true);
  });

  test('RFC 9530 §2: Content-Digest of {"hello": "world"}', () => {
    expect(contentDigest(utf8(RFC9530.body))).toBe(RFC9530.sha256);
  });
});

describe('sign then verify', () => {
  test('a request with a body covers content-digest and verifies', () => {
    expect(headers).toEqual({
      'content-digest': contentDigest(request.body),
      'signature-input': `sig1=("@method" "@target-uri" "content-digest");created=${T};expires=${T + 60};nonce="${NONCE}";keyid="${id}";alg="ed25519"`,
      signature: expect.stringMatching(/^sig1=:[A-Za-z0-9+/]{86}==:$/),
    });
    expect(check(headers)).toEqual({ keyId: id, created: T, expires: T + 60, nonce: NONCE });
  });

  test('a request without a body covers only @method and @target-uri', () => {
    const h = signRequest({ ...noBody, method: 'GET', ...signer });
    expect(Object.keys(h).sort()).toEqual(['signature', 'signature-input']);
    expect(h['signature-input']).toMatch(/^sig1=\("@method" "@target-uri"\);created=/);
    expect(verifyRequest({ ...noBody, method: 'GET', headers: h, now: T, publicKeyOf: (k) => keys.get(k) }).keyId).toBe(
      id,
    );
    expect(check(h, { method: 'GET', body: new Uint8Array(0) }).nonce).toBe(NONCE);
  });

  test('an empty body given to signRequest is still covered by content-digest', () => {
    const h = signRequest({ ...request, ...signer, body: new Uint8Array(0) });
    expect(h['content-digest']).toBe(contentDigest(new Uint8Array(0)));
    expect(check(h, { body: new Uint8Array(0) }).keyId).toBe(id);
  });

  test('surrounding whitespace and a one-element header array are accepted (RFC 9421 §2.1)', () => {
    expect(check({ ...headers, signature: [` ${headers.signature}\t`] }).keyId).toBe(id);
  });

  test('Signature-Input is verified as parsed: leading zeros and extra spaces do not matter (RFC 9421 §3.2)', () => {
    const respelled = (headers['signature-input'] as string)
      .replace(`created=${T}`, `created=00${T}`)
      .replace('("@method" ', '(  "@method"   ');
    expect(check({ ...headers, 'signature-input': respelled }).created).toBe(T);
  });

  test('content-digest members other than sha-256 are ignored', () => {
    expect(check(signWithDigestField(`${RFC9530.sha512}, ${contentDigest(request.body)}`)).keyId).toBe(id);
  });

  test('the window edges and the clock skew are inclusive', () => {
    expect(check(signRequest({ ...request, ...signer, expires: T + 300 }), { now: T }).keyId).toBe(id);
    expect(check(headers, { now: T + 60 + 30 }).keyId).toBe(id);
    expect(check(headers, { now: T - 30 }).keyId).toBe(id);
  });
});

describe('each error code is reached by its mutation', () => {
  const withoutHeader = (name: string): Headers => ({ ...headers, [name]: undefined });
  const canonicalZeros = `sig1=:${'A'.repeat(84)}AA==:`;
  const cases: [string, () => unknown, HttpSignatureErrorCode][] = [
    ['no signature header', () => check(withoutHeader('signature')), 'SIGNATURE_MISSING'],
    ['no signature-input header', () => check(withoutHeader('signature-input')), 'SIGNATURE_MISSING'],
    ['no headers at all', () => check({}), 'SIGNATURE_MISSING'],
    ['signature without closing colon', () => check(edit('signature', /:$/, '')), 'SIGNATURE_MALFORMED'],
    ['signature in bad base64', () => check({ ...headers, signature: 'sig1=:!!!!:' }), 'SIGNATURE_MALFORMED'],
    [
      'base64 with non-zero pad bits',
      () => check({ ...headers, signature: `sig1=:${'A'.repeat(84)}AB==:` }),
      'SIGNATURE_MALFORMED',
    ],
    ['signature of 3 bytes', () => check({ ...headers, signature: 'sig1=:AAAA:' }), 'SIGNATURE_MALFORMED'],
    ['signature as a string', () => check({ ...headers, signature: 'sig1="abc"' }), 'SIGNATURE_MALFORMED'],
    ['extra member in signature', () => check(edit('signature', /$/, ', sig2=:AAAA:')), 'SIGNATURE_MALFORMED'],
    [
      'extra member in signature-input',
      () => check(edit('signature-input', /$/, ', sig2=("@method")')),
      'SIGNATURE_MALFORMED',
    ],
    [
      'wrong label',
      () =>
        check({
          ...edit('signature', 'sig1', 'sig2'),
          'signature-input': (headers['signature-input'] as string).replace('sig1', 'sig2'),
        }),
      'SIGNATURE_MALFORMED',
    ],
    [
      'wrong component order',
      () => check(edit('signature-input', '"@method" "@target-uri"', '"@target-uri" "@method"')),
      'SIGNATURE_MALFORMED',
    ],
    [
      'duplicated components',
      () => check(edit('signature-input', '"@method"', '"@method" "@method"')),
      'SIGNATURE_MALFORMED',
    ],
    [
      'a component with parameters',
      () => check(edit('signature-input', '"content-digest"', '"content-digest";key="x"')),
      'SIGNATURE_MALFORMED',
    ],
    [
      'signature-input not an inner list',
      () => check({ ...headers, 'signature-input': 'sig1=:AAAA:' }),
      'SIGNATURE_MALFORMED',
    ],
    [
      'created as a string',
      () => check(edit('signature-input', `created=${T}`, `created="${T}"`)),
      'SIGNATURE_MALFORMED',
    ],
    [
      'integer with 16 digits',
      () => check(edit('signature-input', `created=${T}`, 'created=1234567890123456')),
      'SIGNATURE_MALFORMED',
    ],
    ['negative created', () => check(edit('signature-input', `created=${T}`, `created=-${T}`)), 'SIGNATURE_MALFORMED'],
    ['decimal created', () => check(edit('signature-input', `created=${T}`, `created=${T}.5`)), 'SIGNATURE_MALFORMED'],
    ['alg as a token', () => check(edit('signature-input', 'alg="ed25519"', 'alg=ed25519')), 'SIGNATURE_MALFORMED'],
    ['alg rsa-pss-sha512', () => check(edit('signature-input', 'ed25519', 'rsa-pss-sha512')), 'SIGNATURE_MALFORMED'],
    ['nonce missing', () => check(edit('signature-input', `;nonce="${NONCE}"`, '')), 'SIGNATURE_MALFORMED'],
    [
      'parameters reordered',
      () => check(edit('signature-input', `;created=${T};expires=${T + 60}`, `;expires=${T + 60};created=${T}`)),
      'SIGNATURE_MALFORMED',
    ],
    ['an extra parameter', () => check(edit('signature-input', /$/, ';tag="x"')), 'SIGNATURE_MALFORMED'],
    ['a repeated parameter', () => check(edit('signature-input', /$/, ';alg="ed25519"')), 'SIGNATURE_MALFORMED'],
    ['nonce too short', () => check(edit('signature-input', NONCE, 'abc')), 'SIGNATURE_MALFORMED'],
    ['nonce outside base64url', () => check(edit('signature-input', NONCE, 'a+b/c+d/e+f/g+h/')), 'SIGNATURE_MALFORMED'],
    ['keyid in uppercase', () => check(edit('signature-input', id, id.toUpperCase())), 'SIGNATURE_MALFORMED'],
    [
      'duplicated header (array)',
      () => check({ ...headers, signature: [headers.signature as string, headers.signature as string] }),
      'SIGNATURE_MALFORMED',
    ],
    [
      'duplicated header (joined by node)',
      () => check(edit('signature', /$/, `, ${headers.signature}`)),
      'SIGNATURE_MALFORMED',
    ],
    ['empty signature-input', () => check({ ...headers, 'signature-input': '' }), 'SIGNATURE_MALFORMED'],
    [
      'content-digest not structured',
      () => check({ ...headers, 'content-digest': 'sha-256=X48E' }),
      'SIGNATURE_MALFORMED',
    ],
    ['sha-256 as a string', () => check({ ...headers, 'content-digest': 'sha-256="abc"' }), 'SIGNATURE_MALFORMED'],
    ['no content-digest header', () => check(withoutHeader('content-digest')), 'DIGEST_MISSING'],
    ['content-digest without sha-256', () => check({ ...headers, 'content-digest': RFC9530.sha512 }), 'DIGEST_MISSING'],
    ['a body the signature does not cover', () => check(signRequest({ ...noBody, ...signer })), 'DIGEST_MISSING'],
    [
      'a flipped body byte',
      () => check(headers, { body: Uint8Array.from(request.body, (b, i) => (i === 3 ? b ^ 1 : b)) }),
      'DIGEST_MISMATCH',
    ],
    ['a body dropped by the receiver', () => check(headers, { body: new Uint8Array(0) }), 'DIGEST_MISMATCH'],
    ['expired', () => check(headers, { now: T + 60 + 31 }), 'SIGNATURE_EXPIRED'],
    ['created in the future', () => check(headers, { now: T - 31 }), 'SIGNATURE_NOT_YET_VALID'],
    [
      'window of 301 s',
      () => check(signRequest({ ...request, ...signer, expires: T + 301 })),
      'SIGNATURE_WINDOW_TOO_LONG',
    ],
    ['expires = created', () => check(signRequest({ ...request, ...signer, expires: T })), 'SIGNATURE_WINDOW_TOO_LONG'],
    ['window above a custom maximum', () => check(headers, { maxWindowSeconds: 59 }), 'SIGNATURE_WINDOW_TOO_LONG'],
    ['unknown key', () => check(headers, { publicKeyOf: () => undefined }), 'UNKNOWN_KEY'],
    ['a registered key of 31 bytes', () => check(headers, { publicKeyOf: () => new Uint8Array(31) }), 'UNKNOWN_KEY'],
    ['another key', () => check(headers, { publicKeyOf: () => other.publicKey }), 'SIGNATURE_INVALID'],
    ['another method', () => check(headers, { method: 'PUT' }), 'SIGNATURE_INVALID'],
    ['the method in lowercase', () => check(headers, { method: 'post' }), 'SIGNATURE_INVALID'],
    [
      'another target URI',
      () => check(headers, { targetUri: 'https://relay.example/v1/sessions/abd?after=3' }),
      'SIGNATURE_INVALID',
    ],
    ['a canonical but wrong signature', () => check({ ...headers, signature: canonicalZeros }), 'SIGNATURE_INVALID'],
    ['another nonce', () => check(edit('signature-input', NONCE, `${NONCE}x`)), 'SIGNATURE_INVALID'],
    [
      'another content-digest',
      () => check({ ...headers, 'content-digest': contentDigest(utf8('x')) }, { body: utf8('x') }),
      'SIGNATURE_INVALID',
    ],
  ];

  describe.each(cases)('%s', (_name, run, code) => {
    test(`is ${code}`, () => {
      expect(codeOf(run)).toBe(code);
    });
  });

  test('together they reach every request-signature code, and only those', () => {
    expect(new Set(cases.map(([, , code]) => code))).toEqual(new Set(HTTP_SIGNATURE_ERROR_CODES));
  });
});

describe('signRequest refuses inputs outside the profile', () => {
  const cases: [string, Partial<Parameters<typeof signRequest>[0]>][] = [
    ['a keyid that is not 32 lowercase hex digits', { keyId: 'test-key-ed25519' }],
    ['a nonce of 15 characters', { nonce: 'a'.repeat(15) }],
    ['a nonce of 129 characters', { nonce: 'a'.repeat(129) }],
    ['a fractional created', { created: T + 0.5 }],
    ['a negative expires', { expires: -1 }],
    ['a method with a newline', { method: 'POST\n"@method": GET' }],
    ['a non-ASCII target URI', { targetUri: 'https://relay.example/ü' }],
  ];
  describe.each(cases)('%s', (_name, over) => {
    test('is SIGNATURE_MALFORMED and names no secret', () => {
      let caught: unknown;
      try {
        signRequest({ ...request, ...signer, ...over });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe('SIGNATURE_MALFORMED');
      expect((caught as Error).message).not.toContain(Buffer.from(lab.secretKey).toString('hex'));
    });
  });
});

describe('mutations', () => {
  const flip = (s: string, at: number, delta: number) => {
    const i = at % s.length;
    return s.slice(0, i) + String.fromCharCode((s.charCodeAt(i) + delta) & 0xff) + s.slice(i + 1);
  };

  test.prop([fc.constantFrom('body', 'method', 'targetUri'), fc.nat(), fc.integer({ min: 1, max: 255 })], {
    numRuns: 300,
  })('any single changed byte of body, method or target URI is refused', (part, at, delta) => {
    const over: Partial<VerifyRequestInput> =
      part === 'body'
        ? { body: Uint8Array.from(request.body, (b, i) => (i === at % request.body.length ? (b + delta) & 0xff : b)) }
        : part === 'method'
          ? { method: flip(request.method, at, delta) }
          : { targetUri: flip(request.targetUri, at, delta) };
    expect(codeOf(() => check(headers, over))).not.toBe('ACCEPTED');
  });

  test.prop([
    fc.array(fc.stringMatching(/^[\x20-\x7e]{0,12}$/), { maxLength: 4 }),
    fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), fc.integer({ min: -1e15 + 1, max: 1e15 - 1 }))),
  ])('a serialized inner list parses back to the same list (RFC 8941 §4.1 and §4.2)', (names, rawParams) => {
    const params = [...new Map(rawParams)];
    const list: InnerList = {
      kind: 'inner-list',
      items: names.map((value) => ({ kind: 'item', value, params: [] })),
      params,
    };
    expect(parseDictionary(`x=${serializeInnerList(list)}`).get('x')).toEqual(list);
  });
});

describe('verifyRequestHeaders, then checkRequestBody: the headers first, the body once it is in', () => {
  const base = { ...noBody, now: T + 10, publicKeyOf: (k: string) => keys.get(k) };

  test('a good request verifies from its headers, and its body then matches', () => {
    const verified = verifyRequestHeaders({ ...base, headers, hasBody: true });
    expect(verified.request.keyId).toBe(id);
    expect(() => checkRequestBody(verified, request.body.length, sha256(request.body))).not.toThrow();
  });

  test('another body is DIGEST_MISMATCH, only once the body is checked', () => {
    const verified = verifyRequestHeaders({ ...base, headers, hasBody: true });
    const changed = utf8('{"join":2}');
    expect(codeOf(() => checkRequestBody(verified, changed.length, sha256(changed)))).toBe('DIGEST_MISMATCH');
  });

  test('a signature over no digest: a body announced is DIGEST_MISSING from the headers, one that arrives unannounced from the body', () => {
    const bare = signRequest({ ...noBody, ...signer });
    expect(codeOf(() => verifyRequestHeaders({ ...base, headers: bare, hasBody: true }))).toBe('DIGEST_MISSING');
    const verified = verifyRequestHeaders({ ...base, headers: bare, hasBody: false });
    expect(verified.digestSha256).toBeUndefined();
    expect(() => checkRequestBody(verified, 0, sha256(new Uint8Array(0)))).not.toThrow();
    expect(codeOf(() => checkRequestBody(verified, 3, sha256(utf8('abc'))))).toBe('DIGEST_MISSING');
  });

  test('a bad signature is refused from the headers alone (no body needed)', () => {
    const forged = signRequest({ ...request, ...signer, secretKey: other.secretKey });
    expect(codeOf(() => verifyRequestHeaders({ ...base, headers: forged, hasBody: true }))).toBe('SIGNATURE_INVALID');
  });

  test.prop([fc.uint8Array({ maxLength: 64 })])('verifyRequest is the two steps in one', (body) => {
    const h = signRequest({ ...noBody, body, ...signer });
    const one = codeOf(() => verifyRequest({ ...base, headers: h, body: request.body }));
    const two = codeOf(() => {
      const verified = verifyRequestHeaders({ ...base, headers: h, hasBody: request.body.length > 0 });
      checkRequestBody(verified, request.body.length, sha256(request.body));
    });
    expect(two).toBe(one);
  });
});
