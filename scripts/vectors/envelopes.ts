/**
 * spec/vectors/envelopes.json: signed envelopes on fixed data (a test key from a fixed label, a fixed
 * session id and clock), with their bytes, decoded headers and hashes, and altered copies that a
 * decoder must refuse with the given error code. test/spec-vectors.test.ts regenerates the file
 * byte for byte and re-opens every entry.
 */
import { keyId, sha256, signingPublicKey, toHex } from '@overlap/crypto';
import { type CborValue, type OpenedEnvelope, packTags, sealEnvelope } from '@overlap/protocol';

const utf8 = (text: string) => new TextEncoder().encode(text);

export function buildEnvelopeVectors(): string {
  const seed = sha256(utf8('OVERLAP-V1 test vector: envelope signer'));
  const publicKey = signingPublicKey(seed);
  const signer = { keyId: keyId(publicKey), secretKey: seed };
  const session = sha256(utf8('OVERLAP-V1 test vector: session')).subarray(0, 16);
  const payloads: [string, CborValue][] = [
    ['join', { sizes: { email: 1024, ip: 256 } }],
    [
      'tag_chunk',
      { kind: 'email', first: 0, tags: packTags([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]) },
    ],
  ];
  const envelopes: OpenedEnvelope[] = [];
  for (const [i, [type, payload]] of payloads.entries()) {
    const prev = envelopes[i - 1]?.hash;
    envelopes.push(
      sealEnvelope(
        { type: type as 'join', session, seq: i, ...(prev && { prev }), created: 1_798_761_600_000 + i, payload },
        signer,
      ),
    );
  }
  const first = envelopes[0] as OpenedEnvelope;
  const alter = (bytes: Uint8Array, at: number) => {
    const copy = Uint8Array.from(bytes);
    copy[at] = (copy[at] as number) ^ 0x01;
    return toHex(copy);
  };
  const vectors = {
    description:
      'Signed envelopes (spec/protocol.md, "Envelopes"): deterministic CBOR {h, p, s}, Ed25519 over "OVERLAP-V1-ENVELOPE" || 0x00 || h. Byte strings are hex. The signer is a test key: its seed is SHA-256 of a fixed label.',
    signer_seed: toHex(seed),
    signer_public_key: toHex(publicKey),
    signer_key_id: signer.keyId,
    envelopes: envelopes.map((e) => ({
      bytes: toHex(e.bytes),
      hash: toHex(e.hash),
      header: {
        ...e.header,
        session: toHex(e.header.session),
        prev: toHex(e.header.prev),
        digest: toHex(e.header.digest),
      },
    })),
    rejected: [
      { why: 'a trailing byte', bytes: `${toHex(first.bytes)}00`, error: 'BAD_ENCODING' },
      {
        why: 'the last signature byte changed',
        bytes: alter(first.bytes, first.bytes.length - 1),
        error: 'BAD_ENVELOPE',
      },
      {
        why: 'the map header changed to an indefinite-length map',
        bytes: `bf${toHex(first.bytes).slice(2)}ff`,
        error: 'BAD_ENCODING',
      },
    ],
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
