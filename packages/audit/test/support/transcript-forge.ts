/**
 * Building and forging transcripts as a party holding keys could: the relay logs a list of
 * envelopes (and can log any list it likes, signing a checkpoint over it); a lab or the relay
 * re-seals its own chain after changing, adding or dropping its envelopes. The audit must name the
 * right culprit whatever they sign.
 */
import type { LabKeys } from '@overlap/crypto';
import { ed25519NoteSigner, formatCheckpoint, leafHash, MerkleTree, signNote } from '@overlap/log';
import {
  type CborValue,
  decodeTranscript,
  type OpenedEnvelope,
  openEnvelope,
  sealEnvelope,
  type Transcript,
  type TranscriptEntry,
} from '@overlap/protocol';

/** The whole log — membership entries, then the session's envelopes — with one checkpoint and every receipt. */
export function logTranscript(
  who: { origin: string; relayKeys: LabKeys; admin: LabKeys; session: Uint8Array },
  membership: Uint8Array[],
  envelopes: Uint8Array[],
): Transcript {
  const leaves = [...membership, ...envelopes];
  const tree = new MerkleTree(leaves.map((leaf) => leafHash(leaf)));
  const note = signNote(
    formatCheckpoint({ origin: who.origin, size: tree.size, rootHash: tree.root(), extensions: [] }),
    [ed25519NoteSigner(who.origin, who.relayKeys.signing.secretKey)],
  );
  const entry = (envelope: Uint8Array, index: number): TranscriptEntry => ({
    index,
    envelope,
    receipt: { index, proof: tree.inclusionProof(index), checkpoint: note },
  });
  return {
    version: 1,
    relay: {
      origin: who.origin,
      log_key: who.relayKeys.signing.publicKey,
      relay_key_id: who.relayKeys.keyId,
      admin_key: who.admin.signing.publicKey,
    },
    session: who.session,
    membership: membership.map((m, i) => entry(m, i)),
    envelopes: envelopes.map((e, i) => entry(e, membership.length + i)),
    checkpoints: [{ size: tree.size, note }],
    consistency: [],
  };
}

/** A copy of the transcript safe to change. */
export function copyOf(t: Transcript): Transcript {
  return structuredClone(t);
}

/** What the relay can always do: log another list of envelopes, signing a checkpoint of it. */
export function relog(t: Transcript, who: { relayKeys: LabKeys; admin: LabKeys }, envelopes: Uint8Array[]): Transcript {
  return logTranscript(
    { origin: t.relay.origin, relayKeys: who.relayKeys, admin: who.admin, session: t.session },
    t.membership.map((m) => m.envelope),
    envelopes,
  );
}

export type Opened = OpenedEnvelope & { bytes: Uint8Array };

/**
 * Re-seals `keys`' chain in `envelopes` after `change` (which may return a new payload, `null` to
 * drop the envelope, or an array of payloads to put in its place): consecutive seq from the first,
 * each prev the hash of the one before. What a sender holding its own key can always do.
 */
export function resealChain(
  envelopes: Uint8Array[],
  keys: LabKeys,
  keyOf: (id: string) => Uint8Array | undefined,
  change: (payload: CborValue, opened: Opened) => CborValue | CborValue[] | null = (p) => p,
): Uint8Array[] {
  let chain: { seq: number; prev?: Uint8Array } | undefined;
  const out: Uint8Array[] = [];
  for (const bytes of envelopes) {
    const opened = openEnvelope(bytes, keyOf);
    if (opened.header.sender !== keys.keyId) {
      out.push(bytes);
      continue;
    }
    chain ??= { seq: opened.header.seq, ...(opened.header.seq > 0 && { prev: opened.header.prev }) };
    const changed = change(structuredClone(opened.payload) as CborValue, { ...opened, bytes });
    if (changed === null) continue;
    // Every payload is a map, so an array is a list of payloads.
    for (const payload of Array.isArray(changed) ? changed : [changed]) {
      const sealed = sealEnvelope(
        {
          type: opened.header.type,
          session: opened.header.session,
          seq: chain.seq,
          ...(chain.prev && { prev: chain.prev }),
          created: opened.header.created,
          payload: payload as CborValue,
        },
        { keyId: keys.keyId, secretKey: keys.signing.secretKey },
      );
      chain = { seq: chain.seq + 1, prev: sealed.hash };
      out.push(sealed.bytes);
    }
  }
  return out;
}

/** Seals one more envelope at the end of `keys`' chain in `envelopes`. */
export function appendToChain(
  envelopes: Uint8Array[],
  keys: LabKeys,
  keyOf: (id: string) => Uint8Array | undefined,
  type: OpenedEnvelope['header']['type'],
  payload: CborValue,
  created: number,
): Uint8Array {
  const last = envelopes.map((bytes) => openEnvelope(bytes, keyOf)).findLast((e) => e.header.sender === keys.keyId);
  return sealEnvelope(
    {
      type,
      session: (last ?? openEnvelope(envelopes[0] as Uint8Array, keyOf)).header.session,
      seq: last ? last.header.seq + 1 : 0,
      ...(last && { prev: last.hash }),
      created,
      payload,
    },
    { keyId: keys.keyId, secretKey: keys.signing.secretKey },
  ).bytes;
}

export { decodeTranscript };
