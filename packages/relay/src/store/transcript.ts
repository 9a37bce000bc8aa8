/**
 * A session's transcript (spec/relay-api.md §3 `transcript`; the type is @overlap/protocol's
 * wire/transcript.ts, which auditors decode strictly): the membership entries and every envelope of
 * the session, each in log order with its receipt, the checkpoints those receipts name plus the
 * latest, and a consistency proof between each consecutive pair. The read model (read-model.ts)
 * gathers the rows; this puts them together.
 *
 * Membership entries come with receipts too: an auditor checks, by log index, who was enrolled or
 * revoked before each envelope, so those indexes must be proven as well. Everything stops at the
 * latest signed checkpoint, so an auditor can check all of it against one signed tree head.
 */
import type { Receipt } from '@overlap/log';
import type { Transcript } from '@overlap/protocol';
import type { RelayPublicIdentity } from '../relay.js';

export interface TranscriptParts {
  session: Uint8Array;
  latest: { size: number; note: string };
  identity: RelayPublicIdentity;
  adminKey: Uint8Array;
  /** Membership entries below the latest checkpoint's size, in log order. */
  membership: readonly { index: number; envelope: Uint8Array }[];
  /** The session's entries below the latest checkpoint's size, in log order. */
  envelopes: readonly { index: number; envelope: Uint8Array }[];
  receipt(index: number): Receipt;
  consistencyProof(from: number, to: number): Uint8Array[];
}

export function buildTranscript(parts: TranscriptParts): Transcript {
  const checkpoints = new Map<number, string>([[parts.latest.size, parts.latest.note]]);
  const withReceipt = (entry: { index: number; envelope: Uint8Array }) => {
    const receipt = parts.receipt(entry.index);
    checkpoints.set(Number(receipt.checkpoint.split('\n')[1]), receipt.checkpoint);
    return { index: entry.index, envelope: entry.envelope, receipt };
  };
  const envelopes = parts.envelopes.map(withReceipt);
  const membership = parts.membership.map(withReceipt);
  const sizes = [...checkpoints.keys()].sort((a, b) => a - b);
  const consistency = sizes.slice(1).map((to, i) => {
    const from = sizes[i] as number;
    return { from, to, proof: parts.consistencyProof(from, to) };
  });
  const { identity } = parts;
  return {
    version: 1,
    relay: {
      origin: identity.origin,
      log_key: identity.publicKey,
      relay_key_id: identity.keyId,
      admin_key: parts.adminKey,
    },
    session: parts.session,
    membership,
    envelopes,
    checkpoints: sizes.map((size) => ({ size, note: checkpoints.get(size) as string })),
    consistency,
  };
}
