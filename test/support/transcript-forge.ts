/**
 * Tools to tamper with a session transcript the way a dishonest party could: change bytes, drop,
 * repeat or reorder entries, and — holding a key — sign again what it changed: a lab re-seals its
 * own chain, the relay re-seals its envelopes and rebuilds and signs a whole log of its choosing.
 * The audit must still catch each change, by the check named in the suite.
 */
import type { LabKeys } from '@overlap/crypto';
import { sign } from '@overlap/crypto';
import { ed25519NoteSigner, formatCheckpoint, leafHash, MerkleTree, signNote } from '@overlap/log';
import {
  type CborValue,
  decodeDeterministic,
  decodeTranscript as decodeWireTranscript,
  ENVELOPE_DOMAIN,
  encodeDeterministic,
  encodeTranscript,
  type OpenedEnvelope,
  openEnvelope,
  sealEnvelope,
  type Transcript,
  type TranscriptEntry,
} from '@overlap/protocol';

export { encodeTranscript };

/** A transcript (spec/relay-api.md §3) as plain objects whose byte strings are copies (safe to change). */
export function decodeTranscript(bytes: Uint8Array): Transcript {
  return structuredClone(decodeWireTranscript(Uint8Array.from(bytes)));
}

/** Opens an envelope without checking whose it is (the sender's key comes from the caller's map). */
export function peek(bytes: Uint8Array, keyOf: (id: string) => Uint8Array | undefined): OpenedEnvelope {
  return openEnvelope(bytes, keyOf);
}

/** The envelope with one byte of its header (h), payload (p) or signature (s) changed. */
export function flipInPart(bytes: Uint8Array, part: 'h' | 'p' | 's'): Uint8Array {
  const envelope = structuredClone(decodeDeterministic(Uint8Array.from(bytes))) as Record<string, Uint8Array>;
  const target = envelope[part] as Uint8Array;
  const at = Math.floor(target.length / 2);
  target[at] = (target[at] as number) ^ 0x01;
  return encodeDeterministic(envelope as unknown as CborValue);
}

/** The envelope with its signature replaced by `other`'s signature over the same header. */
export function signedByAnother(bytes: Uint8Array, other: LabKeys): Uint8Array {
  const envelope = structuredClone(decodeDeterministic(Uint8Array.from(bytes))) as Record<string, Uint8Array>;
  const h = envelope.h as Uint8Array;
  const prefix = new TextEncoder().encode(`${ENVELOPE_DOMAIN}\0`);
  const input = new Uint8Array(prefix.length + h.length);
  input.set(prefix);
  input.set(h, prefix.length);
  envelope.s = sign(other.signing.secretKey, input);
  return encodeDeterministic(envelope as unknown as CborValue);
}

/**
 * Re-seals, with `keys`, every envelope of `keys`' sender in `envelopes` (in order), after
 * `change` had its way with their payloads: consecutive seq from the first one's, each prev the
 * hash of the one before. What a sender holding its own key can always do.
 */
export function resealChain(
  envelopes: Uint8Array[],
  keys: LabKeys,
  keyOf: (id: string) => Uint8Array | undefined,
  change: (payload: CborValue, header: OpenedEnvelope['header']) => CborValue = (p) => p,
): Uint8Array[] {
  let chain: { seq: number; prev?: Uint8Array } | undefined;
  return envelopes.map((bytes) => {
    const opened = openEnvelope(bytes, keyOf);
    if (opened.header.sender !== keys.keyId) return bytes;
    chain ??= { seq: opened.header.seq, ...(opened.header.seq > 0 && { prev: opened.header.prev }) };
    const sealed = sealEnvelope(
      {
        type: opened.header.type,
        session: opened.header.session,
        seq: chain.seq,
        ...(chain.prev && { prev: chain.prev }),
        created: opened.header.created,
        payload: change(structuredClone(opened.payload) as CborValue, opened.header),
      },
      { keyId: keys.keyId, secretKey: keys.signing.secretKey },
    );
    chain = { seq: chain.seq + 1, prev: sealed.hash };
    return sealed.bytes;
  });
}

/**
 * A whole new log that the relay (holding its key) signs: the membership entries, then the
 * session's envelopes, with receipts against one checkpoint of it.
 */
export function relog(
  t: Transcript,
  relayKeys: LabKeys,
  membership: Uint8Array[],
  envelopes: Uint8Array[],
): Transcript {
  const leaves = [...membership, ...envelopes];
  const tree = new MerkleTree(leaves.map((leaf) => leafHash(leaf)));
  const note = signNote(
    formatCheckpoint({ origin: t.relay.origin, size: tree.size, rootHash: tree.root(), extensions: [] }),
    [ed25519NoteSigner(t.relay.origin, relayKeys.signing.secretKey)],
  );
  const entry = (envelope: Uint8Array, index: number): TranscriptEntry => ({
    index,
    envelope,
    receipt: { index, proof: tree.inclusionProof(index), checkpoint: note },
  });
  return {
    ...t,
    membership: membership.map((m, i) => entry(m, i)),
    envelopes: envelopes.map((e, i) => entry(e, membership.length + i)),
    checkpoints: [{ size: tree.size, note }],
    consistency: [],
  };
}
