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
 * With witnesses, the newest checkpoint they cosigned comes too (`witnessed`), its size among the
 * checkpoints: an auditor's witness policy is checked on it.
 */
import { formatSignedNote, parseSignedNote, type Receipt } from '@overlap/log';
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
  /** The newest checkpoint the witnesses cosigned (its size at most the latest's), if any. */
  witnessed?: { size: number; note: string } | undefined;
}

export function buildTranscript(parts: TranscriptParts): Transcript {
  const checkpoints = new Map<number, string>([[parts.latest.size, parts.latest.note]]);
  // The witnessed checkpoint's size is listed with the log's own note of it (the cosigned note
  // without the cosignature lines), so that the consistency proofs cover it too.
  const { witnessed } = parts;
  const cosigned = witnessed !== undefined && witnessed.size <= parts.latest.size ? witnessed : undefined;
  if (cosigned !== undefined && !checkpoints.has(cosigned.size))
    checkpoints.set(cosigned.size, logNoteOf(cosigned.note, parts.identity.origin));
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
    ...(cosigned !== undefined && { witnessed: { size: cosigned.size, note: cosigned.note } }),
  };
}

/** The note with only the log's own signature lines (those under its origin's name). */
function logNoteOf(note: string, origin: string): string {
  const signed = parseSignedNote(note);
  return formatSignedNote({ text: signed.text, signatures: signed.signatures.filter((s) => s.name === origin) });
}
