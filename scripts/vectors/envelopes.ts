/**
 * spec/vectors/envelopes.json: one signed envelope of every message type a lab or the forum's
 * admin sends (spec/protocol.md §3–4), a relay's refusal abort carrying its evidence (§5), and a
 * session's deadlines computed from proposals with and without `deadline` and `joinBy` (§5), on fixed data (test keys from fixed labels, a fixed session
 * id and clock), with their bytes, decoded headers, payloads in CBOR diagnostic notation and hashes,
 * and altered copies that a decoder must refuse with the given error code. Every payload is built as
 * the real message and checked with protocol's `parseMessage` before it is sealed, so a vector
 * cannot show a shape the relay refuses. test/spec-vectors.test.ts regenerates the file byte for
 * byte, re-opens every entry and parses every payload as its type.
 */
import { BlindingKey, coinCommitment, keyCommitment, keyId, sha256, signingPublicKey, toHex } from '@overlap/crypto';
import {
  type CborValue,
  decodeDeterministic,
  EnvelopeChain,
  type MessageType,
  type OpenedEnvelope,
  packTags,
  parseMessage,
  sessionDeadlines,
} from '@overlap/protocol';

const utf8 = (text: string) => new TextEncoder().encode(text);
const CREATED = 1_798_761_600_000;

function testSigner(label: string) {
  const seed = sha256(utf8(`OVERLAP-V1 test vector: ${label}`));
  const publicKey = signingPublicKey(seed);
  return { label, seed, publicKey, keyId: keyId(publicKey), secretKey: seed };
}

/** CBOR diagnostic notation (RFC 8949 §8) of a decoded payload, map keys in their encoded order. */
function diagnostic(value: CborValue): string {
  if (value instanceof Uint8Array) return `h'${toHex(value)}'`;
  if (Array.isArray(value)) return `[${value.map(diagnostic).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${diagnostic(v as CborValue)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Seals one chain of envelopes (seq from 0, each `prev` the hash of the one before), each payload checked first. */
function sealChain(
  signer: ReturnType<typeof testSigner>,
  session: Uint8Array,
  messages: [MessageType, CborValue][],
): OpenedEnvelope[] {
  const chain = new EnvelopeChain(session, signer);
  return messages.map(([type, payload], seq) => {
    parseMessage(type, payload); // the vector must be a valid message of its type
    return chain.seal(type, payload, CREATED + seq);
  });
}

export function buildEnvelopeVectors(): string {
  const lab = testSigner('envelope signer');
  const other = testSigner('second lab');
  const admin = testSigner('forum admin');
  const relay = testSigner('relay');
  const session = sha256(utf8('OVERLAP-V1 test vector: session')).subarray(0, 16);
  const zeroSession = new Uint8Array(16);
  const tags = packTags([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
  // The lab's session key and coin, from fixed labels like the signers (ciphersuite.md §10).
  const blindingKey = BlindingKey.fromBytes(sha256(utf8('OVERLAP-V1 test vector: session key')));
  const coin = sha256(utf8('OVERLAP-V1 test vector: coin'));
  const commitments = { key: keyCommitment(blindingKey), coin: coinCommitment(session, lab.keyId, coin) };
  blindingKey.dispose();
  const labChain = sealChain(lab, session, [
    [
      'session_proposal',
      {
        labs: [lab.keyId, other.keyId],
        kinds: ['email', 'ip'],
        policy: { kind: 'threshold', t: 2 },
        maxItemsPerKind: 1_000_000,
        deadline: CREATED + 86_400_000,
        joinBy: CREATED + 3_600_000,
        proofs: 'spot',
        chunkSize: 4096,
      },
    ],
    ['join', { sizes: { email: 1024, ip: 256 }, ...commitments }],
    ['tag_chunk', { kind: 'email', owner: lab.keyId, hop: 0, first: 0, tags }],
    ['blind_result', { kind: 'ip', owner: other.keyId, hop: 1, first: 65_536, tags }],
    ['reveal', { coin }],
    [
      'hop_proof',
      {
        kind: 'ip',
        owner: other.keyId,
        hop: 1,
        first: 65_536,
        signs: Uint8Array.of(0b10),
        proof: Uint8Array.from([
          ...sha256(utf8('OVERLAP-V1 test vector: proof c')),
          ...sha256(utf8('OVERLAP-V1 test vector: proof z')),
        ]),
      },
    ],
    ['abort', { reason: 'the lab stopped its run', culprit: other.keyId }],
  ]);
  const adminChain = sealChain(admin, zeroSession, [
    [
      'enrollment',
      {
        lab: 'lab-a',
        name: 'Lab A',
        signing_key: lab.publicKey,
        sealing_key: sha256(utf8('OVERLAP-V1 test vector: sealing key')),
        valid_from: CREATED,
        valid_until: CREATED + 365 * 86_400_000,
      },
    ],
    ['revocation', { key: lab.keyId, reason: 'key rotated', effective: CREATED + 86_400_000 }],
  ]);
  // A refusal abort (protocol.md §5): the relay's abort carries the lab's refused envelope, as it
  // was signed: here another envelope at the seq of the lab's tag_chunk (2, after its join).
  const refused = new EnvelopeChain(session, lab, { seq: 1, hash: (labChain[1] as OpenedEnvelope).hash }).seal(
    'tag_chunk',
    { kind: 'email', owner: lab.keyId, hop: 0, first: 0, tags: packTags([new Uint8Array(32).fill(3)]) },
    CREATED + 2,
  );
  const relayChain = sealChain(relay, session, [
    [
      'abort',
      {
        reason: `the relay refused ${lab.keyId}'s tag_chunk (seq 2), CONFLICT: ${lab.keyId} already sent envelope 2 with other bytes`,
        culprit: lab.keyId,
        evidence: refused.bytes,
      },
    ],
  ]);
  const first = labChain[1] as OpenedEnvelope;
  const alter = (bytes: Uint8Array, at: number) => {
    const copy = Uint8Array.from(bytes);
    copy[at] = (copy[at] as number) ^ 0x01;
    return toHex(copy);
  };
  const vectors = {
    description:
      'Signed envelopes (spec/protocol.md §3–4): deterministic CBOR {h, p, s}, Ed25519 over "OVERLAP-V1-ENVELOPE" || 0x00 || h, one of every message type a lab or the admin signs, and the abort the relay signs for a refused envelope, whose evidence is the bytes of that envelope (another tag_chunk of the envelope signer at seq 2, where its tag_chunk is, following its join: equivocation; the relay signer stands for the key of the relay). Byte strings are hex; "payload" is the decoded payload in CBOR diagnostic notation (RFC 8949 §8). Each signer is a test key whose seed is SHA-256 of "OVERLAP-V1 test vector: " and its label. Envelopes of one signer in one session form a chain, in the order given. The join commits to the session key SHA-256("OVERLAP-V1 test vector: session key") and to the coin SHA-256("OVERLAP-V1 test vector: coin") (ciphersuite.md §10); the reveal opens that coin commitment. The hop_proof shows the format of the message only (its signs and proof bytes are labelled hashes, not a proof that verifies): spec/vectors/hop-proofs.json has the proofs that do. "deadlines": the join deadline and deadline of a session (ms since the epoch) from the deadline fields of a proposal and the created of its envelope: deadline = that of the proposal, or created + 86,400,000; join_by = the smaller of the deadline and the joinBy of the proposal, or of the deadline and created + 3,600,000.',
    signers: [lab, other, admin, relay].map((s) => ({
      label: s.label,
      seed: toHex(s.seed),
      public_key: toHex(s.publicKey),
      key_id: s.keyId,
    })),
    envelopes: [...labChain, ...adminChain, ...relayChain].map((e) => ({
      bytes: toHex(e.bytes),
      hash: toHex(e.hash),
      header: {
        ...e.header,
        session: toHex(e.header.session),
        prev: toHex(e.header.prev),
        digest: toHex(e.header.digest),
      },
      payload: diagnostic(decodeDeterministic(payloadOf(e))),
    })),
    deadlines: DEADLINE_CASES.map((fields) => {
      const { joinBy, deadline } = sessionDeadlines(fields, CREATED);
      return { proposal: fields, created: CREATED, join_by: joinBy, deadline };
    }),
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

/** A proposal's deadline fields (spec/protocol.md §5, "Deadlines"): each default, and the join deadline capped by the deadline. */
const DEADLINE_CASES: { deadline?: number; joinBy?: number }[] = [
  { deadline: CREATED + 86_400_000, joinBy: CREATED + 3_600_000 },
  {},
  { joinBy: CREATED + 7_200_000 },
  { deadline: CREATED + 1_800_000 },
  { deadline: CREATED + 600_000, joinBy: CREATED + 1_200_000 },
];

/** The payload bytes ("p") of an envelope, as signed. */
function payloadOf(envelope: OpenedEnvelope): Uint8Array {
  const outer = decodeDeterministic(envelope.bytes) as { p: Uint8Array };
  return outer.p;
}
