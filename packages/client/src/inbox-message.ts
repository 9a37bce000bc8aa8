/**
 * What a lab makes of one item of its inbox (spec/relay-api.md §3): the message it stands for, or
 * why the lab must refuse it. The relay's host may be compromised, so nothing it hands out is
 * taken on its word: the envelope must open (deterministic encoding, the signer's enrolled key, the
 * payload's digest) and be of this session; a blind task's envelope is its source, whose sender,
 * type and place LabSession checks (provenance); anything else — the proof request, the challenge,
 * result rows, an abort — must be an envelope the relay's own key signed, of the item's type.
 */
import { equalBytes } from '@overlap/crypto';
import {
  decodeDeterministic,
  type InboxItem,
  type LabSession,
  parseMessage,
  StreamedResultRows,
  type VerifiedEnvelope,
  verifyEnvelope,
} from '@overlap/protocol';

/** What LabSession is handed: a message, or result rows to read one row at a time. */
export type LabInput = Parameters<LabSession['receive']>[0];

export interface InboxContext {
  sessionId: Uint8Array;
  /** Signing keys of the session's labs and of the relay. */
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
  relayKeyId: string;
}

/** The message of an inbox item, or `{ refused }` with the reason a lab refuses it. */
export function inboxMessage(item: InboxItem, context: InboxContext): LabInput | { refused: string } {
  // The payload is decoded below as its type needs: result rows one row at a time.
  let verified: VerifiedEnvelope;
  try {
    verified = verifyEnvelope(item.envelope, context.publicKeyOf);
  } catch (error) {
    return { refused: `inbox item ${item.n}: its envelope does not open (${(error as Error).message})` };
  }
  const { header, payloadBytes } = verified;
  if (!equalBytes(header.session, context.sessionId)) {
    return { refused: `inbox item ${item.n}: an envelope of another session` };
  }
  try {
    if (item.type === 'blind_task') {
      if (item.hop === undefined) throw new Error('a blind task without a hop');
      const chunk = parseMessage('tag_chunk', decodeDeterministic(payloadBytes));
      return { type: 'blind_task', body: { ...chunk, hop: item.hop, source: item.envelope } };
    }
    if (header.sender !== context.relayKeyId || header.type !== item.type) {
      throw new Error(`a ${header.type} from ${header.sender} where a ${item.type} of the relay belongs`);
    }
    switch (item.type) {
      case 'result_rows':
        // Result rows (~20 MB for a million-item set sharing 30%) go to LabSession to be read and
        // checked one row at a time.
        return { type: 'result_rows', body: new StreamedResultRows(payloadBytes) };
      case 'proof_request':
        return { type: 'proof_request', body: parseMessage('proof_request', decodeDeterministic(payloadBytes)) };
      case 'challenge':
        return { type: 'challenge', body: parseMessage('challenge', decodeDeterministic(payloadBytes)) };
      default:
        return { type: 'abort', body: parseMessage('abort', decodeDeterministic(payloadBytes)) };
    }
  } catch (error) {
    return { refused: `inbox item ${item.n}: ${(error as Error).message}` };
  }
}
